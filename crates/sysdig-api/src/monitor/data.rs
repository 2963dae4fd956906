//! Sysdig's legacy data API: `POST /api/data` (what sdcclient 0.17/0.18's `get_data` calls)
//! answered from the Monasca metrics of the project the caller's team reads (`[sysdig]
//! alert_tenants`; a team mapped to none sees no data).
//!
//! A request names metrics (with `aggregations.time` and `.group`) and grouping keys (without
//! aggregations), in any order; Sysdig metric ids are Monasca names, and grouping keys and
//! filter labels read dimensions as `sysdig::scope::label_value` maps them (`host.hostName`
//! reads `hostname` when no dimension has its name, `agent.tag.<k>` reads `<k>`). Each sample
//! of `sampling` seconds (the whole window when 0) has one row per group: the time aggregation
//! per series, then the group aggregation across the group's series. `filter` is Sysdig's
//! scope grammar as dashboards write it (`host.hostName = 'web1' and region in [a, b]`, every
//! operator of that grammar); `paging` keeps groups `from..=to` in the order of the first
//! metric's value (descending, ascending for `min`). `dataSourceType` is accepted
//! and not needed: Monasca has one kind of source.

use std::collections::BTreeMap;

use axum::{extract::State, response::Response};
use metric_store::{DimMatch, SeriesFilter, SeriesInfo, Stat, TimeRange};
use serde_json::{Value, json};
use sysdig::scope::{ScopeExpression, label_value};

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, ok},
};

/// Groups returned when the request has no `paging`: Sysdig's "top 10".
const DEFAULT_PAGE: (usize, usize) = (0, 9);
/// Samples one request may ask for.
const MAX_SAMPLES: i64 = 11_000;

/// One requested column: a grouping key, or a metric with its aggregations.
enum Column {
    Key(String),
    Metric { id: String, time: Stat, group: Stat },
}

fn stat(name: &str, what: &str) -> SdcResult<Stat> {
    let s = match name {
        "timeAvg" | "avg" => Stat::Avg,
        "sum" | "concat" => Stat::Sum,
        "min" => Stat::Min,
        "max" => Stat::Max,
        "count" => Stat::Count,
        // `none`: one value per series, read as its average.
        "none" => Stat::Avg,
        other => {
            return Err(SdcError::bad_request(format!(
                "Unsupported {what} aggregation '{other}'"
            )));
        }
    };
    Ok(s)
}

fn columns(body: &Value) -> SdcResult<Vec<Column>> {
    let list = body
        .get("metrics")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| SdcError::bad_request("Field 'metrics' must be a non-empty array"))?;
    list.iter()
        .map(|m| {
            let id = m
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| SdcError::bad_request("Every metric needs an 'id'"))?
                .to_string();
            Ok(match m.get("aggregations") {
                None | Some(Value::Null) => Column::Key(id),
                Some(a) => {
                    let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("avg");
                    Column::Metric {
                        time: stat(text("time"), "time")?,
                        group: stat(text("group"), "group")?,
                        id,
                    }
                }
            })
        })
        .collect()
}

/// The requested window in seconds: `last` back from now, or `start`..`end` (0 = now).
fn window(body: &Value, now_s: i64) -> SdcResult<(i64, i64)> {
    let int = |k: &str| body.get(k).and_then(Value::as_i64);
    let (start, end) = match (int("last"), int("start")) {
        (Some(last), _) if last > 0 => (now_s - last, now_s),
        (_, Some(start)) => {
            let end = match int("end").unwrap_or(0) {
                0 => now_s,
                e if e < 0 => now_s + e,
                e => e,
            };
            (if start < 0 { now_s + start } else { start }, end)
        }
        _ => {
            return Err(SdcError::bad_request(
                "The request needs 'last' or 'start' (seconds)",
            ));
        }
    };
    if end <= start {
        return Err(SdcError::bad_request("'end' must be after 'start'"));
    }
    Ok((start, end))
}

/// Dimension conditions the store selects series by.
type PushedDown = Vec<(String, DimMatch)>;

/// The request's filter: the expressions the store can select by (an exact value of a
/// dimension named as the label is), and the whole scope, checked on each series found with
/// `sysdig::scope::in_scope` (labels mapped to dimensions as the alert evaluator maps them).
fn parse_filter(filter: &str) -> SdcResult<(PushedDown, Vec<ScopeExpression>)> {
    let scope = sysdig::scope::parse(filter).map_err(|e| SdcError::bad_request(e.to_string()))?;
    let pushed = scope
        .iter()
        .filter(|e| {
            matches!(e.operator.as_str(), "equals" | "in")
                && e.operand != "host.hostName"
                && !e.operand.starts_with("agent.tag.")
        })
        .map(|e| (e.operand.clone(), DimMatch::AnyOf(e.value.clone())))
        .collect();
    Ok((pushed, scope))
}

/// A store failure: logged, and answered 503 so that the client may retry.
fn store_failed(e: metric_store::StoreError) -> SdcError {
    tracing::error!(error = %e, "data API: the metric store failed");
    SdcError::unavailable()
}

/// Combines values with an aggregation (the time aggregation of a series' points, or the group
/// aggregation of a sample's series).
fn group_value(stat: Stat, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match stat {
        Stat::Sum | Stat::Count => values.iter().sum(),
        Stat::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Stat::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => values.iter().sum::<f64>() / values.len() as f64,
    })
}

pub async fn query(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    let body = body.0;
    let cols = columns(&body)?;
    let now_s = config_repo::now_ms().div_euclid(1000);
    let (start, end) = window(&body, now_s)?;
    let sampling = body.get("sampling").and_then(Value::as_i64).unwrap_or(0);
    if sampling < 0 {
        return Err(SdcError::bad_request(
            "'sampling' must be 0 or more seconds",
        ));
    }
    let step = if sampling == 0 { end - start } else { sampling };
    if (end - start) / step > MAX_SAMPLES {
        return Err(SdcError::bad_request(format!(
            "The request asks for more than {MAX_SAMPLES} samples"
        )));
    }
    let (dims, scope) = match body.get("filter").and_then(Value::as_str) {
        Some(f) => parse_filter(f)?,
        None => (Vec::new(), Vec::new()),
    };
    let (from, to) = body
        .get("paging")
        .map(|p| {
            let n = |k: &str| p.get(k).and_then(Value::as_u64).map(|v| v as usize);
            (n("from").unwrap_or(0), n("to").unwrap_or(DEFAULT_PAGE.1))
        })
        .unwrap_or(DEFAULT_PAGE);
    let keys: Vec<&str> = cols
        .iter()
        .filter_map(|c| match c {
            Column::Key(k) => Some(k.as_str()),
            Column::Metric { .. } => None,
        })
        .collect();
    let tenant = state.tenant_of(&caller).map(str::to_string);
    let store = state.metrics.clone();
    // The end second is in the window: a value posted "now" is in the last sample.
    let range = TimeRange {
        start: start * 1000,
        end: (end + 1) * 1000,
    };
    let last_cell = ((end - start) / step - 1).max(0);
    // Per metric column: group → sample start (s) → value.
    let mut values: Vec<BTreeMap<Vec<String>, BTreeMap<i64, f64>>> = Vec::new();
    for c in &cols {
        let Column::Metric { id, time, group } = c else {
            continue;
        };
        let mut by_group: BTreeMap<Vec<String>, BTreeMap<i64, Vec<f64>>> = BTreeMap::new();
        if let (Some(tenant), Some(store)) = (&tenant, &store) {
            let mut filter = SeriesFilter::tenant(tenant.clone());
            filter.name = Some(id.clone());
            filter.dimensions = dims.clone();
            let series: Vec<SeriesInfo> = store
                .find_series(&filter, range)
                .await
                .map_err(store_failed)?;
            for s in series {
                let labels = &s.key.dimensions;
                if !sysdig::scope::in_scope(labels, &scope) {
                    continue;
                }
                let group_key: Vec<String> = keys
                    .iter()
                    .map(|k| label_value(labels, k).unwrap_or_default().to_string())
                    .collect();
                // The series' points by sample (cells of `step` from `start`), then the time
                // aggregation of each cell.
                let points = store
                    .read_points(&[s.id], range, None, usize::MAX)
                    .await
                    .map_err(store_failed)?;
                let mut cells: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                for p in points {
                    let cell = (p.timestamp.div_euclid(1000) - start)
                        .div_euclid(step)
                        .min(last_cell);
                    let t = start + cell * step;
                    cells.entry(t).or_default().push(p.value);
                }
                for (t, vs) in cells {
                    let v = match time {
                        Stat::Count => vs.len() as f64,
                        other => group_value(*other, &vs).unwrap_or(f64::NAN),
                    };
                    by_group
                        .entry(group_key.clone())
                        .or_default()
                        .entry(t)
                        .or_default()
                        .push(v);
                }
            }
        }
        values.push(
            by_group
                .into_iter()
                .map(|(g, samples)| {
                    let combined = samples
                        .into_iter()
                        .filter_map(|(t, vs)| group_value(*group, &vs).map(|v| (t, v)))
                        .collect();
                    (g, combined)
                })
                .collect(),
        );
    }
    // Groups in the order of the first metric's value over the window, then paged.
    let first_group = cols.iter().find_map(|c| match c {
        Column::Metric { group, .. } => Some(*group),
        Column::Key(_) => None,
    });
    let mut groups: Vec<(Vec<String>, f64)> = values
        .first()
        .map(|m| {
            m.iter()
                .map(|(g, samples)| {
                    let total: Vec<f64> = samples.values().copied().collect();
                    (
                        g.clone(),
                        group_value(Stat::Avg, &total).unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let ascending = matches!(first_group, Some(Stat::Min)) || first_group.is_none();
    groups.sort_by(|a, b| {
        let o = a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal);
        if ascending { o } else { o.reverse() }
    });
    let page: Vec<Vec<String>> = groups
        .into_iter()
        .skip(from)
        .take(to.saturating_sub(from) + 1)
        .map(|(g, _)| g)
        .collect();
    let mut data = Vec::new();
    let mut t = start;
    while t < end {
        for g in &page {
            let mut key_iter = g.iter();
            let mut metric_iter = values.iter();
            let d: Vec<Value> = cols
                .iter()
                .map(|c| match c {
                    Column::Key(_) => json!(key_iter.next()),
                    Column::Metric { .. } => metric_iter
                        .next()
                        .and_then(|m| m.get(g))
                        .and_then(|s| s.get(&t))
                        .map_or(Value::Null, |v| json!(v)),
                })
                .collect();
            if d.iter().any(|v| !v.is_null()) {
                data.push(json!({"t": t, "d": d}));
            }
        }
        t += step;
    }
    Ok(ok(json!({"data": data, "start": start, "end": end})))
}

/// `GET /api/data/metrics`: the catalogue of what `POST /api/data` can read for the caller's
/// team: every metric name (numbers, with the aggregations above) and every dimension key
/// (strings, for grouping and filters).
pub async fn catalogue(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let mut out = serde_json::Map::new();
    let (Some(tenant), Some(store)) = (state.tenant_of(&caller), state.metrics.as_ref()) else {
        return Ok(ok(Value::Object(out)));
    };
    let filter = SeriesFilter::tenant(tenant);
    let aggs = json!(["avg", "sum", "min", "max", "count"]);
    for name in store.metric_names(&filter).await.map_err(store_failed)? {
        out.insert(
            name.clone(),
            json!({"id": name, "type": "double", "metricType": "gauge",
                   "timeAggregations": ["timeAvg", "sum", "min", "max", "count"],
                   "groupAggregations": aggs}),
        );
    }
    for key in store
        .dimension_names(tenant, None, TimeRange::ALL)
        .await
        .map_err(store_failed)?
    {
        out.entry(key.clone())
            .or_insert_with(|| json!({"id": key, "type": "string", "metricType": "tag"}));
    }
    Ok(ok(Value::Object(out)))
}
