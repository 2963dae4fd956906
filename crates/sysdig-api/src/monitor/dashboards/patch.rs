//! `PATCH /api/v3/dashboards/{id}`.

use axum::{extract::State, response::Response};
use serde_json::{Value, json};

use super::{Dashboard, not_found, render, validate};
use crate::{
    SysdigState,
    auth::Caller,
    error::SdcResult,
    http::{JsonBody, P, check_version, ok, parse_id},
    monitor::owned::Owned,
};

/// Merges the given fields; marking a favourite is personal and leaves the version alone.
pub async fn patch(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let id = parse_id(&id).ok_or_else(not_found)?;
    let m = body.wrapped("dashboard")?;
    let favorite_only = m
        .keys()
        .all(|k| k == "favorite" || k == "id" || k == "version");
    if !favorite_only {
        caller.require_write()?;
    }
    let o = state
        .tx(move |c| {
            let mut o = Dashboard::load(c, team, id)?;
            if m.get("version").is_some_and(|v| !v.is_null()) {
                check_version(&m, o.version, "Dashboard")?;
            }
            let mut merged = o.doc.clone();
            for (k, v) in m {
                merged.insert(k, v);
            }
            let username = merged.get("username").cloned();
            validate(c, &mut merged)?;
            merged.insert("username".into(), username.unwrap_or(Value::Null));
            o.doc = merged;
            c.obj_save(&mut o, !favorite_only)?;
            Ok(o)
        })
        .await?;
    Ok(ok(json!({"dashboard": render(&o, &caller, false)})))
}
