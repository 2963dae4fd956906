//! `GET /api/v3/dashboards[?light=true]`.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use serde_json::json;

use super::{KIND, render};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{ok, parse_bool, query_get, query_pairs},
};

pub async fn list(
    State(state): State<SysdigState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let light = match query_get(&pairs, "light") {
        None | Some("") => false,
        Some(l) => parse_bool(l).ok_or_else(|| {
            SdcError::bad_request(format!("Invalid light '{l}': expected true or false"))
        })?,
    };
    let team = caller.team_id();
    let all = state.tx(move |c| Ok(c.obj_list(KIND, team)?)).await?;
    let list: Vec<sysdig::dashboards::Dashboard> =
        all.iter().map(|o| render(o, &caller, light)).collect();
    Ok(ok(json!({"dashboards": list})))
}
