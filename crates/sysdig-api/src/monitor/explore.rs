//! `/api/groupConfigurations`: the Explore tab's grouping hierarchy, one per team (kept as a
//! repository setting), and `/api/history/timelines` (data retention).

use axum::{extract::State, response::Response};
use serde_json::{Value, json};

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, ok},
};

/// The hierarchy until a team sets one.
const DEFAULT_GROUP_BY: [&str; 2] = ["host.hostName", "container.name"];

fn key(team: i64) -> String {
    format!("explore_grouping:{team}")
}

fn explore(group_by: Value) -> Value {
    json!({"id": "explore", "groups": [{"groupBy": group_by}]})
}

/// `GET /api/groupConfigurations`.
pub async fn list(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let team = caller.team_id();
    let stored = state.tx(move |c| Ok(c.meta_get(&key(team))?)).await?;
    let group_by = stored
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .unwrap_or_else(|| {
            DEFAULT_GROUP_BY
                .iter()
                .map(|m| json!({"metric": m}))
                .collect()
        });
    Ok(ok(json!({"groupConfigurations": [explore(group_by)]})))
}

/// `PUT /api/groupConfigurations/explore` `{"id": "explore", "groups": [{"groupBy": [{"metric"}]}]}`.
pub async fn set(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let m = body.object()?;
    let group_by = m
        .get("groups")
        .and_then(Value::as_array)
        .and_then(|g| g.first())
        .and_then(|g| g.get("groupBy"))
        .and_then(Value::as_array)
        .filter(|g| {
            g.iter().all(|item| {
                item.get("metric")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty())
            })
        })
        .ok_or_else(|| {
            SdcError::bad_request(
                "Field 'groups' must hold one group whose 'groupBy' lists {\"metric\": name} objects",
            )
        })?;
    let group_by: Value = group_by
        .iter()
        .map(|item| json!({"metric": item["metric"]}))
        .collect();
    let team = caller.team_id();
    let text = group_by.to_string();
    state
        .tx(move |c| Ok(c.meta_set(&key(team), &text)?))
        .await?;
    Ok(ok(explore(group_by)))
}

/// Sampling (µs) and how far back it reaches (µs), as Sysdig SaaS usually keeps them; Vigil
/// keeps raw points and does not roll up, so these are the windows clients expect, not limits.
const TIMELINES: [(i64, i64); 4] = [
    (10_000_000, 4 * 3_600_000_000),
    (60_000_000, 14 * 86_400_000_000),
    (600_000_000, 62 * 86_400_000_000),
    (3_600_000_000, 396 * 86_400_000_000),
];

/// `GET /api/history/timelines/`: `{"agents": [{"from", "to", "sampling"}...], "backend": [...]}`.
pub async fn timelines(_caller: Caller) -> Response {
    let now_us = config_repo::now_ms().saturating_mul(1000);
    let list: Vec<Value> = TIMELINES
        .iter()
        .map(|(sampling, back)| json!({"from": now_us - back, "to": now_us, "sampling": sampling}))
        .collect();
    ok(json!({"agents": list, "backend": list}))
}
