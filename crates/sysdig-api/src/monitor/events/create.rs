//! `POST /api/v2/events`, and the document of a new event that v1 shares.

use axum::{extract::State, response::Response};
use config_repo::{now_ms, sysdig::Document};
use serde_json::{Map, Value, json};

use super::{KIND, normalize_scope, render};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, Kind, check_fields, created, required_str},
};

pub async fn create(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let m = body.wrapped("event")?;
    let doc = new_event(&m, "scope")?;
    let team = caller.team_id();
    let o = state
        .tx(move |c| Ok(c.obj_insert(KIND, team, doc)?))
        .await?;
    Ok(created(json!({"event": render(&o)})))
}

/// The stored document of a new custom event from the body `m`; `scope_key` names the field
/// that carries its scope (`scope` in v2, `filter` in v1). The document always says `scope`.
pub(super) fn new_event(m: &Map<String, Value>, scope_key: &str) -> SdcResult<Document> {
    check_fields(
        m,
        &[
            ("name", Kind::Str),
            ("description", Kind::Str),
            ("severity", Kind::Int),
            (scope_key, Kind::Str),
            ("tags", Kind::Obj),
            ("timestamp", Kind::Int),
        ],
    )?;
    let name = required_str(m, "name")?;
    let severity = m.get("severity").and_then(Value::as_i64);
    if severity.is_some_and(|s| !(0..=7).contains(&s)) {
        return Err(SdcError::bad_request(
            "Field 'severity' must be between 0 and 7",
        ));
    }
    let tags = m.get("tags").cloned().unwrap_or(Value::Null);
    if let Some(t) = tags.as_object()
        && !t.values().all(Value::is_string)
    {
        return Err(SdcError::bad_request(
            "Field 'tags' must map names to strings",
        ));
    }
    let now = now_ms();
    let mut doc = Document::new();
    doc.insert("name".into(), name.into());
    doc.insert(
        "description".into(),
        m.get("description").cloned().unwrap_or(Value::Null),
    );
    doc.insert("severity".into(), severity.map_or(Value::Null, Value::from));
    doc.insert(
        "scope".into(),
        m.get(scope_key)
            .and_then(Value::as_str)
            .map_or(Value::Null, |s| normalize_scope(s).into()),
    );
    doc.insert("tags".into(), if tags.is_null() { json!({}) } else { tags });
    doc.insert(
        "timestamp".into(),
        m.get("timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(now)
            .into(),
    );
    doc.insert("category".into(), "custom".into());
    doc.insert("type".into(), "CUSTOM".into());
    doc.insert("source".into(), "api".into());
    // Custom events count as triggered for the `alertStatus` filter.
    doc.insert("status".into(), "triggered".into());
    Ok(doc)
}
