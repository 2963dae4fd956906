//! `/api/alerts` and their notifications (`/api/notifications`).

pub mod notifications;

use axum::{extract::State, response::Response};
use config_repo::sysdig::{SysdigTx, TeamObject, kinds};
use serde_json::{Map, Value, json};
use sysdig::alerts::{Alert as WireAlert, AlertKind};

use super::{
    owned::{Editable, Owned},
    wire::{columns_and_doc, typed},
};
use crate::{
    SysdigState,
    auth::Caller,
    domain,
    error::{SdcError, SdcResult},
    http::{Kind, check_fields, default_field, ok, required_str},
};

pub const KIND: &str = kinds::ALERT;

/// Alerts for the generic handlers of `owned`.
pub struct Alert;

impl Owned for Alert {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "alert";
    const WHAT: &'static str = "Alert";

    fn not_found() -> SdcError {
        SdcError::not_found("Alert not found")
    }

    type View = WireAlert;

    fn view(c: &dyn SysdigTx, o: &TeamObject, _: &Caller) -> SdcResult<WireAlert> {
        render_one(c, o)
    }

    /// The alert's notifications go with it.
    fn cascade(c: &dyn SysdigTx, team: i64, id: i64) -> SdcResult<()> {
        Ok(domain::notifications::delete_of_alert(c, team, id)?)
    }
}

impl Editable for Alert {
    fn prepare(
        c: &dyn SysdigTx,
        caller: &Caller,
        own: Option<&TeamObject>,
        m: &mut Map<String, Value>,
    ) -> SdcResult<()> {
        validate(c, caller.team_id(), own.map(|o| o.id), m)
    }
}

/// Sysdig's label for a 0 (highest) to 7 severity.
pub fn severity_label(severity: i64) -> &'static str {
    match severity {
        i64::MIN..=1 => "HIGH",
        2..=3 => "MEDIUM",
        4..=5 => "LOW",
        _ => "INFO",
    }
}

fn validate(
    c: &dyn SysdigTx,
    team: i64,
    own_id: Option<i64>,
    m: &mut Map<String, Value>,
) -> SdcResult<()> {
    check_fields(
        m,
        &[
            ("name", Kind::Str),
            ("type", Kind::Str),
            ("description", Kind::Str),
            ("enabled", Kind::Bool),
            ("severity", Kind::Int),
            ("timespan", Kind::Int),
            ("condition", Kind::Str),
            ("filter", Kind::Str),
            ("segmentBy", Kind::Arr),
            ("segmentCondition", Kind::Obj),
            ("notificationChannelIds", Kind::Arr),
            ("annotations", Kind::Obj),
            ("reNotify", Kind::Bool),
            ("reNotifyMinutes", Kind::Int),
            ("rateOfChange", Kind::Bool),
            ("autoCreated", Kind::Bool),
        ],
    )?;
    let name = required_str(m, "name")?;
    default_field(m, "type", json!(AlertKind::Manual.as_str()));
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("MANUAL");
    let kind = AlertKind::from(ty);
    if !kind.is_known() {
        return Err(SdcError::bad_request(format!(
            "Invalid alert type '{ty}': expected one of {}",
            AlertKind::KNOWN.join(", ")
        )));
    }
    if matches!(kind, AlertKind::Manual | AlertKind::Prometheus) {
        required_str(m, "condition")?;
    }
    default_field(m, "severity", json!(4));
    let severity = m.get("severity").and_then(Value::as_i64).unwrap_or(4);
    if !(0..=7).contains(&severity) {
        return Err(SdcError::bad_request(
            "Field 'severity' must be between 0 and 7",
        ));
    }
    m.insert("severityLabel".into(), severity_label(severity).into());
    if m.get("timespan")
        .and_then(Value::as_i64)
        .is_some_and(|t| t < 0)
    {
        return Err(SdcError::bad_request(
            "Field 'timespan' must not be negative",
        ));
    }
    for (k, v) in [
        ("description", json!("")),
        ("enabled", json!(true)),
        ("timespan", json!(600_000_000)),
        ("filter", json!("")),
        ("segmentBy", json!([])),
        ("segmentCondition", json!({"type": "ANY"})),
        ("notificationChannelIds", json!([])),
        ("annotations", json!({})),
        ("reNotify", json!(false)),
        ("reNotifyMinutes", json!(30)),
        ("rateOfChange", json!(false)),
        ("autoCreated", json!(false)),
    ] {
        default_field(m, k, v);
    }
    m.remove("notificationCount");
    let channels = m
        .get("notificationChannelIds")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for ch in channels {
        let Some(id) = ch.as_i64() else {
            return Err(SdcError::bad_request(
                "Field 'notificationChannelIds' must be an array of integers",
            ));
        };
        if c.obj_get(kinds::CHANNEL, team, id)?.is_none() {
            return Err(SdcError::unprocessable(format!(
                "Notification channel {id} not found"
            )));
        }
    }
    if c.obj_name_taken(KIND, team, &name, own_id)? {
        return Err(SdcError::unprocessable(format!(
            "Alert name '{name}' already exists"
        )));
    }
    // A condition or filter that could never be evaluated is refused as an invalid
    // configuration: a MANUAL condition and its filter (the scope grammar), a PROMETHEUS
    // alert's PromQL.
    let text = |k: &str| m.get(k).and_then(Value::as_str);
    let invalid = |e: &dyn std::fmt::Display| SdcError::bad_request(e.to_string());
    match kind {
        AlertKind::Manual => {
            if let Some(cond) = text("condition") {
                sysdig::validate::condition(cond).map_err(|e| invalid(&e))?;
            }
            if let Some(filter) = text("filter") {
                sysdig::scope::parse(filter).map_err(|e| invalid(&e))?;
            }
        }
        AlertKind::Prometheus => {
            if let Some(query) = text("condition") {
                promql_engine::parse(query).map_err(|e| {
                    SdcError::bad_request(format!("invalid PromQL condition {query:?}: {e}"))
                })?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Alerts as the API shows them, with their notification counts.
pub fn render_all(c: &dyn SysdigTx, team: i64, alerts: &[TeamObject]) -> SdcResult<Vec<WireAlert>> {
    let counts = c.obj_counts_by(kinds::NOTIFICATION, team, "alert")?;
    Ok(alerts
        .iter()
        .map(|a| {
            let mut shown = columns_and_doc(a);
            shown.insert(
                "notificationCount".into(),
                counts.get(&a.id).copied().unwrap_or(0).into(),
            );
            typed(shown)
        })
        .collect())
}

fn render_one(c: &dyn SysdigTx, a: &TeamObject) -> SdcResult<WireAlert> {
    Ok(render_all(c, a.team_id, std::slice::from_ref(a))?
        .pop()
        .unwrap_or_default())
}

pub async fn list(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state
        .tx(move |c| render_all(c, team, &c.obj_list(KIND, team)?))
        .await?;
    Ok(ok(json!({"alerts": all})))
}
