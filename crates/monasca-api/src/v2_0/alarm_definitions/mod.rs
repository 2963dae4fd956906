//! `/v2.0/alarm-definitions`.

use axum::{
    Json, Router,
    body::Body,
    extract::FromRef,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    routing::get,
};
use monasca::types::{AlarmDefinition, Envelope, SelfLink, Severity};
use serde_json::Value;

use super::{BaseUrl, Tenant, body, params::Query, validate::dimension_key};
use config_repo::monasca::{
    AlarmDefinition as Definition, DefinitionQuery, DefinitionSort, Paging, definition_name_taken,
    in_unit,
};

use crate::{MonascaState, error::ApiError, new_id};

const SORT_FIELDS: [&str; 5] = ["id", "name", "severity", "updated_at", "created_at"];
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
        .route("/v2.0/alarm-definitions", get(list).post(create))
        .route(
            "/v2.0/alarm-definitions/{id}",
            get(show).put(replace).patch(patch).delete(delete),
        )
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::unprocessable(msg)
}

fn dict_err(what: &str, key: &str) -> ApiError {
    invalid(format!("{what} for dictionary value @ data['{key}']"))
}

fn string(v: &Value, key: &str, max: usize) -> Result<String, ApiError> {
    match v {
        Value::String(s) if s.chars().count() > max => Err(dict_err(
            &format!("length of value must be at most {max}"),
            key,
        )),
        Value::String(s) => Ok(s.clone()),
        _ => Err(dict_err("expected str", key)),
    }
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

/// Applies the fields present in `v` to `d`, with monasca-api's schema messages. With
/// `require_all` (PUT) every field must be present.
fn apply(d: &mut Definition, v: &Value, require_all: bool) -> Result<(), ApiError> {
    let Value::Object(m) = v else {
        return Err(invalid("expected a dictionary"));
    };
    if let Some(k) = FIELDS.iter().find(|k| require_all && !m.contains_key(**k)) {
        return Err(invalid(format!("required key not provided @ data['{k}']")));
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
                return Err(invalid(format!("expected str @ data['match_by'][{i}]")));
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
    if let Some(v) = m.get("actions_enabled") {
        d.actions_enabled = v
            .as_bool()
            .ok_or_else(|| dict_err("expected bool", "actions_enabled"))?;
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

/// A definition with alarms keeps its metrics: each new sub-expression must watch the same
/// metric (name and dimensions) as an old one, one for one, and `match_by` stays.
fn check_update(old: &Definition, new: &Definition) -> Result<(), ApiError> {
    let invalid_update = |msg: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "InvalidUpdateException",
            msg.to_string(),
        )
    };
    if old.match_by != new.match_by {
        return Err(invalid_update("match_by must not change"));
    }
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

async fn create(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    body: Body,
) -> Result<(StatusCode, Json<AlarmDefinition>), ApiError> {
    let v = body::json(body, state.max_body_bytes).await?;
    let mut d = Definition::new(new_id(), tenant);
    if let Value::Object(m) = &v {
        for k in ["name", "expression"] {
            if !m.contains_key(k) {
                return Err(invalid(format!("required key not provided @ data['{k}']")));
            }
        }
    }
    apply(&mut d, &v, false)?;
    parse(&d.expression)?;
    state.repos.alarm_definitions.create(d.clone()).await?;
    state.alarms.definition_changed(&d.id).await;
    Ok((StatusCode::CREATED, Json(to_wire(&collection(&base), d))))
}

async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<AlarmDefinition>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let name = q.first("name").map(str::to_string);
    let dimensions = q
        .all("dimensions")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|item| {
            let (k, v) = item.split_once(':').unwrap_or((item, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let severities = severity_filter(&q)?;
    let sort = q
        .sort_by(&SORT_FIELDS)?
        .into_iter()
        .filter_map(|(f, desc)| DefinitionSort::from_field(&f).map(|f| (f, desc)))
        .collect();
    let offset = q.row_offset()?;
    let limit = q.limit()?;
    let query = DefinitionQuery {
        tenant,
        name,
        severities,
        dimensions,
        sort,
        paging: Paging { offset, limit },
    };
    let page = state.repos.alarm_definitions.list(query).await?;
    let coll = collection(&base);
    Ok(Json(Envelope {
        links: q.row_links(&base.url(), offset, limit, page.more),
        elements: page.items.into_iter().map(|d| to_wire(&coll, d)).collect(),
    }))
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

async fn show(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<AlarmDefinition>, ApiError> {
    let d = state.repos.alarm_definitions.get(&tenant, &id).await?;
    Ok(Json(to_wire(&collection(&base), d)))
}

async fn update(
    tenant: String,
    state: MonascaState,
    base: BaseUrl,
    id: String,
    body: Body,
    partial: bool,
) -> Result<Json<AlarmDefinition>, ApiError> {
    let v = body::json(body, state.max_body_bytes).await?;
    if !partial {
        // Validate the body on its own first, as upstream does before touching the database.
        let mut scratch = Definition::new(String::new(), tenant.clone());
        apply(&mut scratch, &v, true)?;
    }
    let d = in_unit(state.repos.units.as_ref(), move |unit| {
        let Some(old) = unit.alarm_definition(&tenant, &id)? else {
            return Err(ApiError::not_found());
        };
        let mut new = old.clone();
        if !partial {
            new.alarm_actions.clear();
            new.ok_actions.clear();
            new.undetermined_actions.clear();
        }
        apply(&mut new, &v, !partial)?;
        parse(&new.expression)?;
        if let Some(other) = unit.definition_named(&tenant, &new.name, Some(&id))? {
            return Err(definition_name_taken(&new.name, Some(&other)).into());
        }
        if unit.definition_has_alarms(&id)? {
            check_update(&old, &new)?;
        }
        unit.check_actions(&new)?;
        unit.update_definition(&new, config_repo::now_ms())?;
        Ok(new)
    })
    .await?;
    state.alarms.definition_changed(&d.id).await;
    Ok(Json(to_wire(&collection(&base), d)))
}

async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<AlarmDefinition>, ApiError> {
    update(tenant, state, base, id, body, false).await
}

async fn patch(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<AlarmDefinition>, ApiError> {
    update(tenant, state, base, id, body, true).await
}

async fn delete(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.repos.alarm_definitions.delete(&tenant, &id).await?;
    state.alarms.definition_changed(&id).await;
    Ok(StatusCode::NO_CONTENT)
}
