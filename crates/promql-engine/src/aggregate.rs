//! Aggregation operators (`sum by (…)`, `topk`, `count_values`, …).

use std::{collections::HashMap, sync::Arc};

use promql_parser::parser::{AggregateExpr, LabelModifier};

use crate::{
    annotations::{Note, Site},
    error::{QueryError, bad, exec},
    eval::Evaluator,
    functions::{scalar, string, vector},
    math::{format_value, kahan_add, quantile},
    value::{Labels, METRIC_NAME, Sample, Value, signature},
};

/// The samples of one output group.
struct Group {
    labels: Labels,
    samples: Vec<Sample>,
}

pub(crate) fn eval(ev: &Evaluator, a: &AggregateExpr, t: i64) -> Result<Value, QueryError> {
    let op = a.op.to_string();
    let input = vector(ev, &a.expr, t)?;
    let param = match (&a.param, op.as_str()) {
        (Some(p), "count_values") => {
            let name = string(ev, p, t)?;
            // Prometheus 3 takes any non-empty UTF-8 name.
            if name.is_empty() {
                return Err(exec(format!("invalid label name {name:?}")));
            }
            Param::Label(name)
        }
        (Some(p), _) => {
            let q = scalar(ev, p, t)?;
            if op == "quantile" && !(0.0..=1.0).contains(&q) {
                let address = std::ptr::from_ref(a) as usize;
                ev.notes
                    .add(Note::invalid_quantile(Site::Param(address), q));
            }
            Param::Number(q)
        }
        (None, _) => Param::None,
    };
    let (names, by): (&[String], bool) = match &a.modifier {
        None => (&[], true),
        Some(LabelModifier::Include(l)) => (&l.labels, true),
        Some(LabelModifier::Exclude(l)) => (&l.labels, false),
    };
    // `count_values` sets its label on each sample before grouping, a `by` keeping it too: a
    // label of the input by that name is overwritten, and groups it told apart may merge.
    let counted_names: Vec<String>;
    let names = match &param {
        Param::Label(name) if by => {
            counted_names = names.iter().chain([name]).cloned().collect();
            &counted_names[..]
        }
        _ => names,
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for s in input {
        let counted = match &param {
            Param::Label(name) => {
                let mut labels = Labels::clone(&s.labels);
                labels.insert(name.clone(), format_value(s.value));
                Some(labels)
            }
            _ => None,
        };
        let labels = counted.as_ref().unwrap_or(&s.labels);
        let key = signature(labels, names, by);
        // The group's labels are built once, by its first sample.
        let i = *index.entry(key).or_insert_with(|| {
            let labels = group_labels(labels, names, by);
            groups.push(Group {
                labels,
                samples: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].samples.push(s);
    }
    let mut out = Vec::new();
    for g in groups {
        let values = || g.samples.iter().map(|s| s.value);
        let n = g.samples.len() as f64;
        let value = match op.as_str() {
            "sum" => {
                let (s, c) = values().fold((0.0, 0.0), |(s, c), v| kahan_add(v, s, c));
                s + c
            }
            "avg" => crate::math::mean(values()),
            "count" | "count_values" => n,
            "group" => 1.0,
            "min" => values().fold(f64::NAN, |m, v| if v < m || m.is_nan() { v } else { m }),
            "max" => values().fold(f64::NAN, |m, v| if v > m || m.is_nan() { v } else { m }),
            "stdvar" => crate::math::variance(values()),
            "stddev" => crate::math::variance(values()).sqrt(),
            "quantile" => quantile(param.number(), values().collect()),
            "topk" | "bottomk" => {
                out.extend(top(g.samples, param.number(), op == "topk", t));
                continue;
            }
            other => {
                return Err(bad(format!(
                    "aggregation {other:?} is not supported by Vigil yet"
                )));
            }
        };
        out.push(Sample {
            labels: Arc::new(g.labels),
            timestamp: t,
            value,
        });
    }
    Ok(Value::Vector(out))
}

enum Param {
    None,
    Number(f64),
    Label(String),
}

impl Param {
    fn number(&self) -> f64 {
        match self {
            Param::Number(v) => *v,
            _ => f64::NAN,
        }
    }
}

/// The `k` largest (`largest`) or smallest samples, with their own labels; NaN ranks last.
fn top(mut samples: Vec<Sample>, k: f64, largest: bool, t: i64) -> Vec<Sample> {
    if k.is_nan() || k < 1.0 {
        return Vec::new();
    }
    let k = if k > samples.len() as f64 {
        samples.len()
    } else {
        k as usize
    };
    samples.sort_by(|a, b| match (a.value.is_nan(), b.value.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if largest => b.value.total_cmp(&a.value),
        _ => a.value.total_cmp(&b.value),
    });
    samples.truncate(k);
    for s in &mut samples {
        s.timestamp = t;
    }
    samples
}

/// The labels of the group a sample with `labels` falls in: those `names` (`by`), or all but
/// those and the metric name (`without`).
pub(crate) fn group_labels(labels: &Labels, names: &[String], by: bool) -> Labels {
    labels
        .iter()
        .filter(|(k, _)| {
            let listed = names.iter().any(|n| n == *k);
            if by {
                listed
            } else {
                !listed && *k != METRIC_NAME
            }
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
