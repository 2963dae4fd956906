//! `POST /vigil/sysdig/secure/policyEvents` (emulator only): stores policy events for the
//! caller's Secure team, so that tests and demos have events to list.

use axum::{extract::State, response::Response};
use serde_json::{Value, json};

use super::{KIND, render};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::JsonBody,
    secure::{
        SecureCaller,
        ingest::{ingest_events, str_field},
    },
};

/// Checks event `i` and fills Sysdig's defaults.
fn checked(
    i: usize,
    mut m: serde_json::Map<String, Value>,
) -> SdcResult<serde_json::Map<String, Value>> {
    let name = str_field(&m, i, "name", "")?;
    if name.trim().is_empty() {
        return Err(SdcError::bad_request(format!(
            "Event {i}: field 'name' (the policy's name) is required"
        )));
    }
    for (field, default) in [
        ("description", ""),
        ("source", "syscall"),
        ("originator", "policy"),
        ("machineId", ""),
    ] {
        let v = str_field(&m, i, field, default)?;
        m.insert(field.into(), v.into());
    }
    let severity = match m.get("severity") {
        None | Some(Value::Null) => 4,
        Some(v) => v.as_i64().filter(|s| (0..=7).contains(s)).ok_or_else(|| {
            SdcError::bad_request(format!(
                "Event {i}: field 'severity' must be an integer from 0 to 7"
            ))
        })?,
    };
    m.insert("severity".into(), severity.into());
    match m.get("content") {
        None | Some(Value::Null) => {
            m.insert("content".into(), json!({}));
        }
        Some(Value::Object(_)) => {}
        Some(_) => {
            return Err(SdcError::bad_request(format!(
                "Event {i}: field 'content' must be an object"
            )));
        }
    }
    match m.get("labels") {
        None | Some(Value::Null) => {
            m.insert("labels".into(), json!({}));
        }
        Some(Value::Object(l)) if l.values().all(Value::is_string) => {}
        Some(_) => {
            return Err(SdcError::bad_request(format!(
                "Event {i}: field 'labels' must be an object of strings"
            )));
        }
    }
    if !m.contains_key("actions") {
        m.insert("actions".into(), json!([]));
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
