//! `/api/users`, `/api/user/provisioning`: customer-wide users (admins manage them).

pub mod create;
pub mod update;

use axum::{extract::State, response::Response};
use config_repo::sysdig::{SysdigTx, User};
use serde_json::{Map, Value, json};
use sysdig::users::User as WireUser;

use super::{
    record::Record,
    wire::{take_bool, take_str, unsigned},
};
use crate::{
    SysdigState,
    auth::Caller,
    domain::{ROLE_CUSTOMER, ROLE_TEAM_MANAGER, ROLE_USER},
    error::{SdcError, SdcResult},
    http::{Kind, check_fields, ok},
};

/// A user as the API shows it, with its team memberships.
pub fn render_user(c: &dyn SysdigTx, u: &User) -> SdcResult<WireUser> {
    let roles = if u.is_admin() {
        vec![ROLE_CUSTOMER.to_string(), ROLE_USER.to_string()]
    } else {
        vec![ROLE_USER.to_string()]
    };
    let mut extra = u.doc.clone();
    let (first_name, last_name) = (
        take_str(&mut extra, "firstName"),
        take_str(&mut extra, "lastName"),
    );
    let enabled = take_bool(&mut extra, "enabled");
    extra.insert(
        "customer".into(),
        json!({"id": 1, "name": c.customer_name()?, "externalId": "vigil"}),
    );
    let mut team_roles = Vec::new();
    for (team, role) in c.user_teams(u.id)? {
        let name = c.team(team)?.map(|t| t.name).unwrap_or_default();
        team_roles.push(json!({"teamId": team, "teamName": name, "role": role, "admin": role == ROLE_TEAM_MANAGER}));
    }
    extra.insert("teamRoles".into(), team_roles.into());
    Ok(WireUser {
        id: unsigned(u.id),
        version: unsigned(u.version),
        username: u.username.clone(),
        first_name,
        last_name,
        system_role: Some(u.system_role.clone()),
        enabled,
        roles: Some(roles),
        current_team: None,
        extra,
    })
}

pub(crate) fn check_user_fields(m: &Map<String, Value>) -> SdcResult<()> {
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

pub async fn list(State(state): State<SysdigState>, _caller: Caller) -> SdcResult<Response> {
    let users = state
        .tx(|c| {
            c.users()?
                .iter()
                .map(|u| render_user(c, u))
                .collect::<SdcResult<Vec<_>>>()
        })
        .await?;
    Ok(ok(json!({"users": users})))
}

impl Record for User {
    const KEY: &'static str = "user";
    const NOT_FOUND: &'static str = "User not found";

    fn find(c: &dyn SysdigTx, id: i64) -> SdcResult<Option<Self>> {
        Ok(c.user(id)?)
    }

    type View = WireUser;

    fn view(&self, c: &dyn SysdigTx) -> SdcResult<WireUser> {
        render_user(c, self)
    }

    fn may_remove(caller: &Caller, id: i64) -> SdcResult<()> {
        if id == caller.user.id {
            return Err(SdcError::unprocessable("You cannot delete yourself"));
        }
        Ok(())
    }

    fn remove(c: &dyn SysdigTx, id: i64) -> SdcResult<()> {
        if c.user_delete(id)? {
            Ok(())
        } else {
            Err(Self::not_found())
        }
    }
}
