//! `POST /api/teams` (admins only).

use axum::{extract::State, response::Response};
use config_repo::{now_ms, sysdig::Document};
use serde_json::{Value, json};

use super::{render_team, validate};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, created, required_str},
};

pub async fn create(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    let name = required_str(&m, "name")?.trim().to_string();
    let product = caller.team.product();
    let t = state
        .tx(move |c| {
            let members = validate(c, &m)?;
            if c.team_by_name(&name)?.is_some() {
                return Err(SdcError::unprocessable(format!(
                    "Team with name '{name}' already exists"
                )));
            }
            let now = now_ms();
            let mut doc = Document::new();
            for (k, v) in [
                ("description", json!("")),
                ("theme", json!("#7BB0B2")),
                ("show", json!("host")),
                ("filter", Value::Null),
                ("canUseSysdigCapture", json!(false)),
                ("canUseCustomEvents", json!(false)),
                ("canUseAwsMetrics", json!(false)),
                ("canUseBeaconMetrics", json!(false)),
                ("canUseRapidResponse", json!(false)),
                ("canUseAgentCli", json!(false)),
                ("defaultTeamRole", json!("ROLE_TEAM_STANDARD")),
                ("entryPoint", json!({"module": "Overview"})),
            ] {
                doc.insert(
                    k.into(),
                    m.get(k).filter(|v| !v.is_null()).cloned().unwrap_or(v),
                );
            }
            doc.insert(
                "products".into(),
                m.get("products")
                    .filter(|v| !v.is_null())
                    .cloned()
                    .unwrap_or_else(|| json!([product])),
            );
            doc.insert("default".into(), false.into());
            doc.insert("immutable".into(), false.into());
            doc.insert("origin".into(), "SYSDIG".into());
            doc.insert("dateCreated".into(), now.into());
            doc.insert("lastUpdated".into(), now.into());
            let id = c.team_insert(&name, &doc)?;
            c.members_replace(id, &members.unwrap_or_default())?;
            let t = c.team(id)?.ok_or_else(SdcError::unavailable)?;
            render_team(c, &t, true)
        })
        .await?;
    Ok(created(json!({"team": t})))
}
