//! `PUT /v2.0/alarms/{id}`, and the change `PATCH` shares: state (with a history entry
//! when it moves), lifecycle state and link.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
};
use config_repo::monasca::{AlarmChange, NewHistoryEntry, in_unit};
use monasca::types::{Alarm, AlarmState};
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

pub(super) async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Alarm>, ApiError> {
    update(tenant, state, base, id, body, false).await
}
