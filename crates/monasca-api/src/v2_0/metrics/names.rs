//! `GET /v2.0/metrics/names`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use metric_store::SeriesFilter;
use monasca::types::{Envelope, MetricName};

use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{
        BaseUrl, Tenant,
        params::{Query, page_names},
    },
};

pub async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<MetricName>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filter = SeriesFilter {
        tenant,
        name: None,
        dimensions: q.dimensions()?,
    };
    let limit = q.limit()?;
    let names = state.store.metric_names(&filter).await?;
    let (page, next) = page_names(names, q.offset(), limit);
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements: page.into_iter().map(|name| MetricName { name }).collect(),
    }))
}
