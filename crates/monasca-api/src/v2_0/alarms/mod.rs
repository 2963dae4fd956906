//! `/v2.0/alarms`, `/v2.0/alarms/count` and the state history.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    body::Body,
    extract::FromRef,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    routing::get,
};
use config_repo::monasca::{
    AlarmChange, AlarmFilter as Filters, AlarmRecord as AlarmRow, DimensionMatch, HistoryQuery,
    HistoryRecord, NewHistoryEntry, in_unit,
};
use metric_store::DimMatch;
use monasca::types::{
    Alarm, AlarmCounts, AlarmDefinitionRef, AlarmState, Envelope, Link, SelfLink, Severity,
    StateHistoryEntry,
};
use serde_json::Value;

use super::{BaseUrl, Tenant, alarm_definitions::severity_filter, body, params::Query};
use crate::{MonascaState, error::ApiError};

const SORT_FIELDS: [&str; 10] = [
    "alarm_id",
    "alarm_definition_id",
    "alarm_definition_name",
    "state",
    "severity",
    "lifecycle_state",
    "link",
    "state_updated_timestamp",
    "updated_timestamp",
    "created_timestamp",
];
const GROUP_BY: [&str; 9] = [
    "alarm_definition_id",
    "name",
    "state",
    "severity",
    "link",
    "lifecycle_state",
    "metric_name",
    "dimension_name",
    "dimension_value",
];

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route("/v2.0/alarms", get(list))
        .route("/v2.0/alarms/count", get(count))
        .route("/v2.0/alarms/state-history", get(history_all))
        .route(
            "/v2.0/alarms/{id}",
            get(show).put(replace).patch(patch).delete(delete),
        )
        .route("/v2.0/alarms/{id}/state-history", get(history_one))
}

fn root(base: &BaseUrl) -> String {
    let url = base.url();
    match url.find("/v2.0/") {
        Some(i) => url[..i + 5].to_string(),
        None => url,
    }
}

fn to_wire(root: &str, a: AlarmRow) -> Alarm {
    Alarm {
        links: vec![SelfLink {
            href: format!("{root}/alarms/{}", a.id),
            rel: "self".into(),
        }],
        alarm_definition: AlarmDefinitionRef {
            links: vec![SelfLink {
                href: format!("{root}/alarm-definitions/{}", a.definition_id),
                rel: "self".into(),
            }],
            id: a.definition_id,
            name: a.definition_name,
            severity: a.severity,
        },
        id: a.id,
        metrics: a.metrics,
        state: a.state,
        lifecycle_state: a.lifecycle_state,
        link: a.link,
        state_updated_timestamp: monasca::time::format_millis(a.state_updated_at),
        updated_timestamp: monasca::time::format_millis(a.updated_at),
        created_timestamp: monasca::time::format_millis(a.created_at),
    }
}

fn state_filter(q: &Query) -> Result<Option<AlarmState>, ApiError> {
    let Some(s) = q.first("state") else {
        return Ok(None);
    };
    AlarmState::parse_any_case(s).map(Some).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid State",
            format!("State {s} must be one of ['ALARM', 'OK', 'UNDETERMINED']"),
        )
    })
}

/// A state as the engine takes it: one this server never writes counts as UNDETERMINED.
fn effective_state(s: &AlarmState) -> AlarmState {
    if s.is_known() {
        s.clone()
    } else {
        AlarmState::Undetermined
    }
}

/// The filters shared by the alarm list and count.
fn parse_filters(q: &Query) -> Result<Filters, ApiError> {
    let state = state_filter(q)?;
    let severities = severity_filter(q)?;
    // `metric_dimensions` follows the metrics API's `dimensions` syntax and checks.
    let metric_dimensions = dimension_matches(q.dimensions_in("metric_dimensions")?);
    let state_updated_start = q.time("state_updated_start_time", None)?;
    Ok(Filters {
        definition_id: q.first("alarm_definition_id").map(str::to_string),
        metric_name: q.first("metric_name").map(str::to_string),
        metric_dimensions,
        state,
        severities,
        lifecycle_state: q.first("lifecycle_state").map(str::to_string),
        link: q.first("link").map(str::to_string),
        state_updated_start,
    })
}

fn dimension_matches(dims: Vec<(String, DimMatch)>) -> Vec<(String, DimensionMatch)> {
    dims.into_iter()
        .map(|(k, m)| {
            let m = match m {
                DimMatch::Exists => DimensionMatch::Exists,
                DimMatch::AnyOf(vs) => DimensionMatch::AnyOf(vs),
            };
            (k, m)
        })
        .collect()
}

fn state_rank(s: &AlarmState) -> u8 {
    match s {
        AlarmState::Ok => 0,
        AlarmState::Undetermined => 1,
        _ => 2,
    }
}

fn severity_rank(s: &Severity) -> u8 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        _ => 3,
    }
}

fn compare(field: &str, a: &AlarmRow, b: &AlarmRow) -> std::cmp::Ordering {
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

async fn list(
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

async fn show(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Alarm>, ApiError> {
    let a = state.repos.alarms.get(&tenant, &id).await?;
    Ok(Json(to_wire(&root(&base), a)))
}

fn schema_err(what: &str, key: &str) -> ApiError {
    ApiError::unprocessable(format!("{what} for dictionary value @ data['{key}']"))
}

/// Upstream's update schema; its failures are 500s there, 422s here.
fn optional_string(
    m: &serde_json::Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => Err(schema_err(
            &format!("length of value must be at most {max}"),
            key,
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(schema_err("expected str", key)),
    }
}

async fn update(
    tenant: String,
    state: MonascaState,
    base: BaseUrl,
    id: String,
    body: Body,
    partial: bool,
) -> Result<Json<Alarm>, ApiError> {
    let v = body::json(body, state.max_body_bytes).await?;
    let Value::Object(m) = &v else {
        return Err(ApiError::unprocessable("expected a dictionary"));
    };
    let new_state = match m.get("state") {
        None => None,
        // Upstream only takes upper case (and answers anything else with a 500); any case is
        // taken here, as the real CLI checks it.
        Some(Value::String(s)) if AlarmState::parse_any_case(s).is_some() => {
            AlarmState::parse_any_case(s)
        }
        Some(_) => return Err(schema_err("not a valid value", "state")),
    };
    let lifecycle = optional_string(m, "lifecycle_state", 50)?;
    let link = optional_string(m, "link", 512)?;
    if !partial {
        for (key, present) in [
            ("state", new_state.is_some()),
            (
                "lifecycle_state",
                lifecycle.as_ref().is_some_and(|s| !s.is_empty()),
            ),
            ("link", link.as_ref().is_some_and(|s| !s.is_empty())),
        ] {
            if !present {
                return Err(ApiError::unprocessable(format!(
                    "Field '{key}' is required"
                )));
            }
        }
    }
    let engine = state.alarms.clone();
    let updated = in_unit(state.repos.units.as_ref(), move |unit| {
        let Some(old) = unit.alarm(&tenant, &id)? else {
            return Err(ApiError::not_found());
        };
        let to = new_state.unwrap_or(old.state.clone());
        let now = engine.now_ms();
        let (from, to_state) = (effective_state(&old.state), effective_state(&to));
        let change = AlarmChange {
            state: (to_state != from).then(|| to_state.clone()),
            lifecycle_state: lifecycle.or(old.lifecycle_state.clone()),
            link: link.or(old.link.clone()),
        };
        unit.update_alarm(&id, &change, now)?;
        if change.state.is_some() {
            unit.append_history(&NewHistoryEntry {
                tenant: tenant.clone(),
                alarm_id: id.clone(),
                time_ms: now,
                metrics: old.metrics.clone(),
                // A state this server never writes is recorded as the engine saw it.
                old_state: from,
                new_state: to,
                reason: "Alarm state updated via API".into(),
                sub_alarms: Vec::new(),
            })?;
        }
        // Read back inside the unit, and tell the engine before the database is released:
        // the engine waits for it, so the answer shows this update, not a re-evaluation
        // that may follow it.
        let row = unit.alarm(&tenant, &id)?;
        let AlarmChange {
            lifecycle_state,
            link,
            ..
        } = change;
        unit.after_commit(Box::new(move || {
            engine.alarm_updated(&id, &to_state, link, lifecycle_state);
        }));
        row.ok_or_else(ApiError::not_found)
    })
    .await?;
    Ok(Json(to_wire(&root(&base), updated)))
}

async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Alarm>, ApiError> {
    update(tenant, state, base, id, body, false).await
}

async fn patch(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Alarm>, ApiError> {
    update(tenant, state, base, id, body, true).await
}

async fn delete(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.repos.alarms.delete(&tenant, &id).await?;
    state.alarms.alarm_deleted(&id);
    Ok(StatusCode::NO_CONTENT)
}

async fn count(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<AlarmCounts>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filters = parse_filters(&q)?;
    let group_by: Vec<String> = q
        .all("group_by")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::to_string)
        .collect();
    if let Some(bad) = group_by.iter().find(|g| !GROUP_BY.contains(&g.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "One or more group-by values from ['{bad}'] are not in {{{}}}",
            GROUP_BY
                .iter()
                .map(|g| format!("'{g}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let offset = match q.offset() {
        None => 0,
        Some(o) => o.parse::<usize>().map_err(|_| {
            ApiError::unprocessable(format!("Offset must be a valid integer, was {o}"))
        })?,
    };
    let limit = q.limit()?;
    // The definition filter reads through its index; the count takes every filter the same.
    let rows: Vec<AlarmRow> = state.repos.alarms.list(&tenant, filters).await?;
    // Each alarm counts once per distinct combination of the grouped values.
    let mut counts: BTreeMap<Vec<Option<String>>, i64> = BTreeMap::new();
    for a in &rows {
        let per_metric = group_by.iter().any(|g| {
            matches!(
                g.as_str(),
                "metric_name" | "dimension_name" | "dimension_value"
            )
        });
        let mut combos: Vec<Vec<Option<String>>> = Vec::new();
        let fixed = |g: &str| -> Option<String> {
            match g {
                "alarm_definition_id" => Some(a.definition_id.clone()),
                "name" => Some(a.definition_name.clone()),
                "state" => Some(a.state.to_string()),
                "severity" => Some(a.severity.to_string()),
                "link" => a.link.clone(),
                "lifecycle_state" => a.lifecycle_state.clone(),
                _ => None,
            }
        };
        if per_metric {
            for m in &a.metrics {
                let dims: Vec<(Option<String>, Option<String>)> = if m.dimensions.is_empty() {
                    vec![(None, None)]
                } else {
                    m.dimensions
                        .iter()
                        .map(|(k, v)| (Some(k.clone()), Some(v.clone())))
                        .collect()
                };
                for (dk, dv) in dims {
                    combos.push(
                        group_by
                            .iter()
                            .map(|g| match g.as_str() {
                                "metric_name" => Some(m.name.clone()),
                                "dimension_name" => dk.clone(),
                                "dimension_value" => dv.clone(),
                                other => fixed(other),
                            })
                            .collect(),
                    );
                }
            }
        } else {
            combos.push(group_by.iter().map(|g| fixed(g)).collect());
        }
        combos.sort();
        combos.dedup();
        for c in combos {
            *counts.entry(c).or_default() += 1;
        }
    }
    let mut columns = vec!["count".to_string()];
    columns.extend(group_by.iter().cloned());
    let all: Vec<Vec<Value>> = counts
        .into_iter()
        .map(|(k, n)| {
            let mut row = vec![Value::from(n)];
            row.extend(
                k.into_iter()
                    .map(|v| v.map(Value::String).unwrap_or(Value::Null)),
            );
            row
        })
        .collect();
    let mut links = vec![Link {
        rel: "self".into(),
        href: q.links(&base.url(), None)[0].href.clone(),
    }];
    let counts = if all.is_empty() {
        let mut row = vec![Value::from(0)];
        row.extend(group_by.iter().map(|_| Value::Null));
        vec![row]
    } else {
        let more = all.len() > offset.saturating_add(limit);
        if more {
            links = q.row_links(&base.url(), offset, limit, true);
        }
        all.into_iter().skip(offset).take(limit).collect()
    };
    Ok(Json(AlarmCounts {
        links,
        columns,
        counts,
    }))
}

/// A history offset: epoch milliseconds or ISO 8601 (strictly after, as upstream), or the
/// `<ms>_<seq>` this server puts in `next` links so entries of the same millisecond are not
/// skipped.
fn history_offset(o: &str) -> Result<(i64, i64), ApiError> {
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

async fn history_page(
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

fn history_entry(h: HistoryRecord) -> StateHistoryEntry {
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

async fn history_all(
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

async fn history_one(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<StateHistoryEntry>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    history_page(&state, &base, &q, tenant, vec![id], None, None).await
}
