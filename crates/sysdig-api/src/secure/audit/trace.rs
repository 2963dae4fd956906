//! `GET /api/v1/activityAudit/events/{type}/{id}/trace`: `{"data": [...]}`, the events traced
//! from a traceable event. An unknown event (or a type that is not the event's) is a 404; an
//! event that is not traceable is a 400.

use axum::{extract::State, response::Response};
use serde_json::{Value, json};

use super::KIND;
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{P, ok},
    secure::SecureCaller,
};

pub async fn trace(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P((kind, id)): P<(String, String)>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let event = state
        .tx(move |c| Ok(c.secure_event_get(KIND, team, &id)?))
        .await?
        .filter(|e| e.doc.get("type").and_then(Value::as_str) == Some(kind.as_str()))
        .ok_or_else(|| SdcError::not_found("Activity audit event not found"))?;
    if event.doc.get("traceable").and_then(Value::as_bool) != Some(true) {
        return Err(SdcError::bad_request(format!(
            "Activity audit event '{}' is not traceable",
            event.id
        )));
    }
    let data = event.doc.get("trace").cloned().unwrap_or_else(|| json!([]));
    Ok(ok(json!({ "data": data })))
}
