//! `/api/alerts` and their notifications (`/api/notifications`), plus the emulator-only
//! `POST /vigil/sysdig/notifications` that records a notification for an alert (tests use it
//! to produce one without an alert engine).

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{
    JsonBody, Kind, P, check_fields, created, default_field, ok,
    owned::{Editable, Owned},
    parse_bool, parse_id, query_get, query_pairs, required_str,
};
use crate::{
    app::AppState,
    sysdig::{
        auth::Caller,
        db::{self, Obj},
        error::{SdcError, SdcResult},
    },
};

pub const KIND: &str = "alert";
pub const NOTIFICATION: &str = "notification";

const TYPES: &[&str] = &["MANUAL", "PROMETHEUS", "BASELINE", "HOST_COMPARISON"];

/// Alerts for the generic handlers of `owned`.
pub struct Alert;

impl Owned for Alert {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "alert";
    const WHAT: &'static str = "Alert";

    fn not_found() -> SdcError {
        SdcError::not_found("Alert not found")
    }

    fn view(c: &Connection, o: &Obj, _: &Caller) -> SdcResult<Value> {
        render_one(c, o)
    }

    /// The alert's notifications go with it.
    fn cascade(c: &Connection, team: i64, id: i64) -> SdcResult<()> {
        c.execute(
            "DELETE FROM objects WHERE kind = ?1 AND team_id = ?2
             AND json_extract(doc, '$.alert') = ?3",
            rusqlite::params![NOTIFICATION, team, id],
        )?;
        Ok(())
    }
}

impl Editable for Alert {
    fn prepare(
        c: &Connection,
        caller: &Caller,
        own: Option<&Obj>,
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
    c: &Connection,
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
    default_field(m, "type", json!("MANUAL"));
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("MANUAL");
    if !TYPES.contains(&ty) {
        return Err(SdcError::bad_request(format!(
            "Invalid alert type '{ty}': expected one of {}",
            TYPES.join(", ")
        )));
    }
    if matches!(ty, "MANUAL" | "PROMETHEUS") {
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
        if db::obj_get(c, super::channels::KIND, team, id)?.is_none() {
            return Err(SdcError::unprocessable(format!(
                "Notification channel {id} not found"
            )));
        }
    }
    if db::obj_name_taken(c, KIND, team, &name, own_id)? {
        return Err(SdcError::unprocessable(format!(
            "Alert name '{name}' already exists"
        )));
    }
    Ok(())
}

/// Alerts as the API shows them, with their notification counts.
fn render_all(c: &Connection, team: i64, alerts: &[Obj]) -> SdcResult<Vec<Value>> {
    let counts = db::obj_counts_by(c, NOTIFICATION, team, "alert")?;
    Ok(alerts
        .iter()
        .map(|a| {
            let mut v = a.render();
            v["notificationCount"] = counts.get(&a.id).copied().unwrap_or(0).into();
            v
        })
        .collect())
}

fn render_one(c: &Connection, a: &Obj) -> SdcResult<Value> {
    Ok(render_all(c, a.team_id, std::slice::from_ref(a))?
        .pop()
        .unwrap_or(Value::Null))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state
        .sysdig
        .db
        .tx(move |c| render_all(c, team, &db::obj_list(c, KIND, team)?))
        .await?;
    Ok(ok(json!({"alerts": all})))
}

// --- notifications -----------------------------------------------------------------------------

fn render_notification(o: &Obj) -> Value {
    let mut v = o.render();
    if let Some(m) = v.as_object_mut() {
        m.remove("version");
    }
    v
}

/// `GET /api/notifications?from=<µs>&to=<µs>[&state=ACTIVE|OK][&resolved=True|False]`.
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let bound = |k: &str| -> SdcResult<Option<i64>> {
        match query_get(&pairs, k) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                SdcError::bad_request(format!("Parameter '{k}' must be an integer (µs)"))
            }),
        }
    };
    let (from, to) = (bound("from")?, bound("to")?);
    let wanted_state = match query_get(&pairs, "state") {
        None | Some("") => None,
        Some(s @ ("ACTIVE" | "OK")) => Some(s.to_string()),
        Some(s) => {
            return Err(SdcError::bad_request(format!(
                "Invalid state '{s}': expected ACTIVE or OK"
            )));
        }
    };
    let resolved = match query_get(&pairs, "resolved") {
        None | Some("") => None,
        Some(r) => Some(parse_bool(r).ok_or_else(|| {
            SdcError::bad_request(format!("Invalid resolved '{r}': expected true or false"))
        })?),
    };
    let team = caller.team_id();
    let all = state
        .sysdig
        .db
        .tx(move |c| db::obj_list(c, NOTIFICATION, team))
        .await?;
    let mut out: Vec<&Obj> = all
        .iter()
        .filter(|n| {
            let ts = n.doc.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
            from.is_none_or(|f| ts >= f)
                && to.is_none_or(|t| ts <= t)
                && wanted_state
                    .as_deref()
                    .is_none_or(|s| n.doc.get("state").and_then(Value::as_str) == Some(s))
                && resolved
                    .is_none_or(|r| n.doc.get("resolved").and_then(Value::as_bool) == Some(r))
        })
        .collect();
    out.sort_by_key(|n| {
        std::cmp::Reverse((
            n.doc.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
            n.id,
        ))
    });
    let list: Vec<Value> = out.into_iter().map(render_notification).collect();
    Ok(ok(json!({"notifications": list})))
}

/// `PUT /api/notifications/{id}` with `{"notification": {..., "resolved": b}}`.
pub async fn resolve_notification(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let not_found = || SdcError::not_found("Notification not found");
    let id = parse_id(&id).ok_or_else(not_found)?;
    let m = body.wrapped("notification")?;
    let resolved = match m.get("resolved") {
        Some(Value::Bool(b)) => *b,
        _ => {
            return Err(SdcError::bad_request(
                "Field 'resolved' is required and must be a boolean",
            ));
        }
    };
    let o = state
        .sysdig
        .db
        .tx(move |c| {
            let mut o = db::obj_get(c, NOTIFICATION, team, id)?.ok_or_else(not_found)?;
            o.doc.insert("resolved".into(), resolved.into());
            db::obj_save(c, &mut o, true)?;
            Ok(o)
        })
        .await?;
    Ok(ok(json!({"notification": render_notification(&o)})))
}

/// Records a notification of `alert` in `team` (state `ACTIVE` or `OK`, time in µs).
pub fn record_notification(
    c: &Connection,
    team: i64,
    alert: &Obj,
    state: &str,
    timestamp_us: i64,
    entities: Value,
) -> SdcResult<Obj> {
    let a = &alert.doc;
    let mut doc = Map::new();
    doc.insert("alert".into(), alert.id.into());
    doc.insert("name".into(), a.get("name").cloned().unwrap_or(Value::Null));
    doc.insert("state".into(), state.into());
    doc.insert("resolved".into(), false.into());
    doc.insert("timestamp".into(), timestamp_us.into());
    for k in ["severity", "condition", "filter", "timespan", "type"] {
        doc.insert(k.into(), a.get(k).cloned().unwrap_or(Value::Null));
    }
    doc.insert(
        "criteria".into(),
        a.get("condition").cloned().unwrap_or(Value::Null),
    );
    doc.insert("groupAggregations".into(), json!([]));
    doc.insert("entities".into(), entities);
    db::obj_insert(c, NOTIFICATION, team, doc)
}

/// `POST /vigil/sysdig/notifications` (emulator only): `{"notification": {"alert": id,
/// "state": "ACTIVE"|"OK", "timestamp": µs?, "value": number?}}`.
pub async fn inject_notification(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let m = body.wrapped("notification")?;
    check_fields(
        &m,
        &[
            ("alert", Kind::Int),
            ("state", Kind::Str),
            ("timestamp", Kind::Int),
            ("value", Kind::Num),
            ("entities", Kind::Arr),
        ],
    )?;
    let alert = m
        .get("alert")
        .and_then(Value::as_i64)
        .ok_or_else(|| SdcError::bad_request("Field 'alert' is required"))?;
    let st = m
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("ACTIVE")
        .to_string();
    if st != "ACTIVE" && st != "OK" {
        return Err(SdcError::bad_request("Field 'state' must be ACTIVE or OK"));
    }
    let ts = m
        .get("timestamp")
        .and_then(Value::as_i64)
        .unwrap_or_else(|| db::now_ms().saturating_mul(1000));
    let entities = match (m.get("entities"), m.get("value").and_then(Value::as_f64)) {
        (Some(e @ Value::Array(_)), _) => e.clone(),
        (_, Some(v)) => json!([{"metricValues": [{"value": v}]}]),
        _ => json!([]),
    };
    let o = state
        .sysdig
        .db
        .tx(move |c| {
            let a = Alert::load(c, team, alert)?;
            record_notification(c, team, &a, &st, ts, entities)
        })
        .await?;
    Ok(created(json!({"notification": render_notification(&o)})))
}
