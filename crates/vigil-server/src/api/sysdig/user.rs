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
