//! What the emulator's ingestion routes (`/vigil/sysdig/secure/...`) share: a body of one
//! event, an array of them or `{"events": [...]}`, each with an optional `id` (generated when
//! missing) and `timestamp` (nanoseconds, now when missing), stored in one transaction so that
//! an acknowledged batch is durable as a whole.

use axum::response::Response;
use config_repo::sysdig::{Document, NewSecureEvent, SecureEvent, SysdigTx};
use serde_json::{Value, json};

use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::created,
    secure::SecureCaller,
};

/// An ingestion route's whole job: the body's events, each checked and completed by `check`,
/// stored as `kind` for the caller's team in one transaction, answered 201 as `render` shows
/// them.
pub async fn ingest_events(
    state: &SysdigState,
    caller: &SecureCaller,
    body: Value,
    kind: &'static str,
    check: fn(usize, Document) -> SdcResult<Document>,
    render: fn(&SecureEvent, &str) -> Value,
) -> SdcResult<Response> {
    caller.require_write()?;
    let docs = events_of(body)?
        .into_iter()
        .enumerate()
        .map(|(i, m)| check(i, m))
        .collect::<SdcResult<Vec<_>>>()?;
    let team = caller.team_id();
    let stored = state
        .tx(move |c| {
            docs.into_iter()
                .enumerate()
                .map(|(i, d)| store(c, kind, team, i, d))
                .collect::<SdcResult<Vec<_>>>()
        })
        .await?;
    let data: Vec<Value> = stored.iter().map(|e| render(e, "")).collect();
    Ok(created(json!({ "data": data })))
}

/// The most events one request may carry.
pub const MAX_BATCH: usize = 1000;

/// The events of a request body.
///
/// # Errors
/// A body that is not an event, an array of events or `{"events": [...]}`, or too many.
pub fn events_of(body: Value) -> SdcResult<Vec<Document>> {
    let items = match body {
        Value::Array(a) => a,
        Value::Object(mut m) => match m.remove("events") {
            Some(Value::Array(a)) if m.is_empty() => a,
            Some(_) => {
                return Err(SdcError::bad_request(
                    "Field 'events' must be an array of events",
                ));
            }
            None => vec![Value::Object(m)],
        },
        _ => {
            return Err(SdcError::bad_request(
                "The request body must be an event, an array of events or {\"events\": [...]}",
            ));
        }
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(SdcError::bad_request(format!(
            "Send between 1 and {MAX_BATCH} events"
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(m) => Ok(m),
            _ => Err(SdcError::bad_request(format!(
                "Event {i} must be a JSON object"
            ))),
        })
        .collect()
}

/// The optional string field `name` of event `i`, or `default`.
pub fn str_field(m: &Document, i: usize, name: &str, default: &str) -> SdcResult<String> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(default.into()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(SdcError::bad_request(format!(
            "Event {i}: field '{name}' must be a string"
        ))),
    }
}

/// Takes `id` and `timestamp` out of event `i` and stores it.
///
/// # Errors
/// A bad id or timestamp, or an id the team already has for this kind (409).
pub fn store(
    c: &dyn SysdigTx,
    kind: &str,
    team: i64,
    i: usize,
    mut doc: Document,
) -> SdcResult<SecureEvent> {
    let id = match doc.remove("id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().simple().to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(SdcError::bad_request(format!(
                "Event {i}: field 'id' must be a non-empty string of at most 128 characters"
            )));
        }
    };
    let ts_ns = match doc.remove("timestamp") {
        None | Some(Value::Null) => jiff::Timestamp::now().as_nanosecond() as i64,
        Some(v) => v.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
            SdcError::bad_request(format!(
                "Event {i}: field 'timestamp' must be a non-negative integer (nanoseconds)"
            ))
        })?,
    };
    doc.remove("cursor");
    doc.remove("customerId");
    c.secure_event_insert(kind, team, &NewSecureEvent { id, ts_ns, doc })
        .map_err(|e| match e {
            config_repo::RepoError::Conflict(m) => SdcError::conflict(format!("Event {i}: {m}")),
            e => e.into(),
        })
}
