//! `GET /v2.0/alarms`: filtered, sorted by any shown field, paged.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use config_repo::monasca::AlarmRecord as AlarmRow;
use monasca::types::{Alarm, AlarmState, Envelope, Severity};

use monasca::alarms::ALARM_SORT_FIELDS as SORT_FIELDS;

use super::{parse_filters, root, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub(super) fn state_rank(s: &AlarmState) -> u8 {
    match s {
        AlarmState::Ok => 0,
        AlarmState::Undetermined => 1,
        _ => 2,
    }
}

pub(super) fn severity_rank(s: &Severity) -> u8 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        _ => 3,
    }
}

pub(super) fn compare(field: &str, a: &AlarmRow, b: &AlarmRow) -> std::cmp::Ordering {
    match field {
        "alarm_id" => a.id.cmp(&b.id),
        "alarm_definition_id" => a.definition_id.cmp(&b.definition_id),
        "alarm_definition_name" => a.definition_name.cmp(&b.definition_name),
        "state" => state_rank(&a.state).cmp(&state_rank(&b.state)),
        "severity" => severity_rank(&a.severity).cmp(&severity_rank(&b.severity)),
        "lifecycle_state" => a.lifecycle_state.cmp(&b.lifecycle_state),
        "link" => a.link.cmp(&b.link),
        "state_updated_timestamp" => a.state_updated_at.cmp(&b.state_updated_at),
        "updated_timestamp" => a.updated_at.cmp(&b.updated_at),
        _ => a.created_at.cmp(&b.created_at),
    }
}

pub(super) async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<Alarm>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filters = parse_filters(&q)?;
    let sort = q.sort_by(&SORT_FIELDS)?;
    let offset = q.row_offset()?;
    let limit = q.limit()?;
    let mut rows = state.repos.alarms.list(&tenant, filters).await?;
    rows.sort_by(|a, b| {
        for (f, desc) in &sort {
            let o = compare(f, a, b);
            let o = if *desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        a.id.cmp(&b.id)
    });
    let more = rows.len() > offset.saturating_add(limit);
    let root = root(&base);
    let elements = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|a| to_wire(&root, a))
        .collect();
    Ok(Json(Envelope {
        links: q.row_links(&base.url(), offset, limit, more),
        elements,
    }))
}
