//! The endpoints, each a thin layer: read the parameters, ask the engine, write the envelope.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    Json,
    extract::{Path, State},
};
use promql_engine::QueryError;
use serde_json::{Map, Value, json};

use crate::{
    PrometheusState,
    auth::TenantAuth,
    encode::{self, JsonText},
    error::PromError,
    params::Params,
};

type Answer = Result<Json<Value>, PromError>;

/// The earliest and latest times the API accepts, as Prometheus's `minTime`/`maxTime`.
const MIN_TIME: i64 = i64::MIN / 4;
const MAX_TIME: i64 = i64::MAX / 4;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `f`, abandoned once the engine's timeout has passed: the engine checks its deadline only
/// between steps, and a slow store read would otherwise hold the request.
async fn bounded<T>(
    state: &PrometheusState,
    f: impl Future<Output = Result<T, QueryError>>,
) -> Result<T, QueryError> {
    tokio::time::timeout(state.engine.options().timeout, f)
        .await
        .unwrap_or(Err(QueryError::Timeout("query execution")))
}

fn success(data: Value) -> Json<Value> {
    Json(json!({"status": "success", "data": data}))
}

/// `GET|POST /api/v1/query`: `query`, `time` (default now).
pub async fn query<A: TenantAuth>(
    auth: A,
    State(state): State<PrometheusState>,
    params: Params,
) -> Result<JsonText, PromError> {
    let query = params.required("query")?;
    let time = params.time("time", now_ms())?;
    let (value, notes) = bounded(
        &state,
        state.engine.instant_annotated(auth.tenant(), query, time),
    )
    .await?;
    Ok(encode::success(&value, &notes))
}

/// `GET|POST /api/v1/query_range`: `query`, `start`, `end`, `step`.
pub async fn query_range<A: TenantAuth>(
    auth: A,
    State(state): State<PrometheusState>,
    params: Params,
) -> Result<JsonText, PromError> {
    let query = params.required("query")?;
    let start = params.time("start", i64::MIN)?;
    let end = params.time("end", i64::MIN)?;
    for (name, v) in [("start", start), ("end", end)] {
        if v == i64::MIN {
            // Prometheus's words for a missing time: an empty one does not parse.
            return Err(PromError::bad_data(format!(
                "invalid parameter {name:?}: cannot parse \"\" to a valid timestamp"
            )));
        }
    }
    let step_text = params.get("step").unwrap_or_default();
    let step = crate::params::parse_duration(step_text).ok_or_else(|| {
        PromError::bad_data(format!(
            "invalid parameter \"step\": cannot parse {step_text:?} to a valid duration"
        ))
    })?;
    let (value, notes) = bounded(
        &state,
        state
            .engine
            .range_annotated(auth.tenant(), query, start, end, step),
    )
    .await?;
    Ok(encode::success(&value, &notes))
}

fn window(params: &Params) -> Result<(i64, i64), PromError> {
    let start = params.time("start", MIN_TIME)?;
    let end = params.time("end", MAX_TIME)?;
    if end < start {
        return Err(PromError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    Ok((start, end))
}

/// `GET|POST /api/v1/series`: `match[]` (at least one), `start`, `end`.
pub async fn series<A: TenantAuth>(
    auth: A,
    State(state): State<PrometheusState>,
    params: Params,
) -> Answer {
    let matchers = params.all("match[]");
    if matchers.is_empty() {
        return Err(PromError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = window(&params)?;
    let series = bounded(
        &state,
        state.engine.series(auth.tenant(), &matchers, start, end),
    )
    .await
    .map_err(|e| PromError::from_query(e, "match[]"))?;
    Ok(success(json!(series)))
}

/// `GET|POST /api/v1/labels`: optional `match[]`, `start`, `end`.
pub async fn labels<A: TenantAuth>(
    auth: A,
    State(state): State<PrometheusState>,
    params: Params,
) -> Answer {
    let (start, end) = window(&params)?;
    let selectors = params.all("match[]");
    let names = bounded(
        &state,
        state
            .engine
            .labels(auth.tenant(), None, &selectors, start, end),
    )
    .await
    .map_err(|e| PromError::from_query(e, "match[]"))?;
    Ok(success(json!(names)))
}

/// `GET /api/v1/label/{name}/values`: optional `match[]`, `start`, `end`.
pub async fn label_values<A: TenantAuth>(
    auth: A,
    State(state): State<PrometheusState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<JsonText, PromError> {
    let label_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !label_ok {
        return Err(PromError::bad_data(format!("invalid label name: {name:?}")));
    }
    let (start, end) = window(&params)?;
    let selectors = params.all("match[]");
    let values = bounded(
        &state,
        state
            .engine
            .labels(auth.tenant(), Some(&name), &selectors, start, end),
    )
    .await
    .map_err(|e| PromError::from_query(e, "match[]"))?;
    Ok(encode::success_strings(&values))
}

/// `GET|POST /api/v1/format_query`: `query`, printed back in canonical layout.
pub async fn format_query<A: TenantAuth>(_auth: A, params: Params) -> Answer {
    let formatted = promql_engine::format_query(params.required("query")?)?;
    Ok(success(json!(formatted)))
}

/// `GET /api/v1/metadata`: every metric of the tenant (or `metric`), typed `unknown`:
/// Monasca keeps no type, help or unit. `limit` caps the number of metrics.
pub async fn metadata<A: TenantAuth>(
    auth: A,
    State(state): State<PrometheusState>,
    params: Params,
) -> Answer {
    let limit = match params.get("limit") {
        None | Some("") => usize::MAX,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            Ok(_) => usize::MAX,
            Err(_) => {
                return Err(PromError::bad_data(format!(
                    "invalid parameter \"limit\": {l:?}"
                )));
            }
        },
    };
    let (engine, tenant) = (&state.engine, auth.tenant());
    let wanted = params.get("metric").filter(|m| !m.is_empty());
    let work = async {
        let names = match wanted {
            Some(m) => vec![m.to_string()],
            None => {
                let name = Some(promql_engine::METRIC_NAME);
                engine.labels(tenant, name, &[], MIN_TIME, MAX_TIME).await?
            }
        };
        let mut out = Map::new();
        for name in names.into_iter().take(limit) {
            let selector = format!("{{__name__={name:?}}}");
            let series = engine
                .series(tenant, &[selector], MIN_TIME, MAX_TIME)
                .await?;
            if !series.is_empty() {
                out.insert(name, json!([{"type": "unknown", "help": "", "unit": ""}]));
            }
        }
        Ok(out)
    };
    let out = bounded(&state, work)
        .await
        .map_err(|e| PromError::from_query(e, "metric"))?;
    Ok(success(Value::Object(out)))
}

/// `GET /api/v1/status/buildinfo`: Vigil's version where Prometheus's would be.
pub async fn buildinfo<A: TenantAuth>(_auth: A) -> Answer {
    Ok(success(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "vigil",
        "buildDate": "",
        "goVersion": "",
        "application": "vigil",
    })))
}
