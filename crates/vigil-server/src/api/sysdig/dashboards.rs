//! `/api/v3/dashboards` and its templates. An unknown dashboard id answers a 404 with an empty
//! body: sdcclient reports that as `status code 404`, which its own specs expect.

use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::Response,
};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{
    JsonBody, Kind, P, check_fields, check_version, default_field, ok,
    owned::{self, Editable, Owned},
    parse_bool, parse_id, query_get, query_pairs, required_str,
};
use crate::{
    app::AppState,
    sysdig::{
        ROLE_TEAM_READ,
        auth::Caller,
        db::{self, Obj},
        error::{SdcError, SdcResult},
    },
};

pub const KIND: &str = "dashboard";

fn not_found() -> SdcError {
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

    fn view(_: &Connection, o: &Obj, caller: &Caller) -> SdcResult<Value> {
        Ok(render(o, caller, false))
    }
}

impl Editable for Dashboard {
    /// The creator's username is kept across updates.
    fn prepare(
        c: &Connection,
        caller: &Caller,
        own: Option<&Obj>,
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

fn validate(c: &Connection, m: &mut Map<String, Value>) -> SdcResult<()> {
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
                    if db::team(c, id)?.is_none() {
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

fn render(o: &Obj, caller: &Caller, light: bool) -> Value {
    let mut v = o.render();
    if let Some(m) = v.as_object_mut() {
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
        if light {
            m.remove("panels");
            m.remove("layout");
            m.remove("widgets");
        }
    }
    v
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let light = match query_get(&pairs, "light") {
        None | Some("") => false,
        Some(l) => parse_bool(l).ok_or_else(|| {
            SdcError::bad_request(format!("Invalid light '{l}': expected true or false"))
        })?,
    };
    let team = caller.team_id();
    let all = state
        .sysdig
        .db
        .tx(move |c| db::obj_list(c, KIND, team))
        .await?;
    let list: Vec<Value> = all.iter().map(|o| render(o, &caller, light)).collect();
    Ok(ok(json!({"dashboards": list})))
}

/// Merges the given fields; marking a favourite is personal and leaves the version alone.
pub async fn patch(
    State(state): State<AppState>,
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
        .sysdig
        .db
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
            db::obj_save(c, &mut o, !favorite_only)?;
            Ok(o)
        })
        .await?;
    Ok(ok(json!({"dashboard": render(&o, &caller, false)})))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    // A read-only caller learns that the dashboard is missing before that it may not delete it.
    let team = caller.team_id();
    let num = Dashboard::id(&id)?;
    state
        .sysdig
        .db
        .tx(move |c| Dashboard::load(c, team, num).map(drop))
        .await?;
    owned::delete::<Dashboard>(State(state), caller, P(id)).await
}

// --- templates ---------------------------------------------------------------------------------

fn timechart(id: i64, name: &str, query: &str, unit: &str) -> Value {
    json!({
        "id": id,
        "type": "advancedTimechart",
        "name": name,
        "description": "",
        "advancedQueries": [{
            "enabled": true,
            "displayInfo": {"displayName": "", "timeSeriesDisplayNameTemplate": "", "type": "lines"},
            "format": {"unit": unit, "inputFormat": "0-100", "displayFormat": "auto", "decimals": null, "yAxis": "auto"},
            "query": query,
        }],
        "axesConfiguration": {"bottom": {"enabled": true}, "left": {"enabled": true, "displayName": null, "unit": "auto", "displayFormat": "auto", "decimals": null, "minValue": 0, "maxValue": null, "minInputFormat": "0-100", "maxInputFormat": "0-100", "scale": "linear"}, "right": {"enabled": true, "displayName": null, "unit": "auto", "displayFormat": "auto", "decimals": null, "minValue": 0, "maxValue": null, "minInputFormat": "1", "maxInputFormat": "1", "scale": "linear"}},
        "legendConfiguration": {"enabled": true, "position": "right", "layout": "table", "showCurrent": true},
    })
}

/// The built-in templates ("views"): `(dashboardId, name, description, panels)`.
fn builtin() -> Vec<(&'static str, &'static str, &'static str, Vec<Value>)> {
    vec![
        (
            "overview-host",
            "Host Overview",
            "CPU, memory and file system use per host",
            vec![
                timechart(
                    1,
                    "CPU usage",
                    "avg(sysdig_host_cpu_used_percent) by (host_hostname)",
                    "%",
                ),
                timechart(
                    2,
                    "Memory usage",
                    "avg(sysdig_host_memory_used_percent) by (host_hostname)",
                    "%",
                ),
                timechart(
                    3,
                    "File system usage",
                    "avg(sysdig_fs_used_percent) by (host_hostname)",
                    "%",
                ),
            ],
        ),
        (
            "overview-container",
            "Container Overview",
            "CPU and memory use per container",
            vec![
                timechart(
                    1,
                    "CPU usage",
                    "avg(sysdig_container_cpu_used_percent) by (container_name)",
                    "%",
                ),
                timechart(
                    2,
                    "Memory usage",
                    "avg(sysdig_container_memory_used_percent) by (container_name)",
                    "%",
                ),
            ],
        ),
        (
            "kubernetes-cluster-overview",
            "Kubernetes Cluster Overview",
            "Nodes, pods and resource use of a cluster",
            vec![
                timechart(
                    1,
                    "CPU requests",
                    "sum(kube_pod_container_resource_requests{resource=\"cpu\"})",
                    "number",
                ),
                timechart(2, "Running pods", "sum(kube_pod_status_ready)", "number"),
            ],
        ),
    ]
}

fn template_dashboard(id: &str, name: &str, description: &str, panels: Vec<Value>) -> Value {
    let layout: Vec<Value> = panels
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"panelId": p["id"], "x": 0, "y": i * 6, "w": 12, "h": 6}))
        .collect();
    json!({
        "id": null,
        "version": null,
        "name": name,
        "description": description,
        "templateId": id,
        "schema": 3,
        "shared": false,
        "public": false,
        "publicToken": null,
        "favorite": false,
        "sharingSettings": [],
        "panels": panels,
        "layout": layout,
        "scopeExpressionList": [],
        "eventsOverlaySettings": {"filterNotificationsUserInputFilter": ""},
        "autoCreated": false,
    })
}

pub async fn templates(_caller: Caller) -> Response {
    let list: Vec<Value> = builtin()
        .into_iter()
        .map(|(id, name, description, _)| {
            json!({"dashboardId": id, "name": name, "description": description, "category": "Overview", "schema": 3})
        })
        .collect();
    ok(json!({"dashboardTemplates": list}))
}

pub async fn template(_caller: Caller, P(id): P<String>) -> SdcResult<Response> {
    let (tid, name, description, panels) = builtin()
        .into_iter()
        .find(|(t, ..)| *t == id)
        .ok_or_else(not_found)?;
    Ok(ok(
        json!({"dashboard": template_dashboard(tid, name, description, panels)}),
    ))
}
