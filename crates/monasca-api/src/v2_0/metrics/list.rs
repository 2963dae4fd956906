//! `GET /v2.0/metrics`: metric definitions, paged by their position in the ordered list.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use metric_store::TimeRange;
use monasca::types::{Envelope, MetricDefinition};

use super::filter;
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<MetricDefinition>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filter = filter(&tenant, &q, false)?;
    // The offset is the id of the last element seen: ids are positions in the ordered list.
    let skip = match q.offset() {
        None => 0,
        Some(o) => o
            .parse::<usize>()
            .map(|n| n.saturating_add(1))
            .map_err(|_| ApiError::unprocessable(format!("Invalid offset {o}")))?,
    };
    let (start, end) = q.time_range(false)?;
    let limit = q.limit()?;
    let series = state
        .store
        .find_series(&filter, TimeRange::new(start, end))
        .await?;
    let more = series.len() > skip.saturating_add(limit);
    let elements: Vec<MetricDefinition> = series
        .into_iter()
        .enumerate()
        .skip(skip)
        .take(limit)
        .map(|(i, s)| MetricDefinition {
            id: i.to_string(),
            name: s.key.name,
            dimensions: s.key.dimensions,
        })
        .collect();
    let next = more
        .then(|| elements.last().map(|e| e.id.clone()))
        .flatten();
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements,
    }))
}
