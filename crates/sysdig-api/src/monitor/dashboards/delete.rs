//! `DELETE /api/v3/dashboards/{id}`.

use axum::{extract::State, response::Response};

use super::Dashboard;
use crate::{
    SysdigState,
    auth::Caller,
    error::SdcResult,
    http::P,
    monitor::owned::{self, Owned},
};

pub async fn delete(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    // A read-only caller learns that the dashboard is missing before that it may not delete it.
    let team = caller.team_id();
    let num = Dashboard::id(&id)?;
    state
        .tx(move |c| Dashboard::load(c, team, num).map(drop))
        .await?;
    owned::delete::<Dashboard>(State(state), caller, P(id)).await
}
