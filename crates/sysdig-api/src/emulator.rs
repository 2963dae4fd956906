//! Emulator-only routes under `/vigil/sysdig/`: injected faults, a Monitor API token reset
//! (Sysdig resets tokens in its UI only) and recording a notification for an alert (tests use
//! it to produce one without the alert engine).

use axum::{extract::State, response::Response};
use config_repo::now_ms;
use serde_json::{Value, json};

use crate::{
    SysdigState,
    auth::Caller,
    domain,
    error::{SdcError, SdcResult},
    http::{JsonBody, Kind, check_fields, created, ok, required_str},
    monitor::{
        alerts::{Alert, notifications},
        owned::Owned,
        user::shown_token,
    },
};

/// `POST /vigil/sysdig/faults` (emulator only, admins): `{"method": "GET", "path": "/api/alerts",
/// "status": 503, "count": 2, "retry_after": 1}` makes the next `count` matching requests with
/// any valid-looking credentials answer `status` (with `Retry-After`), so clients can test their
/// retries for real.
pub async fn add_fault(
    caller: Caller,
    State(state): State<SysdigState>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    check_fields(
        &m,
        &[
            ("method", Kind::Str),
            ("path", Kind::Str),
            ("status", Kind::Int),
            ("count", Kind::Int),
            ("retry_after", Kind::Int),
        ],
    )?;
    let path = required_str(&m, "path")?;
    let status = m
        .get("status")
        .and_then(serde_json::Value::as_u64)
        .filter(|s| (400..=599).contains(s))
        .ok_or_else(|| SdcError::bad_request("Field 'status' must be between 400 and 599"))?;
    let count = m
        .get("count")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    if !(1..=1000).contains(&count) {
        return Err(SdcError::bad_request(
            "Field 'count' must be between 1 and 1000",
        ));
    }
    let fault = crate::Fault {
        method: m
            .get("method")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string(),
        path: path.trim_end_matches('/').to_string(),
        status: u16::try_from(status).unwrap_or(503),
        remaining: u32::try_from(count).unwrap_or(1),
        retry_after: m.get("retry_after").and_then(serde_json::Value::as_u64),
    };
    let shown = json!({"fault": {"method": fault.method, "path": fault.path, "status": fault.status, "count": fault.remaining, "retry_after": fault.retry_after}});
    state.add_fault(fault);
    Ok(created(shown))
}

/// `POST /vigil/sysdig/token/reset`: a new Monitor API token for the caller in the request's
/// team; the old one stops working at once.
pub async fn reset_token(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let (user, team) = (caller.user.id, caller.team.id);
    let key = uuid::Uuid::new_v4().to_string();
    let k = key.clone();
    state.tx(move |c| Ok(c.token_set(user, team, &k)?)).await?;
    Ok(ok(json!({"token": shown_token(key, team)})))
}

/// `POST /vigil/sysdig/notifications` (emulator only): `{"notification": {"alert": id,
/// "state": "ACTIVE"|"OK", "timestamp": µs?, "value": number?}}`.
pub async fn inject_notification(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let m = body.wrapped("notification")?;
    check_fields(
        &m,
        &[
            ("alert", Kind::Int),
            ("state", Kind::Str),
            ("timestamp", Kind::Int),
            ("value", Kind::Num),
            ("entities", Kind::Arr),
        ],
    )?;
    let alert = m
        .get("alert")
        .and_then(Value::as_i64)
        .ok_or_else(|| SdcError::bad_request("Field 'alert' is required"))?;
    let st = m
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("ACTIVE")
        .to_string();
    if st != "ACTIVE" && st != "OK" {
        return Err(SdcError::bad_request("Field 'state' must be ACTIVE or OK"));
    }
    let ts = m
        .get("timestamp")
        .and_then(Value::as_i64)
        .unwrap_or_else(|| now_ms().saturating_mul(1000));
    let entities = match (m.get("entities"), m.get("value").and_then(Value::as_f64)) {
        (Some(e @ Value::Array(_)), _) => e.clone(),
        (_, Some(v)) => json!([{"metricValues": [{"value": v}]}]),
        _ => json!([]),
    };
    let o = state
        .tx(move |c| {
            let a = Alert::load(c, team, alert)?;
            Ok(domain::notifications::record(
                c, team, &a, &st, ts, entities,
            )?)
        })
        .await?;
    Ok(created(json!({"notification": notifications::render(&o)})))
}
