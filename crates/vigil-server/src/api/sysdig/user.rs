//! The caller: `/api/user/me`, Monitor API tokens, connected agents, and the emulator-only
//! token reset (Sysdig resets tokens in its UI only).

use axum::{extract::State, response::Response};
use serde_json::json;

use super::{P, ok, parse_id, users::render_user};
use crate::{
    app::AppState,
    sysdig::{
        auth::Caller,
        db,
        error::{SdcError, SdcResult},
    },
};

pub async fn me(State(state): State<AppState>, caller: Caller) -> SdcResult<Response> {
    let v = state
        .sysdig
        .db
        .tx(move |c| {
            let mut u = render_user(c, &caller.user)?;
            u["currentTeam"] = caller.team.id.into();
            u["customerSettings"] = json!({"plan": {"maxAgents": 100}});
            u["product"] = caller.team.product().into();
            Ok(u)
        })
        .await?;
    Ok(ok(json!({"user": v})))
}

pub async fn token(State(state): State<AppState>, caller: Caller) -> SdcResult<Response> {
    let (user, team) = (caller.user.id, caller.team.id);
    let key = state
        .sysdig
        .db
        .tx(move |c| db::token_for(c, user, team))
        .await?;
    Ok(ok(json!({"token": {"key": key, "teamId": team}})))
}

pub async fn token_of(
    State(state): State<AppState>,
    caller: Caller,
    P((username, team)): P<(String, String)>,
) -> SdcResult<Response> {
    let team = parse_id(&team).ok_or_else(|| SdcError::not_found("Team not found"))?;
    let key = state
        .sysdig
        .db
        .tx(move |c| {
            db::team(c, team)?.ok_or_else(|| SdcError::not_found("Team not found"))?;
            caller.require_team_manager(c, team)?;
            let user = db::user_by_name(c, &username)?
                .ok_or_else(|| SdcError::not_found("User not found"))?;
            if db::membership(c, team, user.id)?.is_none() {
                return Err(SdcError::not_found(format!(
                    "User '{username}' is not a member of team {team}"
                )));
            }
            db::token_for(c, user.id, team)
        })
        .await?;
    Ok(ok(json!({"token": {"key": key, "teamId": team}})))
}

/// `POST /vigil/sysdig/faults` (emulator only, admins): `{"method": "GET", "path": "/api/alerts",
/// "status": 503, "count": 2, "retry_after": 1}` makes the next `count` matching requests with
/// any valid-looking credentials answer `status` (with `Retry-After`), so clients can test their
/// retries for real.
pub async fn add_fault(
    caller: Caller,
    State(state): State<AppState>,
    body: super::JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    super::check_fields(
        &m,
        &[
            ("method", super::Kind::Str),
            ("path", super::Kind::Str),
            ("status", super::Kind::Int),
            ("count", super::Kind::Int),
            ("retry_after", super::Kind::Int),
        ],
    )?;
    let path = super::required_str(&m, "path")?;
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
    let fault = crate::sysdig::Fault {
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
    state.sysdig.add_fault(fault);
    Ok(super::created(shown))
}

pub async fn agents(_caller: Caller) -> Response {
    ok(json!({"total": 0, "agents": []}))
}

/// `POST /vigil/sysdig/token/reset`: a new Monitor API token for the caller in the request's
/// team; the old one stops working at once.
pub async fn reset_token(State(state): State<AppState>, caller: Caller) -> SdcResult<Response> {
    let (user, team) = (caller.user.id, caller.team.id);
    let key = uuid::Uuid::new_v4().to_string();
    let k = key.clone();
    state
        .sysdig
        .db
        .tx(move |c| db::token_set(c, user, team, &k))
        .await?;
    Ok(ok(json!({"token": {"key": key, "teamId": team}})))
}
