//! `/v2.0/alarm-definitions`.

mod create;
mod delete;
mod get;
mod list;
mod patch;
mod update;

use axum::{Router, extract::FromRef, http::StatusCode, routing::get};
use config_repo::monasca::AlarmDefinition as Definition;
use monasca::types::{AlarmDefinition, SelfLink, Severity};
use serde_json::Value;

use super::{BaseUrl, params::Query, validate::dimension_key};
use crate::{MonascaState, error::ApiError, v2_0::schema};

/// Field order for "required key" errors: upstream's depends on Python's hash seed.
const FIELDS: [&str; 9] = [
    "name",
    "description",
    "expression",
    "severity",
    "match_by",
    "alarm_actions",
    "ok_actions",
    "undetermined_actions",
    "actions_enabled",
];

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route(
            "/v2.0/alarm-definitions",
            get(list::list).post(create::create),
        )
        .route(
            "/v2.0/alarm-definitions/{id}",
            get(get::show)
                .put(update::replace)
                .patch(patch::patch)
                .delete(delete::delete),
        )
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::unprocessable(msg)
}

fn dict_err(what: &str, key: &str) -> ApiError {
    invalid(schema::value(what, key))
}

fn string(v: &Value, key: &str, max: usize) -> Result<String, ApiError> {
    schema::string(v, key, max).map_err(invalid)
}

fn actions(v: &Value, key: &str, state: &str) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = v else {
        return Err(dict_err("Not a list: <class 'str'>", key));
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Value::String(s) = item else {
            return Err(dict_err(
                &format!("list item <{item}> -> <class 'int'> not one of (str, unicode)"),
                key,
            ));
        };
        if s.chars().count() > 50 {
            return Err(dict_err(&format!("length {} > 50", s.chars().count()), key));
        }
        if out.contains(s) {
            return Err(dict_err(
                &format!("Duplicate {state} notification method {s}"),
                key,
            ));
        }
        out.push(s.clone());
    }
    Ok(out)
}

/// Which request a body comes with: upstream checks and applies `actions_enabled` differently
/// for each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// POST: schema-checked as a boolean, then ignored; every new definition is enabled.
    Create,
    /// PUT: every field present, `actions_enabled` a boolean.
    Replace,
    /// PATCH: upstream runs no schema here and stores Python's truth value of whatever it
    /// gets, so `"true"` (and, as upstream, `"false"`: a non-empty string) enables.
    Patch,
}

/// Python's `bool()` of a decoded JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Applies the fields present in `v` to `d`, with monasca-api's schema messages. For PUT
/// ([`Write::Replace`]) every field must be present.
fn apply(d: &mut Definition, v: &Value, write: Write) -> Result<(), ApiError> {
    let Value::Object(m) = v else {
        return Err(invalid(schema::NOT_A_DICT));
    };
    let require_all = write == Write::Replace;
    if let Some(k) = FIELDS.iter().find(|k| require_all && !m.contains_key(**k)) {
        return Err(invalid(schema::required(k)));
    }
    if let Some(v) = m.get("name") {
        d.name = string(v, "name", 255)?;
    }
    if let Some(v) = m.get("description") {
        d.description = string(v, "description", 255)?;
    }
    if let Some(v) = m.get("expression") {
        d.expression = string(v, "expression", usize::MAX)?;
    }
    if let Some(v) = m.get("severity") {
        let Some(s) = v.as_str().and_then(Severity::parse_any_case) else {
            return Err(dict_err("not a valid value", "severity"));
        };
        d.severity = s;
    }
    if let Some(v) = m.get("match_by") {
        let Value::Array(items) = v else {
            return Err(dict_err("expected a list", "match_by"));
        };
        let mut keys = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::String(k) = item else {
                return Err(invalid(schema::item("expected str", "match_by", i)));
            };
            dimension_key(k).map_err(invalid)?;
            keys.push(k.clone());
        }
        d.match_by = keys;
    }
    if let Some(v) = m.get("alarm_actions") {
        d.alarm_actions = actions(v, "alarm_actions", "ALARM")?;
    }
    if let Some(v) = m.get("ok_actions") {
        d.ok_actions = actions(v, "ok_actions", "OK")?;
    }
    if let Some(v) = m.get("undetermined_actions") {
        d.undetermined_actions = actions(v, "undetermined_actions", "UNDETERMINED")?;
    }
    match (m.get("actions_enabled"), write) {
        // `null` is "not given" to upstream's PATCH.
        (None | Some(Value::Null), Write::Patch) | (None, _) => {}
        (Some(v), Write::Patch) => d.actions_enabled = truthy(v),
        (Some(v), Write::Create | Write::Replace) => {
            let enabled = v
                .as_bool()
                .ok_or_else(|| dict_err("expected bool", "actions_enabled"))?;
            if write == Write::Replace {
                d.actions_enabled = enabled;
            }
        }
    }
    Ok(())
}

/// Parses the expression, with upstream's title and message shape.
fn parse(expression: &str) -> Result<alarm_expr::Expr, ApiError> {
    let invalid = |detail: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid alarm expression",
            format!("parser failed on expression '{expression}' at {detail}"),
        )
    };
    let expr = alarm_expr::parse(expression).map_err(|e| {
        let (_, col) = e.line_col(expression);
        let msg = e
            .upstream_message()
            .map(|m| m.to_string())
            .unwrap_or_else(|| e.to_string());
        invalid(format!("column {col}: {msg}"))
    })?;
    // The Python API takes any window; the engine keeps a slot per period, so bound it as the
    // Java API and monasca-thresh did: two weeks.
    if let Some(s) = expr
        .sub_expressions()
        .iter()
        .find(|s| s.window_seconds() > alarm_expr::JAVA_MAX_WINDOW_SECONDS)
    {
        return Err(invalid(format!(
            "{}: period {} times {} is longer than {} seconds (two weeks)",
            s.metric_name,
            s.period,
            s.periods,
            alarm_expr::JAVA_MAX_WINDOW_SECONDS
        )));
    }
    Ok(expr)
}

fn invalid_update(msg: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "InvalidUpdateException",
        msg.to_string(),
    )
}

/// `match_by` never changes, alarms or not, as upstream refuses (its list, order included).
fn check_match_by(old: &Definition, new: &Definition) -> Result<(), ApiError> {
    if old.match_by != new.match_by {
        return Err(invalid_update("match_by must not change"));
    }
    Ok(())
}

/// A definition with alarms keeps its metrics: each new sub-expression must watch the same
/// metric (name and dimensions) as an old one, one for one.
fn check_update(old: &Definition, new: &Definition) -> Result<(), ApiError> {
    let key = |e: &alarm_expr::Expr| {
        let mut keys: Vec<(String, Vec<(String, String)>)> = e
            .sub_expressions()
            .iter()
            .map(|s| {
                let mut dims = s.dimensions.clone();
                dims.sort();
                (s.metric_name.clone(), dims)
            })
            .collect();
        keys.sort();
        keys
    };
    let (a, b) = (key(&parse(&old.expression)?), key(&parse(&new.expression)?));
    if a.len() != b.len() {
        return Err(invalid_update("number of subexpressions must not change"));
    }
    if a != b {
        return Err(invalid_update("metrics in subexpression must not change"));
    }
    Ok(())
}

fn collection(base: &BaseUrl) -> String {
    let url = base.url();
    match url.find("/v2.0/alarm-definitions") {
        Some(i) => format!("{}/v2.0/alarm-definitions", &url[..i]),
        None => url,
    }
}

pub fn to_wire(coll: &str, d: Definition) -> AlarmDefinition {
    let deterministic = alarm_expr::parse(&d.expression)
        .map(|e| e.is_deterministic())
        .unwrap_or(false);
    AlarmDefinition {
        links: vec![SelfLink {
            href: format!("{coll}/{}", d.id),
            rel: "self".into(),
        }],
        id: d.id,
        name: d.name,
        description: Some(d.description),
        expression: d.expression,
        deterministic,
        match_by: d.match_by,
        severity: d.severity,
        actions_enabled: d.actions_enabled,
        alarm_actions: d.alarm_actions,
        ok_actions: d.ok_actions,
        undetermined_actions: d.undetermined_actions,
    }
}

/// `severity=LOW|HIGH`, each checked as upstream does.
pub fn severity_filter(q: &Query) -> Result<Vec<Severity>, ApiError> {
    let Some(s) = q.first("severity") else {
        return Ok(Vec::new());
    };
    s.split('|')
        .map(|part| {
            Severity::parse_any_case(part).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid Severity",
                    format!("Severity {part} must be one of ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']"),
                )
            })
        })
        .collect()
}
