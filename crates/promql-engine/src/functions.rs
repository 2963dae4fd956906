//! PromQL's functions: over range vectors (`rate`, `*_over_time`, …), element-wise math,
//! time, labels and sorting.

use std::{collections::HashMap, sync::Arc};

use promql_parser::{
    label::MatchOp,
    parser::{Call, Expr},
};

use crate::{
    annotations::{Note, Site},
    error::{QueryError, bad, exec},
    eval::Evaluator,
    math::{self, kahan_add, linear_regression, quantile},
    select::{duration_ms, key_of},
    value::{Labels, METRIC_NAME, Sample, Series, Value, drop_name, several_names},
};

pub(crate) fn call(ev: &Evaluator, call: &Call, t: i64) -> Result<Value, QueryError> {
    let name = call.func.name;
    let address = std::ptr::from_ref(call) as usize;
    let args: Vec<&Expr> = call.args.args.iter().map(|a| &**a).collect();
    let arg = |i: usize| {
        args.get(i)
            .copied()
            .ok_or_else(|| bad(format!("missing argument {} of {name}", i + 1)))
    };
    match name {
        "rate"
        | "increase"
        | "delta"
        | "irate"
        | "idelta"
        | "resets"
        | "changes"
        | "deriv"
        | "avg_over_time"
        | "min_over_time"
        | "max_over_time"
        | "sum_over_time"
        | "count_over_time"
        | "last_over_time"
        | "first_over_time"
        | "present_over_time"
        | "stddev_over_time"
        | "stdvar_over_time"
        | "mad_over_time"
        | "ts_of_first_over_time"
        | "ts_of_last_over_time" => {
            let m = arg(0)?;
            if matches!(name, "rate" | "increase") {
                note_non_counters(ev, m, address);
            }
            let (from, to) = window(ev, m, t);
            let keep_name = matches!(name, "last_over_time" | "first_over_time");
            over_range(ev, m, t, keep_name, |points| {
                range_fn(name, points, from, to)
            })
        }
        "quantile_over_time" => {
            let q = scalar(ev, arg(0)?, t)?;
            if !(0.0..=1.0).contains(&q) {
                ev.notes
                    .add(Note::invalid_quantile(Site::Arg(address, 0), q));
            }
            over_range(ev, arg(1)?, t, false, |points| {
                Some(quantile(q, points.iter().map(|p| p.1).collect()))
            })
        }
        "double_exponential_smoothing" => {
            let (sf, tf) = (scalar(ev, arg(1)?, t)?, scalar(ev, arg(2)?, t)?);
            for (what, f) in [("smoothing", sf), ("trend", tf)] {
                if !(f > 0.0 && f < 1.0) {
                    // Go's `%f`: six decimals.
                    return Err(exec(format!(
                        "invalid {what} factor. Expected: 0 < {} < 1, got: {f:.6}",
                        if what == "smoothing" { "sf" } else { "tf" }
                    )));
                }
            }
            over_range(ev, arg(0)?, t, false, |p| math::double_smoothing(p, sf, tf))
        }
        "predict_linear" => {
            let secs = scalar(ev, arg(1)?, t)?;
            over_range(ev, arg(0)?, t, false, |points| {
                if points.len() < 2 {
                    return None;
                }
                let (slope, intercept) = linear_regression(points, t);
                Some(slope * secs + intercept)
            })
        }
        "absent" => {
            let v = vector(ev, arg(0)?, t)?;
            Ok(Value::Vector(if v.is_empty() {
                vec![one(absent_labels(arg(0)?), t)]
            } else {
                Vec::new()
            }))
        }
        "absent_over_time" => {
            let m = matrix(ev, arg(0)?, t)?;
            Ok(Value::Vector(if m.is_empty() {
                vec![one(absent_labels(arg(0)?), t)]
            } else {
                Vec::new()
            }))
        }
        "time" => Ok(Value::Scalar(t as f64 / 1000.0)),
        "pi" => Ok(Value::Scalar(std::f64::consts::PI)),
        "vector" => Ok(Value::Vector(vec![Sample {
            labels: Arc::new(Labels::new()),
            timestamp: t,
            value: scalar(ev, arg(0)?, t)?,
        }])),
        "scalar" => {
            let v = vector(ev, arg(0)?, t)?;
            Ok(Value::Scalar(match v.as_slice() {
                [s] => s.value,
                _ => f64::NAN,
            }))
        }
        "timestamp" => map(vector(ev, arg(0)?, t)?, t, |s| {
            Some(s.timestamp as f64 / 1000.0)
        }),
        "minute" | "hour" | "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month"
        | "month" | "year" => {
            let input = match args.first() {
                Some(a) => vector(ev, a, t)?,
                None => vec![Sample {
                    labels: Arc::new(Labels::new()),
                    timestamp: t,
                    value: t as f64 / 1000.0,
                }],
            };
            map(input, t, |s| {
                s.value.is_finite().then(|| math::date_part(name, s.value))
            })
        }
        "clamp" => {
            let v = vector(ev, arg(0)?, t)?;
            let (lo, hi) = (scalar(ev, arg(1)?, t)?, scalar(ev, arg(2)?, t)?);
            if hi < lo {
                return Ok(Value::Vector(Vec::new()));
            }
            map(v, t, |s| Some(clamp(s.value, lo, hi)))
        }
        "clamp_min" => {
            let lo = scalar(ev, arg(1)?, t)?;
            map(vector(ev, arg(0)?, t)?, t, |s| {
                Some(clamp(s.value, lo, f64::INFINITY))
            })
        }
        "clamp_max" => {
            let hi = scalar(ev, arg(1)?, t)?;
            map(vector(ev, arg(0)?, t)?, t, |s| {
                Some(clamp(s.value, f64::NEG_INFINITY, hi))
            })
        }
        "round" => {
            let to_nearest = match args.get(1) {
                Some(a) => scalar(ev, a, t)?,
                None => 1.0,
            };
            let inverse = 1.0 / to_nearest;
            map(vector(ev, arg(0)?, t)?, t, |s| {
                Some((s.value * inverse + 0.5).floor() / inverse)
            })
        }
        "histogram_quantile" => {
            let q = scalar(ev, arg(0)?, t)?;
            let buckets = vector(ev, arg(1)?, t)?;
            if !(0.0..=1.0).contains(&q) {
                ev.notes
                    .add(Note::invalid_quantile(Site::Arg(address, 0), q));
            }
            histogram_quantile(ev, address, q, buckets, t)
        }
        "label_replace" => label_replace(ev, &args, t),
        "label_join" => label_join(ev, &args, t),
        "sort" | "sort_desc" => {
            let mut v = vector(ev, arg(0)?, t)?;
            let desc = name == "sort_desc";
            // NaN sorts last either way, as Prometheus does.
            v.sort_by(|a, b| match (a.value.is_nan(), b.value.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if desc => b.value.total_cmp(&a.value),
                _ => a.value.total_cmp(&b.value),
            });
            Ok(Value::Vector(v))
        }
        "sort_by_label" | "sort_by_label_desc" => {
            let mut v = vector(ev, arg(0)?, t)?;
            let keys = args[1..]
                .iter()
                .map(|a| string(ev, a, t))
                .collect::<Result<Vec<_>, _>>()?;
            v.sort_by(|a, b| {
                let pick = |s: &Sample| -> Vec<String> {
                    keys.iter()
                        .map(|k| s.labels.get(k).cloned().unwrap_or_default())
                        .collect()
                };
                let o = pick(a)
                    .iter()
                    .zip(&pick(b))
                    .map(|(x, y)| math::natural_cmp(x, y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.labels.cmp(&b.labels));
                if name == "sort_by_label_desc" {
                    o.reverse()
                } else {
                    o
                }
            });
            Ok(Value::Vector(v))
        }
        _ => match math::elementwise(name) {
            Some(f) => map(vector(ev, arg(0)?, t)?, t, |s| Some(f(s.value))),
            None => Err(bad(format!(
                "function {name:?} is not supported by Vigil yet"
            ))),
        },
    }
}

/// `v` within `[lo, hi]`; NaN (in any of them) stays NaN, as with Go's `math.Min`/`Max`.
fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    if v.is_nan() || lo.is_nan() || hi.is_nan() {
        f64::NAN
    } else {
        v.max(lo).min(hi)
    }
}

/// The `(start, end)` a range function extrapolates to: the window of its range argument.
fn window(ev: &Evaluator, e: &Expr, t: i64) -> (i64, i64) {
    match e {
        Expr::Paren(p) => window(ev, &p.expr, t),
        Expr::MatrixSelector(ms) => {
            let end = ev
                .span
                .at_offset(ms.vs.at.as_ref(), ms.vs.offset.as_ref(), t);
            (end.saturating_sub(duration_ms(ms.range)), end)
        }
        Expr::Subquery(sq) => {
            let end = ev.span.at_offset(sq.at.as_ref(), sq.offset.as_ref(), t);
            (end.saturating_sub(duration_ms(sq.range)), end)
        }
        _ => (t, t),
    }
}

pub(crate) fn range_fn(name: &str, p: &[(i64, f64)], from: i64, to: i64) -> Option<f64> {
    let values = || p.iter().map(|x| x.1);
    let (first, last) = (p.first()?, p.last()?);
    Some(match name {
        "rate" => math::extrapolated_rate(p, from, to, true, true)?,
        "increase" => math::extrapolated_rate(p, from, to, true, false)?,
        "delta" => math::extrapolated_rate(p, from, to, false, false)?,
        "irate" | "idelta" => {
            let [.., prev, cur] = p else { return None };
            let mut d = cur.1 - prev.1;
            if name == "idelta" {
                return Some(d);
            }
            if cur.1 < prev.1 {
                d = cur.1;
            }
            let secs = (cur.0 - prev.0) as f64 / 1000.0;
            if secs == 0.0 {
                return None;
            }
            d / secs
        }
        "resets" => p.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64,
        "changes" => p
            .windows(2)
            .filter(|w| !(w[1].1 == w[0].1 || (w[1].1.is_nan() && w[0].1.is_nan())))
            .count() as f64,
        "deriv" => {
            if p.len() < 2 {
                return None;
            }
            linear_regression(p, first.0).0
        }
        "sum_over_time" => {
            let (s, c) = values().fold((0.0, 0.0), |(s, c), v| kahan_add(v, s, c));
            s + c
        }
        "avg_over_time" => math::mean(values()),
        "min_over_time" => values().fold(f64::NAN, |m, v| if v < m || m.is_nan() { v } else { m }),
        "max_over_time" => values().fold(f64::NAN, |m, v| if v > m || m.is_nan() { v } else { m }),
        "count_over_time" => p.len() as f64,
        "last_over_time" => last.1,
        "first_over_time" => first.1,
        "ts_of_first_over_time" => first.0 as f64 / 1000.0,
        "ts_of_last_over_time" => last.0 as f64 / 1000.0,
        "present_over_time" => 1.0,
        "stdvar_over_time" => math::variance(values()),
        "stddev_over_time" => math::variance(values()).sqrt(),
        "mad_over_time" => {
            let all: Vec<f64> = values().collect();
            let median = quantile(0.5, all.clone());
            quantile(0.5, all.iter().map(|v| (v - median).abs()).collect())
        }
        _ => return None,
    })
}

/// Notes, once a query, each metric `rate`/`increase` reads over a plain selector whose name
/// does not end as a counter's does (Prometheus 3's info).
fn note_non_counters(ev: &Evaluator, e: &Expr, address: usize) {
    let Some(ms) = matrix_selector(e) else {
        return;
    };
    if !ev.notes.first_time(address) {
        return;
    }
    for s in ev.series(&ms.vs) {
        let Some(name) = s.labels.get(METRIC_NAME) else {
            continue;
        };
        if !counter_like(name) && s.points.len() >= 2 {
            ev.notes
                .add(Note::NonCounter(Site::Arg(address, 0), name.clone()));
        }
    }
}

/// Whether a metric name ends as a counter's does (else `rate` notes an info).
pub(crate) fn counter_like(name: &str) -> bool {
    ["_total", "_sum", "_count", "_bucket"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// `f` of each series of the range vector `e` at `t`, as an instant vector.
fn over_range(
    ev: &Evaluator,
    e: &Expr,
    t: i64,
    keep_name: bool,
    f: impl Fn(&[(i64, f64)]) -> Option<f64>,
) -> Result<Value, QueryError> {
    let mut out = Vec::new();
    // A plain `selector[range]` is read in place, without copying its points at every step.
    if let Some(ms) = matrix_selector(e) {
        let several = !keep_name && ev.several_names.contains(&key_of(&ms.vs));
        for (s, points) in ev.range_slices(&ms.vs, duration_ms(ms.range), t) {
            if let Some(value) = f(&points) {
                out.push(Sample {
                    labels: if keep_name {
                        s.labels.clone()
                    } else {
                        s.unnamed.clone()
                    },
                    timestamp: t,
                    value,
                });
            }
        }
        if several {
            crate::check_unique(out.iter().map(|s| &s.labels))?;
        }
        return Ok(Value::Vector(out));
    }
    let input = matrix(ev, e, t)?;
    let several = !keep_name && several_names(input.iter().map(|s| &*s.labels));
    for s in input {
        if let Some(value) = f(&s.points) {
            out.push(Sample {
                labels: if keep_name {
                    s.labels
                } else {
                    drop_name(&s.labels)
                },
                timestamp: t,
                value,
            });
        }
    }
    if several {
        crate::check_unique(out.iter().map(|s| &s.labels))?;
    }
    Ok(Value::Vector(out))
}

fn matrix_selector(e: &Expr) -> Option<&promql_parser::parser::MatrixSelector> {
    match e {
        Expr::Paren(p) => matrix_selector(&p.expr),
        Expr::MatrixSelector(ms) => Some(ms),
        _ => None,
    }
}

/// `f` of each sample, without the metric name; samples `f` maps to `None` are dropped.
fn map(v: Vec<Sample>, t: i64, f: impl Fn(&Sample) -> Option<f64>) -> Result<Value, QueryError> {
    let several = several_names(v.iter().map(|s| &*s.labels));
    let out: Vec<Sample> = v
        .iter()
        .filter_map(|s| {
            f(s).map(|value| Sample {
                labels: drop_name(&s.labels),
                timestamp: t,
                value,
            })
        })
        .collect();
    if several {
        crate::check_unique(out.iter().map(|s| &s.labels))?;
    }
    Ok(Value::Vector(out))
}

fn one(labels: Labels, t: i64) -> Sample {
    Sample {
        labels: Arc::new(labels),
        timestamp: t,
        value: 1.0,
    }
}

/// The labels `absent` gives its 1: the selector's equality matchers, but not a label
/// matched twice, by any operator (its value would be ambiguous).
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        Expr::Paren(p) => return absent_labels(&p.expr),
        _ => return Labels::new(),
    };
    let mut labels = Labels::new();
    let mut seen = std::collections::HashSet::new();
    let mut twice = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if !seen.insert(&m.name) {
            twice.push(m.name.clone());
        }
        if m.op == MatchOp::Equal {
            labels.insert(m.name.clone(), m.value.clone());
        }
    }
    for name in twice {
        labels.remove(&name);
    }
    labels
}

/// `histogram_quantile` over classic buckets: series grouped by their labels but `le` (the
/// metric name included, then dropped: two histograms left with one label set are an error).
fn histogram_quantile(
    ev: &Evaluator,
    address: usize,
    q: f64,
    v: Vec<Sample>,
    t: i64,
) -> Result<Value, QueryError> {
    let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for s in v {
        let le = s.labels.get("le").map_or("", String::as_str);
        let Some(bound) = parse_bound(le) else {
            ev.notes.add(Note::BadBucket(
                Site::Arg(address, 1),
                le.to_string(),
                s.labels.get(METRIC_NAME).cloned().unwrap_or_default(),
            ));
            continue;
        };
        let mut labels = Labels::clone(&s.labels);
        labels.remove("le");
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            groups.push((labels, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push((bound, s.value));
    }
    let out: Vec<Sample> = groups
        .into_iter()
        .map(|(mut labels, buckets)| {
            labels.remove(METRIC_NAME);
            let (value, forced) = math::bucket_quantile(q, buckets);
            if forced {
                ev.notes.add(Note::ForcedMonotonic(Site::Arg(address, 1)));
            }
            Sample {
                labels: Arc::new(labels),
                timestamp: t,
                value,
            }
        })
        .collect();
    crate::check_unique(out.iter().map(|s| &s.labels))?;
    Ok(Value::Vector(out))
}

/// A bucket's `le` as Go's ParseFloat reads it (`+Inf` included).
fn parse_bound(le: &str) -> Option<f64> {
    match le.to_ascii_lowercase().as_str() {
        "+inf" | "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => le.parse().ok(),
    }
}

fn label_replace(ev: &Evaluator, args: &[&Expr], t: i64) -> Result<Value, QueryError> {
    let [v, dst, replacement, src, re] = args else {
        return Err(bad("label_replace takes 5 arguments"));
    };
    let v = vector(ev, v, t)?;
    let (dst, replacement) = (string(ev, dst, t)?, string(ev, replacement, t)?);
    let (src, re) = (string(ev, src, t)?, string(ev, re, t)?);
    // Prometheus finds these while evaluating: execution errors, not bad data.
    let regex = regex::Regex::new(&format!("^(?s:{re})$")).map_err(|_| {
        exec(format!(
            "invalid regular expression in label_replace(): {re}"
        ))
    })?;
    check_label_name(&dst, "destination", "label_replace")?;
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
        let value = s.labels.get(&src).map_or("", String::as_str);
        if let Some(caps) = regex.captures(value) {
            let mut to = String::new();
            caps.expand(&replacement, &mut to);
            set_label(&mut s.labels, &dst, to);
        }
        out.push(s);
    }
    crate::check_unique(out.iter().map(|s| &s.labels))?;
    Ok(Value::Vector(out))
}

fn label_join(ev: &Evaluator, args: &[&Expr], t: i64) -> Result<Value, QueryError> {
    let [v, dst, sep, srcs @ ..] = args else {
        return Err(bad("label_join takes at least 3 arguments"));
    };
    let v = vector(ev, v, t)?;
    let (dst, sep) = (string(ev, dst, t)?, string(ev, sep, t)?);
    let srcs = srcs
        .iter()
        .map(|a| string(ev, a, t))
        .collect::<Result<Vec<_>, _>>()?;
    for src in &srcs {
        check_label_name(src, "source", "label_join")?;
    }
    check_label_name(&dst, "destination", "label_join")?;
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
        let joined = srcs
            .iter()
            .map(|k| s.labels.get(k).map_or("", String::as_str))
            .collect::<Vec<_>>()
            .join(&sep);
        set_label(&mut s.labels, &dst, joined);
        out.push(s);
    }
    crate::check_unique(out.iter().map(|s| &s.labels))?;
    Ok(Value::Vector(out))
}

/// Prometheus 3 takes any non-empty UTF-8 label name (2.x wanted `[a-zA-Z_][a-zA-Z0-9_]*`).
fn check_label_name(name: &str, role: &str, function: &str) -> Result<(), QueryError> {
    if name.is_empty() {
        // Prometheus finds these while evaluating: execution errors, not bad data.
        Err(exec(format!(
            "invalid {role} label name in {function}(): {name}"
        )))
    } else {
        Ok(())
    }
}

/// Sets (or with an empty value, removes) a label.
fn set_label(labels: &mut Arc<Labels>, name: &str, value: String) {
    let l = Arc::make_mut(labels);
    if value.is_empty() {
        l.remove(name);
    } else {
        l.insert(name.to_string(), value);
    }
}

pub(crate) fn vector(ev: &Evaluator, e: &Expr, t: i64) -> Result<Vec<Sample>, QueryError> {
    match ev.eval(e, t)? {
        Value::Vector(v) => Ok(v),
        other => Err(bad(format!(
            "expected instant vector, got {}",
            other.type_name()
        ))),
    }
}

fn matrix(ev: &Evaluator, e: &Expr, t: i64) -> Result<Vec<Series>, QueryError> {
    match ev.eval(e, t)? {
        Value::Matrix(m) => Ok(m),
        other => Err(bad(format!(
            "expected range vector, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn scalar(ev: &Evaluator, e: &Expr, t: i64) -> Result<f64, QueryError> {
    match ev.eval(e, t)? {
        Value::Scalar(v) => Ok(v),
        other => Err(bad(format!("expected scalar, got {}", other.type_name()))),
    }
}

pub(crate) fn string(ev: &Evaluator, e: &Expr, t: i64) -> Result<String, QueryError> {
    match ev.eval(e, t)? {
        Value::String(s) => Ok(s),
        other => Err(bad(format!("expected string, got {}", other.type_name()))),
    }
}
