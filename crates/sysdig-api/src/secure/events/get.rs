//! `GET /api/v1/secureEvents/{id}`.

use axum::{extract::State, response::Response};

use super::{KIND, render};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{P, ok},
    secure::SecureCaller,
};

pub async fn get(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let event = state
        .tx(move |c| Ok(c.secure_event_get(KIND, team, &id)?))
        .await?
        .ok_or_else(|| SdcError::not_found("Event not found"))?;
    Ok(ok(render(&event, "")))
}
