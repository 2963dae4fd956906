//! `GET /v2.0/metrics/dimensions/names` and `.../names/values`.

use std::collections::BTreeSet;

use axum::{
    Json,
    extract::{RawQuery, State},
};
use metric_store::TimeRange;
use monasca::types::{DimensionName, DimensionValue, Envelope};

use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{
        BaseUrl, Tenant,
        params::{Query, page_names},
    },
};

/// The metric names to restrict to: none means all. The real CLI repeats `metric_name`.
fn metric_names(q: &Query) -> Vec<Option<String>> {
    let names = q.all("metric_name");
    if names.is_empty() {
        vec![None]
    } else {
        names.into_iter().map(|n| Some(n.to_string())).collect()
    }
}

/// Upstream filters by time only when a metric name is given, and checks no order of start
/// and end; an empty range simply finds nothing.
fn time_range(q: &Query) -> Result<TimeRange, ApiError> {
    let start = q.time("start_time", None)?;
    let end = q.time("end_time", None)?;
    Ok(TimeRange::new(start, end))
}

pub async fn names(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<DimensionName>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let range = time_range(&q)?;
    let limit = q.limit()?;
    let mut all = BTreeSet::new();
    for m in metric_names(&q) {
        all.extend(
            state
                .store
                .dimension_names(&tenant, m.as_deref(), range)
                .await?,
        );
    }
    let (page, next) = page_names(all.into_iter().collect(), q.offset(), limit);
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements: page
            .into_iter()
            .map(|dimension_name| DimensionName { dimension_name })
            .collect(),
    }))
}

pub async fn values(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<DimensionValue>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let key = q
        .first("dimension_name")
        .ok_or_else(|| ApiError::unprocessable("Missing dimension_name"))?
        .to_string();
    let range = time_range(&q)?;
    let limit = q.limit()?;
    let mut all = BTreeSet::new();
    for m in metric_names(&q) {
        all.extend(
            state
                .store
                .dimension_values(&tenant, m.as_deref(), &key, range)
                .await?,
        );
    }
    let (page, next) = page_names(all.into_iter().collect(), q.offset(), limit);
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements: page
            .into_iter()
            .map(|dimension_value| DimensionValue { dimension_value })
            .collect(),
    }))
}
