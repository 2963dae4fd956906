//! `GET /api/notifications` and `PUT /api/notifications/{id}` (resolving one).

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use config_repo::sysdig::{TeamObject, kinds};
use serde_json::{Value, json};
use sysdig::alerts::Notification;

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, P, ok, parse_bool, parse_id, query_get, query_i64, query_pairs},
    monitor::wire::{columns_and_doc, typed},
};

/// A notification as the API shows it (without a version).
pub fn render(o: &TeamObject) -> Notification {
    let mut shown = columns_and_doc(o);
    shown.remove("version");
    typed(shown)
}

/// `GET /api/notifications?from=<µs>&to=<µs>[&state=ACTIVE|OK][&resolved=True|False]`.
pub async fn list(
    State(state): State<SysdigState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let bound = |k: &str| query_i64(&pairs, k, " (µs)");
    let (from, to) = (bound("from")?, bound("to")?);
    let wanted_state = match query_get(&pairs, "state") {
        None | Some("") => None,
        Some(s @ ("ACTIVE" | "OK")) => Some(s.to_string()),
        Some(s) => {
            return Err(SdcError::bad_request(format!(
                "Invalid state '{s}': expected ACTIVE or OK"
            )));
        }
    };
    let resolved = match query_get(&pairs, "resolved") {
        None | Some("") => None,
        Some(r) => Some(parse_bool(r).ok_or_else(|| {
            SdcError::bad_request(format!("Invalid resolved '{r}': expected true or false"))
        })?),
    };
    let team = caller.team_id();
    let all = state
        .tx(move |c| Ok(c.obj_list(kinds::NOTIFICATION, team)?))
        .await?;
    let mut out: Vec<&TeamObject> = all
        .iter()
        .filter(|n| {
            let ts = n.doc.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
            from.is_none_or(|f| ts >= f)
                && to.is_none_or(|t| ts <= t)
                && wanted_state
                    .as_deref()
                    .is_none_or(|s| n.doc.get("state").and_then(Value::as_str) == Some(s))
                && resolved
                    .is_none_or(|r| n.doc.get("resolved").and_then(Value::as_bool) == Some(r))
        })
        .collect();
    out.sort_by_key(|n| {
        std::cmp::Reverse((
            n.doc.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
            n.id,
        ))
    });
    let list: Vec<Notification> = out.into_iter().map(render).collect();
    Ok(ok(json!({"notifications": list})))
}

/// `PUT /api/notifications/{id}` with `{"notification": {..., "resolved": b}}`.
pub async fn resolve(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let not_found = || SdcError::not_found("Notification not found");
    let id = parse_id(&id).ok_or_else(not_found)?;
    let m = body.wrapped("notification")?;
    let resolved = match m.get("resolved") {
        Some(Value::Bool(b)) => *b,
        _ => {
            return Err(SdcError::bad_request(
                "Field 'resolved' is required and must be a boolean",
            ));
        }
    };
    let o = state
        .tx(move |c| {
            let mut o = c
                .obj_get(kinds::NOTIFICATION, team, id)?
                .ok_or_else(not_found)?;
            o.doc.insert("resolved".into(), resolved.into());
            c.obj_save(&mut o, true)?;
            Ok(o)
        })
        .await?;
    Ok(ok(json!({"notification": render(&o)})))
}
