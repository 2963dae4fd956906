//! `/api/v3/dashboards` and its templates, and `/api/v2/dashboards` over the same stored
//! dashboards (see `convert`). An unknown dashboard id answers a 404 with an empty
//! body: sdcclient reports that as `status code 404`, which its own specs expect. Get, create
//! and replace are the generic handlers of `owned`.

pub mod convert;
pub mod delete;
pub mod list;
pub mod patch;
pub mod templates;
pub mod v2;

use axum::http::StatusCode;
use config_repo::sysdig::{Document, SysdigTx, TeamObject, kinds};
use serde_json::{Map, Value, json};
use sysdig::dashboards::Dashboard as WireDashboard;

use super::{
    owned::{Editable, Owned},
    wire::{columns_and_doc, typed},
};
use crate::{
    auth::Caller,
    domain::ROLE_TEAM_READ,
    error::{SdcError, SdcResult},
    http::{Kind, check_fields, default_field, required_str},
};

pub const KIND: &str = kinds::DASHBOARD;

pub(crate) fn not_found() -> SdcError {
    SdcError::Bare(StatusCode::NOT_FOUND)
}

/// Dashboards for the generic handlers of `owned`.
pub struct Dashboard;

impl Owned for Dashboard {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "dashboard";
    const WHAT: &'static str = "Dashboard";

    fn not_found() -> SdcError {
        not_found()
    }

    type View = WireDashboard;

    fn view(_: &dyn SysdigTx, o: &TeamObject, caller: &Caller) -> SdcResult<WireDashboard> {
        Ok(render(o, caller, false))
    }
}

impl Editable for Dashboard {
    /// The creator's username is kept across updates.
    fn prepare(
        c: &dyn SysdigTx,
        caller: &Caller,
        own: Option<&TeamObject>,
        m: &mut Map<String, Value>,
    ) -> SdcResult<()> {
        validate(c, m)?;
        let username = match own {
            Some(o) => o.doc.get("username").cloned().unwrap_or(Value::Null),
            None => caller.user.username.clone().into(),
        };
        m.insert("username".into(), username);
        Ok(())
    }
}

/// Fields the server owns: never taken from a request.
const SERVER_OWNED: &[&str] = &[
    "id",
    "version",
    "teamId",
    "createdOn",
    "modifiedOn",
    "createdOnDate",
    "modifiedOnDate",
    "permissions",
    "username",
    "customerId",
    "autoCreated",
];

pub(crate) fn validate(c: &dyn SysdigTx, m: &mut Map<String, Value>) -> SdcResult<()> {
    check_fields(
        m,
        &[
            ("name", Kind::Str),
            ("description", Kind::Str),
            ("schema", Kind::Int),
            ("shared", Kind::Bool),
            ("public", Kind::Bool),
            ("favorite", Kind::Bool),
            ("publicToken", Kind::Str),
            ("sharingSettings", Kind::Arr),
            ("panels", Kind::Arr),
            ("layout", Kind::Arr),
            ("scopeExpressionList", Kind::Arr),
            ("eventsOverlaySettings", Kind::Obj),
            ("eventDisplaySettings", Kind::Obj),
            ("teamScopeExpressionList", Kind::Arr),
        ],
    )?;
    required_str(m, "name")?;
    if let Some(panels) = m.get("panels").and_then(Value::as_array)
        && panels
            .iter()
            .any(|p| !p.is_object() || !p.get("id").is_some_and(Value::is_i64))
    {
        return Err(SdcError::bad_request(
            "Each of 'panels' must be an object with an integer 'id'",
        ));
    }
    if let Some(sharing) = m.get("sharingSettings").and_then(Value::as_array) {
        for s in sharing {
            let role = s.get("role").and_then(Value::as_str);
            if !matches!(role, Some("ROLE_RESOURCE_READ" | "ROLE_RESOURCE_EDIT")) {
                return Err(SdcError::bad_request(
                    "Each of 'sharingSettings' needs a role ROLE_RESOURCE_READ or ROLE_RESOURCE_EDIT",
                ));
            }
            let member = s.get("member");
            match member.and_then(|m| m.get("type")).and_then(Value::as_str) {
                Some("USER_TEAMS") => {}
                Some("TEAM") => {
                    let Some(id) = member.and_then(|m| m.get("id")).and_then(Value::as_i64) else {
                        return Err(SdcError::bad_request(
                            "A TEAM member of 'sharingSettings' needs an integer 'id'",
                        ));
                    };
                    if c.team(id)?.is_none() {
                        return Err(SdcError::unprocessable(format!("Team {id} not found")));
                    }
                }
                _ => {
                    return Err(SdcError::bad_request(
                        "Each of 'sharingSettings' needs a member of type USER_TEAMS or TEAM",
                    ));
                }
            }
        }
    }
    for k in SERVER_OWNED {
        m.remove(*k);
    }
    for (k, v) in [
        ("description", json!("")),
        ("schema", json!(3)),
        ("shared", json!(false)),
        ("public", json!(false)),
        ("favorite", json!(false)),
        ("sharingSettings", json!([])),
        ("panels", json!([])),
        ("layout", json!([])),
        ("scopeExpressionList", json!([])),
        (
            "eventsOverlaySettings",
            json!({"filterNotificationsUserInputFilter": ""}),
        ),
        (
            "eventDisplaySettings",
            json!({"enabled": true, "queryParams": {"severities": [], "alertStatuses": [], "categories": [], "filter": "", "teamScope": false}}),
        ),
        ("teamScopeExpressionList", json!([])),
        ("autoCreated", json!(false)),
    ] {
        default_field(m, k, v);
    }
    // A public dashboard has a token for its public URL; a private one has none.
    let public = m.get("public").and_then(Value::as_bool) == Some(true);
    if !public {
        m.insert("publicToken".into(), Value::Null);
    } else if m.get("publicToken").is_none_or(Value::is_null) {
        m.insert(
            "publicToken".into(),
            uuid::Uuid::new_v4().simple().to_string().into(),
        );
    }
    Ok(())
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A dashboard as `caller` sees it through v3; `light` leaves out panels and layout.
pub fn render(o: &TeamObject, caller: &Caller, light: bool) -> WireDashboard {
    let mut m = render_stored(o, caller);
    convert::as_v3(&mut m);
    if light {
        m.remove("panels");
        m.remove("layout");
        m.remove("widgets");
    }
    typed(m)
}

/// The fields of a dashboard as `caller` sees it, in the form it is stored in.
fn render_stored(o: &TeamObject, caller: &Caller) -> Document {
    let mut m = columns_and_doc(o);
    m.insert("customerId".into(), 1.into());
    m.insert("createdOnDate".into(), iso(o.created_on).into());
    m.insert("modifiedOnDate".into(), iso(o.modified_on).into());
    let perms: &[&str] = if caller.team_role == ROLE_TEAM_READ {
        &["dashboards.read"]
    } else {
        &[
            "dashboards.read",
            "dashboards.edit",
            "dashboards.delete",
            "dashboards.sharing",
        ]
    };
    m.insert("permissions".into(), json!(perms));
    m
}
