//! `/api/complianceTasks`: add (`POST`), list (a JSON array), get, replace (`PUT`, what
//! sdcclient's read-merge-write update sends) and delete. Names are unique in a team.

use axum::{extract::State, http::StatusCode, response::IntoResponse, response::Response};
use config_repo::sysdig::{Document, TeamObject};
use serde_json::{Value, json};
use sysdig::secure::compliance::{DEFAULT_MODULE, DEFAULT_SCHEDULE, MODULES};

use super::TASK;
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{JsonBody, Kind, P, check_fields, created, ok, parse_id},
    secure::SecureCaller,
};

/// A task as the API shows it.
fn render(o: &TeamObject) -> Value {
    let field = |k: &str| o.doc.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "id": o.id,
        "name": field("name"),
        "moduleName": field("moduleName"),
        "enabled": field("enabled"),
        "scope": field("scope"),
        "schedule": field("schedule"),
    })
}

/// The stored fields of a task body, with sdcclient's defaults.
fn checked(body: JsonBody) -> SdcResult<Document> {
    let m = body.object()?;
    check_fields(
        &m,
        &[
            ("name", Kind::Str),
            ("moduleName", Kind::Str),
            ("schedule", Kind::Str),
            ("scope", Kind::Str),
            ("enabled", Kind::Bool),
        ],
    )?;
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::trim);
    let name = s("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| SdcError::unprocessable("A compliance task needs a name"))?;
    let module = s("moduleName").unwrap_or(DEFAULT_MODULE);
    if !MODULES.contains(&module) {
        return Err(SdcError::unprocessable(format!(
            "Unknown module '{module}': expected one of {}",
            MODULES.join(", ")
        )));
    }
    let schedule = s("schedule").unwrap_or(DEFAULT_SCHEDULE);
    match schedule.split_once('/') {
        Some((start, period))
            if !start.is_empty() && period.starts_with('P') && period.len() > 1 => {}
        _ => {
            return Err(SdcError::unprocessable(format!(
                "Invalid schedule '{schedule}': expected an ISO 8601 start/period such as {DEFAULT_SCHEDULE}"
            )));
        }
    }
    let mut doc = Document::new();
    doc.insert("name".into(), name.into());
    doc.insert("moduleName".into(), module.into());
    doc.insert("schedule".into(), schedule.into());
    doc.insert(
        "scope".into(),
        s("scope")
            .filter(|x| !x.is_empty())
            .map_or(Value::Null, Value::from),
    );
    doc.insert(
        "enabled".into(),
        m.get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true)
            .into(),
    );
    Ok(doc)
}

fn taken(name: &Value) -> SdcError {
    SdcError::conflict(format!("A compliance task named {name} already exists"))
}

fn not_found() -> SdcError {
    SdcError::not_found("Compliance task not found")
}

pub async fn add(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let doc = checked(body)?;
    let team = caller.team_id();
    let task = state
        .tx(move |c| {
            let name = doc.get("name").cloned().unwrap_or(Value::Null);
            if c.obj_name_taken(TASK, team, name.as_str().unwrap_or(""), None)? {
                return Err(taken(&name));
            }
            Ok(c.obj_insert(TASK, team, doc)?)
        })
        .await?;
    Ok(created(render(&task)))
}

pub async fn list(State(state): State<SysdigState>, caller: SecureCaller) -> SdcResult<Response> {
    let team = caller.team_id();
    let tasks = state.tx(move |c| Ok(c.obj_list(TASK, team)?)).await?;
    Ok(ok(Value::Array(tasks.iter().map(render).collect())))
}

pub async fn get(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let id = parse_id(&id).ok_or_else(not_found)?;
    let team = caller.team_id();
    let task = state
        .tx(move |c| Ok(c.obj_get(TASK, team, id)?))
        .await?
        .ok_or_else(not_found)?;
    Ok(ok(render(&task)))
}

pub async fn update(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let id = parse_id(&id).ok_or_else(not_found)?;
    let doc = checked(body)?;
    let team = caller.team_id();
    let task = state
        .tx(move |c| {
            let mut task = c.obj_get(TASK, team, id)?.ok_or_else(not_found)?;
            let name = doc.get("name").cloned().unwrap_or(Value::Null);
            if c.obj_name_taken(TASK, team, name.as_str().unwrap_or(""), Some(id))? {
                return Err(taken(&name));
            }
            task.doc = doc;
            c.obj_save(&mut task, true)?;
            Ok(task)
        })
        .await?;
    Ok(ok(render(&task)))
}

pub async fn delete(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let id = parse_id(&id).ok_or_else(not_found)?;
    let team = caller.team_id();
    let gone = state.tx(move |c| Ok(c.obj_delete(TASK, team, id)?)).await?;
    if !gone {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
