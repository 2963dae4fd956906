//! `/api/teams`, `/api/v2/teams/light/name/{name}`: customer-wide teams and their members.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{
    JsonBody, Kind, P, check_fields, check_version, created, ok, query_get, query_pairs,
    record::{Record, new_name},
    required_str,
};
use crate::{
    app::AppState,
    sysdig::{
        ROLE_TEAM_MANAGER, TEAM_ROLES,
        auth::Caller,
        db::{self, TeamRow},
        error::{SdcError, SdcResult},
    },
};

/// Fields a client may set on a team, with their types.
const FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("description", Kind::Str),
    ("theme", Kind::Str),
    ("show", Kind::Str),
    ("filter", Kind::Str),
    ("canUseSysdigCapture", Kind::Bool),
    ("canUseCustomEvents", Kind::Bool),
    ("canUseAwsMetrics", Kind::Bool),
    ("canUseBeaconMetrics", Kind::Bool),
    ("canUseRapidResponse", Kind::Bool),
    ("canUseAgentCli", Kind::Bool),
    ("defaultTeamRole", Kind::Str),
    ("entryPoint", Kind::Obj),
    ("products", Kind::Arr),
    ("userRoles", Kind::Arr),
    ("users", Kind::Arr),
    ("version", Kind::Int),
];

/// Fields copied from a request into the stored team.
const STORED: &[&str] = &[
    "description",
    "theme",
    "show",
    "filter",
    "canUseSysdigCapture",
    "canUseCustomEvents",
    "canUseAwsMetrics",
    "canUseBeaconMetrics",
    "canUseRapidResponse",
    "canUseAgentCli",
    "defaultTeamRole",
    "entryPoint",
];

pub fn render_team(c: &Connection, t: &TeamRow, with_members: bool) -> SdcResult<Value> {
    let mut m = Map::new();
    m.insert("id".into(), t.id.into());
    m.insert("version".into(), t.version.into());
    m.insert("name".into(), t.name.clone().into());
    for (k, v) in &t.doc {
        m.insert(k.clone(), v.clone());
    }
    m.insert("customerId".into(), 1.into());
    let members = db::team_members(c, t.id)?;
    m.insert("userCount".into(), members.len().into());
    if with_members {
        let roles: Vec<Value> = members
            .into_iter()
            .map(|(id, name, role)| {
                json!({"userId": id, "userName": name, "admin": role == ROLE_TEAM_MANAGER, "role": role})
            })
            .collect();
        m.insert("userRoles".into(), roles.into());
    }
    Ok(Value::Object(m))
}

fn check_team_role(role: &str) -> SdcResult<()> {
    if TEAM_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(SdcError::bad_request(format!(
            "Invalid team role '{role}': expected one of {}",
            TEAM_ROLES.join(", ")
        )))
    }
}

/// Validates a team body; returns the members of `userRoles` when it is given.
fn validate(c: &Connection, m: &Map<String, Value>) -> SdcResult<Option<Vec<(i64, String)>>> {
    check_fields(m, FIELDS)?;
    if let Some(r) = m.get("defaultTeamRole").and_then(Value::as_str) {
        check_team_role(r)?;
    }
    if let Some(p) = m.get("products").and_then(Value::as_array)
        && (p.is_empty() || p.iter().any(|v| !matches!(v.as_str(), Some("SDC" | "SDS"))))
    {
        return Err(SdcError::bad_request(
            "Field 'products' must list \"SDC\" and/or \"SDS\"",
        ));
    }
    let Some(roles) = m.get("userRoles").and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut members: Vec<(i64, String)> = Vec::new();
    for r in roles {
        let user = r.get("userId").and_then(Value::as_i64);
        let role = r.get("role").and_then(Value::as_str);
        let (Some(user), Some(role)) = (user, role) else {
            return Err(SdcError::bad_request(
                "Each of 'userRoles' needs an integer 'userId' and a string 'role'",
            ));
        };
        check_team_role(role)?;
        if db::user(c, user)?.is_none() {
            return Err(SdcError::unprocessable(format!("User {user} not found")));
        }
        members.retain(|(u, _)| *u != user);
        members.push((user, role.to_string()));
    }
    Ok(Some(members))
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let product = match query_get(&pairs, "product") {
        None | Some("") => None,
        Some(p @ ("SDC" | "SDS")) => Some(p.to_string()),
        Some(p) => {
            return Err(SdcError::bad_request(format!(
                "Invalid product '{p}': allowed only \"SDC\" or \"SDS\""
            )));
        }
    };
    let teams = state
        .sysdig
        .db
        .tx(move |c| {
            db::teams(c)?
                .iter()
                .filter(|t| product.as_ref().is_none_or(|p| t.products().contains(p)))
                .map(|t| render_team(c, t, false))
                .collect::<SdcResult<Vec<_>>>()
        })
        .await?;
    Ok(ok(json!({"teams": teams})))
}

pub async fn by_name(
    State(state): State<AppState>,
    _caller: Caller,
    P(name): P<String>,
) -> SdcResult<Response> {
    let t = state
        .sysdig
        .db
        .tx(move |c| db::team_by_name(c, &name))
        .await?
        .ok_or_else(TeamRow::not_found)?;
    Ok(ok(json!({"team": {
        "id": t.id,
        "name": t.name,
        "version": t.version,
        "products": t.products(),
        "default": t.is_default(),
        "theme": t.doc.get("theme"),
        "description": t.doc.get("description"),
    }})))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    let name = required_str(&m, "name")?.trim().to_string();
    let product = caller.team.product();
    let t = state
        .sysdig
        .db
        .tx(move |c| {
            let members = validate(c, &m)?;
            if db::team_by_name(c, &name)?.is_some() {
                return Err(SdcError::unprocessable(format!(
                    "Team with name '{name}' already exists"
                )));
            }
            let now = db::now_ms();
            let mut doc = Map::new();
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
            let id = db::team_insert(c, &name, &doc)?;
            db::members_replace(c, id, &members.unwrap_or_default())?;
            let t = db::team(c, id)?.ok_or_else(SdcError::unavailable)?;
            render_team(c, &t, true)
        })
        .await?;
    Ok(created(json!({"team": t})))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    let id = TeamRow::id(&id)?;
    let m = body.object()?;
    let t = state
        .sysdig
        .db
        .tx(move |c| {
            let mut t = TeamRow::load(c, id)?;
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
                if db::team_by_name(c, name)?.is_some_and(|o| o.id != id) {
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
            t.doc.insert("lastUpdated".into(), db::now_ms().into());
            t.version += 1;
            db::team_update(c, &t)?;
            if let Some(members) = members {
                db::members_replace(c, id, &members)?;
            }
            render_team(c, &t, true)
        })
        .await?;
    Ok(ok(json!({"team": t})))
}

impl Record for TeamRow {
    const KEY: &'static str = "team";
    const NOT_FOUND: &'static str = "Team not found";

    fn find(c: &Connection, id: i64) -> SdcResult<Option<Self>> {
        db::team(c, id)
    }

    fn view(&self, c: &Connection) -> SdcResult<Value> {
        render_team(c, self, true)
    }

    fn remove(c: &Connection, id: i64) -> SdcResult<()> {
        let t = Self::load(c, id)?;
        if t.is_default() {
            return Err(SdcError::unprocessable(format!(
                "Team '{}' is a default team and cannot be deleted",
                t.name
            )));
        }
        db::team_delete(c, id)?;
        Ok(())
    }
}
