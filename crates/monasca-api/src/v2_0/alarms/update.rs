//! `PUT /v2.0/alarms/{id}`, and the change `PATCH` shares: state (with a history entry
//! when it moves), lifecycle state and link.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
};
use config_repo::monasca::{AlarmChange, AlarmRecord, MonascaUnit, NewHistoryEntry, in_unit};
use monasca::types::{Alarm, AlarmState, AlarmTransitionedEvent};
use serde_json::Value;

use super::{root, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, body, schema},
};

pub(super) fn schema_err(what: &str, key: &str) -> ApiError {
    ApiError::unprocessable(schema::value(what, key))
}

/// Upstream's update schema; its failures are 500s there, 422s here.
pub(super) fn optional_string(
    m: &serde_json::Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => schema::string(v, key, max)
            .map(Some)
            .map_err(ApiError::unprocessable),
    }
}

/// A state as the engine takes it: one this server never writes counts as UNDETERMINED.
pub(super) fn effective_state(s: &AlarmState) -> AlarmState {
    if s.is_known() {
        s.clone()
    } else {
        AlarmState::Undetermined
    }
}

pub(super) async fn update(
    tenant: String,
    state: MonascaState,
    base: BaseUrl,
    id: String,
    body: Body,
    partial: bool,
) -> Result<Json<Alarm>, ApiError> {
    let v = body::json(body, state.max_body_bytes).await?;
    let Value::Object(m) = &v else {
        return Err(ApiError::unprocessable(schema::NOT_A_DICT));
    };
    let new_state = match m.get("state") {
        None => None,
        // Upstream only takes upper case (and answers anything else with a 500); any case is
        // taken here, as the real CLI checks it.
        Some(v) => Some(
            v.as_str()
                .and_then(AlarmState::parse_any_case)
                .ok_or_else(|| schema_err("not a valid value", "state"))?,
        ),
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
    let wake = state.notifications.wake.clone();
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
        let mut queued = 0;
        if change.state.is_some() {
            let history = NewHistoryEntry {
                tenant: tenant.clone(),
                alarm_id: id.clone(),
                time_ms: now,
                metrics: old.metrics.clone(),
                // A state this server never writes is recorded as the engine saw it.
                old_state: from,
                new_state: to,
                reason: "Alarm state updated via API".into(),
                sub_alarms: Vec::new(),
            };
            unit.append_history(&history)?;
            // As upstream, a change through the API is a transition like any other: the
            // definition's actions for the new state are told.
            queued = notify(unit, &old, &change, history)?;
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
            if queued > 0 {
                wake();
            }
        }));
        row.ok_or_else(ApiError::not_found)
    })
    .await?;
    Ok(Json(to_wire(&root(&base), updated)))
}

/// Queues the transition `h` of alarm `old` to the actions its definition has for the new
/// state, when actions are enabled; how many deliveries were queued.
fn notify(
    unit: &dyn MonascaUnit,
    old: &AlarmRecord,
    change: &AlarmChange,
    h: NewHistoryEntry,
) -> Result<usize, ApiError> {
    let Some(def) = unit.alarm_definition(&h.tenant, &old.definition_id)? else {
        return Ok(0);
    };
    let actions = match h.new_state {
        AlarmState::Alarm => &def.alarm_actions,
        AlarmState::Ok => &def.ok_actions,
        _ => &def.undetermined_actions,
    };
    if !def.actions_enabled || actions.is_empty() {
        return Ok(0);
    }
    let event = AlarmTransitionedEvent {
        tenant_id: h.tenant,
        alarm_id: h.alarm_id,
        alarm_definition_id: def.id.clone(),
        alarm_name: def.name.clone(),
        alarm_description: def.description.clone(),
        old_state: h.old_state,
        new_state: h.new_state,
        actions_enabled: true,
        state_change_reason: h.reason,
        severity: def.severity.clone(),
        link: change.link.clone(),
        lifecycle_state: change.lifecycle_state.clone(),
        metrics: h.metrics,
        sub_alarms: Vec::new(),
        timestamp: h.time_ms,
    };
    Ok(unit.enqueue_notifications(actions, &event, h.time_ms)?)
}

pub(super) async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Alarm>, ApiError> {
    update(tenant, state, base, id, body, false).await
}
