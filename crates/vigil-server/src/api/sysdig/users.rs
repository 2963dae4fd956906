//! `/api/users`, `/api/user/provisioning`: customer-wide users (admins manage them).

use axum::{extract::State, response::Response};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{
    JsonBody, Kind, P, check_fields, check_version, created, ok,
    record::{Record, new_name},
    required_str,
};
use crate::{
    app::AppState,
    sysdig::{
        ROLE_CUSTOMER, ROLE_USER,
        auth::Caller,
        db::{self, UserRow},
        error::{SdcError, SdcResult},
        new_user_doc,
    },
};

/// A user as the API shows it, with its team memberships.
pub fn render_user(c: &Connection, u: &UserRow) -> SdcResult<Value> {
    let mut m = Map::new();
    m.insert("id".into(), u.id.into());
    m.insert("username".into(), u.username.clone().into());
    m.insert("version".into(), u.version.into());
    m.insert("systemRole".into(), u.system_role.clone().into());
    let roles: Vec<&str> = if u.is_admin() {
        vec![ROLE_CUSTOMER, ROLE_USER]
    } else {
        vec![ROLE_USER]
    };
    m.insert("roles".into(), json!(roles));
    for (k, v) in &u.doc {
        m.insert(k.clone(), v.clone());
    }
    m.insert(
        "customer".into(),
        json!({"id": 1, "name": db::customer_name(c)?, "externalId": "vigil"}),
    );
    let mut team_roles = Vec::new();
    for (team, role) in db::user_teams(c, u.id)? {
        let name = db::team(c, team)?.map(|t| t.name).unwrap_or_default();
        team_roles.push(json!({"teamId": team, "teamName": name, "role": role, "admin": role == crate::sysdig::ROLE_TEAM_MANAGER}));
    }
    m.insert("teamRoles".into(), team_roles.into());
    Ok(Value::Object(m))
}

fn check_user_fields(m: &Map<String, Value>) -> SdcResult<()> {
    check_fields(
        m,
        &[
            ("username", Kind::Str),
            ("firstName", Kind::Str),
            ("lastName", Kind::Str),
            ("password", Kind::Str),
            ("systemRole", Kind::Str),
            ("enabled", Kind::Bool),
        ],
    )?;
    match m.get("systemRole").and_then(Value::as_str) {
        None | Some(ROLE_USER) | Some(ROLE_CUSTOMER) => Ok(()),
        Some(r) => Err(SdcError::bad_request(format!(
            "Invalid systemRole '{r}': expected ROLE_USER or ROLE_CUSTOMER"
        ))),
    }
}

pub async fn list(State(state): State<AppState>, _caller: Caller) -> SdcResult<Response> {
    let users = state
        .sysdig
        .db
        .tx(|c| {
            db::users(c)?
                .iter()
                .map(|u| render_user(c, u))
                .collect::<SdcResult<Vec<_>>>()
        })
        .await?;
    Ok(ok(json!({"users": users})))
}

async fn create(state: AppState, caller: Caller, body: JsonBody) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    check_user_fields(&m)?;
    let username = required_str(&m, "username")?.trim().to_string();
    let role = m
        .get("systemRole")
        .and_then(Value::as_str)
        .unwrap_or(ROLE_USER)
        .to_string();
    let first = m.get("firstName").and_then(Value::as_str).unwrap_or("");
    let last = m.get("lastName").and_then(Value::as_str).unwrap_or("");
    // The password of `provisioning` is accepted and dropped: nobody logs in with it here.
    let doc = new_user_doc(first, last);
    let u = state
        .sysdig
        .db
        .tx(move |c| {
            if db::user_by_name(c, &username)?.is_some() {
                return Err(SdcError::unprocessable(format!(
                    "User {username} already exists"
                )));
            }
            let u = db::user_insert(c, &username, &role, &doc)?;
            render_user(c, &u)
        })
        .await?;
    Ok(created(json!({"user": u})))
}

/// `POST /api/users` (invitation).
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    create(state, caller, body).await
}

/// `POST /api/user/provisioning/`.
pub async fn provision(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    create(state, caller, body).await
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let id = UserRow::id(&id)?;
    let m = body.object()?;
    check_user_fields(&m)?;
    let u = state
        .sysdig
        .db
        .tx(move |c| {
            let mut u = UserRow::load(c, id)?;
            check_version(&m, u.version, "User")?;
            if let Some(name) = new_name(&m, "username")?
                && !name.eq_ignore_ascii_case(&u.username)
            {
                if db::user_by_name(c, name)?.is_some() {
                    return Err(SdcError::unprocessable(format!(
                        "User {name} already exists"
                    )));
                }
                u.username = name.to_string();
            }
            if let Some(r) = m.get("systemRole").and_then(Value::as_str) {
                if u.id == caller.user.id && r != ROLE_CUSTOMER {
                    return Err(SdcError::unprocessable(
                        "You cannot remove your own administrator role",
                    ));
                }
                u.system_role = r.to_string();
            }
            for k in ["firstName", "lastName", "enabled"] {
                if let Some(v) = m.get(k).filter(|v| !v.is_null()) {
                    u.doc.insert(k.into(), v.clone());
                }
            }
            u.doc.insert("lastUpdated".into(), db::now_ms().into());
            u.version += 1;
            db::user_update(c, &u)?;
            render_user(c, &u)
        })
        .await?;
    Ok(ok(json!({"user": u})))
}

impl Record for UserRow {
    const KEY: &'static str = "user";
    const NOT_FOUND: &'static str = "User not found";

    fn find(c: &Connection, id: i64) -> SdcResult<Option<Self>> {
        db::user(c, id)
    }

    fn view(&self, c: &Connection) -> SdcResult<Value> {
        render_user(c, self)
    }

    fn may_remove(caller: &Caller, id: i64) -> SdcResult<()> {
        if id == caller.user.id {
            return Err(SdcError::unprocessable("You cannot delete yourself"));
        }
        Ok(())
    }

    fn remove(c: &Connection, id: i64) -> SdcResult<()> {
        if db::user_delete(c, id)? {
            Ok(())
        } else {
            Err(Self::not_found())
        }
    }
}
