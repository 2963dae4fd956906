//! `POST /vigil/sysdig/secure/activityAudit/events` (emulator only): stores activity-audit
//! events for the caller's Secure team. Each needs a `type` (command, connection, kubernetes,
//! fileaccess); one with a non-empty `trace` (an array of events) is traceable.

use axum::{extract::State, response::Response};
use serde_json::{Map, Value};

use super::{KIND, TYPES, render};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::JsonBody,
    secure::{
        SecureCaller,
        ingest::{ingest_events, str_field},
    },
};

/// Checks event `i`: its type, its labels and its trace (whose events get an id, a time and
/// the parent's type when they have none).
fn checked(i: usize, mut m: Map<String, Value>) -> SdcResult<Map<String, Value>> {
    let kind = str_field(&m, i, "type", "")?;
    if !TYPES.contains(&kind.as_str()) {
        return Err(SdcError::bad_request(format!(
            "Event {i}: field 'type' must be one of {}",
            TYPES.join(", ")
        )));
    }
    if m.get("labels").is_some_and(|l| {
        !l.as_object()
            .is_some_and(|o| o.values().all(Value::is_string))
    }) {
        return Err(SdcError::bad_request(format!(
            "Event {i}: field 'labels' must be an object of strings"
        )));
    }
    let trace = match m.remove("trace") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(SdcError::bad_request(format!(
                "Event {i}: field 'trace' must be an array of events"
            )));
        }
    };
    let now = jiff::Timestamp::now().as_nanosecond() as i64;
    let trace = trace
        .into_iter()
        .enumerate()
        .map(|(j, t)| match t {
            Value::Object(mut t) => {
                t.entry("id")
                    .or_insert_with(|| uuid::Uuid::new_v4().simple().to_string().into());
                t.entry("type").or_insert_with(|| kind.clone().into());
                t.entry("timestamp").or_insert_with(|| now.into());
                t.entry("traceable").or_insert(false.into());
                Ok(Value::Object(t))
            }
            _ => Err(SdcError::bad_request(format!(
                "Event {i}: trace entry {j} must be an object"
            ))),
        })
        .collect::<SdcResult<Vec<_>>>()?;
    m.insert("traceable".into(), (!trace.is_empty()).into());
    if !trace.is_empty() {
        m.insert("trace".into(), trace.into());
    }
    Ok(m)
}

pub async fn ingest(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    JsonBody(body): JsonBody,
) -> SdcResult<Response> {
    ingest_events(&state, &caller, body, KIND, checked, render).await
}
