//! `PUT /api/teams/{id}` (admins and the team's managers).

use axum::{extract::State, response::Response};
use config_repo::{now_ms, sysdig::Team};
use serde_json::json;

use super::{STORED, render_team, validate};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, P, check_version, ok},
    monitor::record::{Record, new_name},
};

pub async fn update(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    let id = Team::id(&id)?;
    let m = body.object()?;
    let t = state
        .tx(move |c| {
            let mut t = Team::load(c, id)?;
            caller.require_team_manager(c, id)?;
            let members = validate(c, &m)?;
            check_version(&m, t.version, "Team")?;
            if let Some(name) = new_name(&m, "name")?
                && name != t.name
            {
                if t.is_default() {
                    return Err(SdcError::unprocessable(format!(
                        "Team '{}' is a default team and cannot be renamed",
                        t.name
                    )));
                }
                if c.team_by_name(name)?.is_some_and(|o| o.id != id) {
                    return Err(SdcError::unprocessable(format!(
                        "Team with name '{name}' already exists"
                    )));
                }
                t.name = name.to_string();
            }
            for k in STORED {
                if let Some(v) = m.get(*k) {
                    t.doc.insert((*k).into(), v.clone());
                }
            }
            if let Some(p) = m.get("products").filter(|v| !v.is_null())
                && !t.is_default()
            {
                t.doc.insert("products".into(), p.clone());
            }
            t.doc.insert("lastUpdated".into(), now_ms().into());
            t.version += 1;
            c.team_update(&t)?;
            if let Some(members) = members {
                c.members_replace(id, &members)?;
            }
            render_team(c, &t, true)
        })
        .await?;
    Ok(ok(json!({"team": t})))
}
