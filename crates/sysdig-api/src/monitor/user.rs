//! The caller: `/api/user/me`, Monitor API tokens.

use axum::{extract::State, response::Response};
use serde_json::json;
use sysdig::user::Token;

use super::{users::render_user, wire::unsigned};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{P, ok, parse_id},
};

pub async fn me(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let v = state
        .tx(move |c| {
            let mut u = render_user(c, &caller.user)?;
            u.current_team = unsigned(caller.team.id);
            u.extra.insert(
                "customerSettings".into(),
                json!({"plan": {"maxAgents": 100}}),
            );
            u.extra
                .insert("product".into(), caller.team.product().into());
            Ok(u)
        })
        .await?;
    Ok(ok(json!({"user": v})))
}

pub async fn token(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let (user, team) = (caller.user.id, caller.team.id);
    let key = state.tx(move |c| Ok(c.token_for(user, team)?)).await?;
    Ok(ok(json!({"token": shown_token(key, team)})))
}

pub async fn token_of(
    State(state): State<SysdigState>,
    caller: Caller,
    P((username, team)): P<(String, String)>,
) -> SdcResult<Response> {
    let team = parse_id(&team).ok_or_else(|| SdcError::not_found("Team not found"))?;
    let key = state
        .tx(move |c| {
            c.team(team)?
                .ok_or_else(|| SdcError::not_found("Team not found"))?;
            caller.require_team_manager(c, team)?;
            let user = c
                .user_by_name(&username)?
                .ok_or_else(|| SdcError::not_found("User not found"))?;
            if c.membership(team, user.id)?.is_none() {
                return Err(SdcError::not_found(format!(
                    "User '{username}' is not a member of team {team}"
                )));
            }
            Ok(c.token_for(user.id, team)?)
        })
        .await?;
    Ok(ok(json!({"token": shown_token(key, team)})))
}

/// A Monitor API token of `team` as the API shows it.
pub fn shown_token(key: String, team: i64) -> Token {
    Token::of_team(key.into(), unsigned(team).unwrap_or_default())
}
