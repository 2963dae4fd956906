//! `/api/teams`, `/api/v2/teams/light/name/{name}`: customer-wide teams and their members.

pub mod create;
pub mod update;

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use config_repo::sysdig::{SysdigTx, Team};
use serde_json::{Map, Value, json};
use sysdig::teams::{Team as WireTeam, UserRole};

use super::{
    record::Record,
    wire::{take_bool, take_str, take_strings, unsigned},
};
use crate::{
    SysdigState,
    auth::Caller,
    domain::{ROLE_TEAM_MANAGER, TEAM_ROLES},
    error::{SdcError, SdcResult},
    http::{Kind, P, check_fields, ok, query_get, query_pairs},
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
pub(crate) const STORED: &[&str] = &[
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

/// A team as the API shows it; `with_members` adds `userRoles`.
pub fn render_team(c: &dyn SysdigTx, t: &Team, with_members: bool) -> SdcResult<WireTeam> {
    let members = c.team_members(t.id)?;
    let user_count = u64::try_from(members.len()).ok();
    let user_roles = with_members.then(|| {
        members
            .into_iter()
            .map(|member| UserRole {
                user_id: unsigned(member.user_id).unwrap_or_default(),
                user_name: Some(member.username),
                admin: Some(member.role == ROLE_TEAM_MANAGER),
                role: member.role,
                extra: Map::new(),
            })
            .collect()
    });
    let mut wire = typed_team(t);
    wire.extra.insert("customerId".into(), 1.into());
    wire.user_count = user_count;
    wire.user_roles = user_roles;
    Ok(wire)
}

/// The stored team in the wire type: columns and the document's typed fields.
fn typed_team(t: &Team) -> WireTeam {
    let mut doc = t.doc.clone();
    WireTeam {
        id: unsigned(t.id),
        version: unsigned(t.version),
        name: t.name.clone(),
        description: take_str(&mut doc, "description"),
        theme: take_str(&mut doc, "theme"),
        show: take_str(&mut doc, "show"),
        filter: take_str(&mut doc, "filter"),
        can_use_sysdig_capture: take_bool(&mut doc, "canUseSysdigCapture"),
        can_use_custom_events: take_bool(&mut doc, "canUseCustomEvents"),
        can_use_aws_metrics: take_bool(&mut doc, "canUseAwsMetrics"),
        can_use_rapid_response: take_bool(&mut doc, "canUseRapidResponse"),
        default_team_role: take_str(&mut doc, "defaultTeamRole"),
        products: take_strings(&mut doc, "products"),
        user_roles: None,
        default: take_bool(&mut doc, "default"),
        immutable: take_bool(&mut doc, "immutable"),
        user_count: None,
        extra: doc,
    }
}

/// The light form of `GET /api/v2/teams/light/name/{name}`.
fn light_team(t: &Team) -> WireTeam {
    let mut doc = Map::new();
    for k in ["theme", "description"] {
        doc.insert(k.into(), t.doc.get(k).cloned().unwrap_or(Value::Null));
    }
    WireTeam {
        id: unsigned(t.id),
        version: unsigned(t.version),
        name: t.name.clone(),
        products: Some(t.products()),
        default: Some(t.is_default()),
        theme: take_str(&mut doc, "theme"),
        description: take_str(&mut doc, "description"),
        extra: doc,
        ..WireTeam::default()
    }
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
pub(crate) fn validate(
    c: &dyn SysdigTx,
    m: &Map<String, Value>,
) -> SdcResult<Option<Vec<(i64, String)>>> {
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
        if c.user(user)?.is_none() {
            return Err(SdcError::unprocessable(format!("User {user} not found")));
        }
        members.retain(|(u, _)| *u != user);
        members.push((user, role.to_string()));
    }
    Ok(Some(members))
}

pub async fn list(
    State(state): State<SysdigState>,
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
        .tx(move |c| {
            c.teams()?
                .iter()
                .filter(|t| product.as_ref().is_none_or(|p| t.products().contains(p)))
                .map(|t| render_team(c, t, false))
                .collect::<SdcResult<Vec<_>>>()
        })
        .await?;
    Ok(ok(json!({"teams": teams})))
}

pub async fn by_name(
    State(state): State<SysdigState>,
    _caller: Caller,
    P(name): P<String>,
) -> SdcResult<Response> {
    let t = state
        .tx(move |c| Ok(c.team_by_name(&name)?))
        .await?
        .ok_or_else(Team::not_found)?;
    Ok(ok(json!({"team": light_team(&t)})))
}

impl Record for Team {
    const KEY: &'static str = "team";
    const NOT_FOUND: &'static str = "Team not found";

    fn find(c: &dyn SysdigTx, id: i64) -> SdcResult<Option<Self>> {
        Ok(c.team(id)?)
    }

    type View = WireTeam;

    fn view(&self, c: &dyn SysdigTx) -> SdcResult<WireTeam> {
        render_team(c, self, true)
    }

    fn remove(c: &dyn SysdigTx, id: i64) -> SdcResult<()> {
        let t = Self::load(c, id)?;
        if t.is_default() {
            return Err(SdcError::unprocessable(format!(
                "Team '{}' is a default team and cannot be deleted",
                t.name
            )));
        }
        c.team_delete(id)?;
        Ok(())
    }
}
