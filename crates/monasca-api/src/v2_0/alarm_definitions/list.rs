//! `GET /v2.0/alarm-definitions`: by name, severity and dimensions, sorted and paged.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use config_repo::monasca::{DefinitionQuery, DefinitionSort, Paging};
use monasca::types::{AlarmDefinition, Envelope};

use monasca::alarms::DEFINITION_SORT_FIELDS as SORT_FIELDS;

use super::{collection, severity_filter, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub(super) async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<AlarmDefinition>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let name = q.first("name").map(str::to_string);
    let dimensions = q
        .all("dimensions")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|item| {
            let (k, v) = item.split_once(':').unwrap_or((item, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let severities = severity_filter(&q)?;
    let sort = q
        .sort_by(&SORT_FIELDS)?
        .into_iter()
        .filter_map(|(f, desc)| DefinitionSort::from_field(&f).map(|f| (f, desc)))
        .collect();
    let offset = q.row_offset()?;
    let limit = q.limit()?;
    let query = DefinitionQuery {
        tenant,
        name,
        severities,
        dimensions,
        sort,
        paging: Paging { offset, limit },
    };
    let page = state.repos.alarm_definitions.list(query).await?;
    let coll = collection(&base);
    Ok(Json(Envelope {
        links: q.row_links(&base.url(), offset, limit, page.more),
        elements: page.items.into_iter().map(|d| to_wire(&coll, d)).collect(),
    }))
}
