//! `GET /v2.0/alarms/state-history` and `GET /v2.0/alarms/{id}/state-history`, paged by
//! time and position.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
};
use config_repo::monasca::{AlarmFilter as Filters, HistoryQuery, HistoryRecord};
use monasca::types::{Envelope, StateHistoryEntry};

use super::dimension_matches;
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

/// A history offset: epoch milliseconds or ISO 8601 (strictly after, as upstream), or the
/// `<ms>_<seq>` this server puts in `next` links so entries of the same millisecond are not
/// skipped.
pub(super) fn history_offset(o: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::unprocessable(format!("Invalid offset {o}"));
    if let Some((ms, seq)) = o.split_once('_') {
        return Ok((
            ms.parse().map_err(|_| bad())?,
            seq.parse().map_err(|_| bad())?,
        ));
    }
    if !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()) {
        return Ok((o.parse().map_err(|_| bad())?, i64::MAX));
    }
    let t = monasca::time::parse_iso8601(o).map_err(|_| bad())?;
    Ok((t.as_millisecond(), i64::MAX))
}

pub(super) async fn history_page(
    state: &MonascaState,
    base: &BaseUrl,
    q: &Query,
    tenant: String,
    alarm_ids: Vec<String>,
    start: Option<i64>,
    end: Option<i64>,
) -> Result<Json<Envelope<StateHistoryEntry>>, ApiError> {
    let after = q.offset().map(history_offset).transpose()?;
    let limit = q.limit()?;
    let query = HistoryQuery {
        tenant,
        alarm_ids,
        start,
        end,
        after,
        limit: limit.saturating_add(1),
    };
    let rows = state.repos.state_history.list(query).await?;
    let more = rows.len() > limit;
    let page: Vec<_> = rows.into_iter().take(limit).collect();
    let next = if more {
        page.last().map(|r| format!("{}_{}", r.time_ms, r.seq))
    } else {
        None
    };
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements: page.into_iter().map(history_entry).collect(),
    }))
}

pub(super) fn history_entry(h: HistoryRecord) -> StateHistoryEntry {
    StateHistoryEntry {
        timestamp: monasca::time::format_millis(h.time_ms),
        alarm_id: h.alarm_id,
        metrics: h.metrics,
        new_state: h.new_state,
        old_state: h.old_state,
        reason: h.reason,
        reason_data: h.reason_data,
        sub_alarms: h.sub_alarms,
        id: h.time_ms.to_string(),
    }
}

pub(super) async fn history_all(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<StateHistoryEntry>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let start = q.time("start_time", None)?;
    let end = q.time("end_time", None)?;
    let dims = q.dimensions()?;
    let filters = Filters {
        metric_dimensions: dimension_matches(dims),
        ..Filters::default()
    };
    let ids: Vec<String> = state
        .repos
        .alarms
        .list(&tenant, filters)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    history_page(&state, &base, &q, tenant, ids, start, end).await
}

pub(super) async fn history_one(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<StateHistoryEntry>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    history_page(&state, &base, &q, tenant, vec![id], None, None).await
}
