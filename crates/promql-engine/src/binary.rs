//! Binary operators: arithmetic and comparisons between scalars and vectors with
//! `on`/`ignoring`/`group_left`/`group_right`, and the set operators.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use crate::{
    error::{QueryError, bad, exec},
    eval::Evaluator,
    value::{Labels, METRIC_NAME, Sample, Value, drop_name, mix, signature},
};

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Or,
    Unless,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "^" => Op::Pow,
            "atan2" => Op::Atan2,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            "<" => Op::Lt,
            ">=" => Op::Ge,
            "<=" => Op::Le,
            "and" => Op::And,
            "or" => Op::Or,
            "unless" => Op::Unless,
            _ => return None,
        })
    }

    fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }

    /// The result of `l op r` and, for comparisons, whether it holds (then the result is
    /// `l`, the value a filter keeps).
    fn apply(self, l: f64, r: f64) -> (f64, bool) {
        let cmp = |holds: bool| (l, holds);
        match self {
            Op::Add => (l + r, true),
            Op::Sub => (l - r, true),
            Op::Mul => (l * r, true),
            Op::Div => (l / r, true),
            // Go's math.Mod: the sign of the dividend, as Rust's `%` on floats.
            Op::Mod => (l % r, true),
            Op::Pow => (l.powf(r), true),
            Op::Atan2 => (l.atan2(r), true),
            Op::Eq => cmp(l == r),
            Op::Ne => cmp(l != r),
            Op::Gt => cmp(l > r),
            Op::Lt => cmp(l < r),
            Op::Ge => cmp(l >= r),
            Op::Le => cmp(l <= r),
            Op::And | Op::Or | Op::Unless => (l, true),
        }
    }
}

pub(crate) fn eval(ev: &Evaluator, b: &BinaryExpr, t: i64) -> Result<Value, QueryError> {
    let op_name = b.op.to_string();
    let op = Op::parse(&op_name)
        .ok_or_else(|| bad(format!("binary operator {op_name:?} is not supported")))?;
    let return_bool = b.return_bool();
    let lhs = ev.eval(&b.lhs, t)?;
    let rhs = ev.eval(&b.rhs, t)?;
    Ok(match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => {
            let (v, holds) = op.apply(l, r);
            Value::Scalar(if op.is_comparison() {
                f64::from(u8::from(holds))
            } else {
                v
            })
        }
        (Value::Vector(l), Value::Scalar(r)) => {
            Value::Vector(with_scalar(op, l, r, false, return_bool, t))
        }
        (Value::Scalar(l), Value::Vector(r)) => {
            Value::Vector(with_scalar(op, r, l, true, return_bool, t))
        }
        (Value::Vector(l), Value::Vector(r)) => Value::Vector(match op {
            Op::And | Op::Or | Op::Unless => set_op(op, b, l, r),
            _ => vector_op(op, b, l, r, return_bool, t)?,
        }),
        (l, r) => {
            return Err(bad(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                l.type_name(),
                r.type_name()
            )));
        }
    })
}

/// A vector and a scalar; `swapped` when the scalar is on the left.
fn with_scalar(
    op: Op,
    v: Vec<Sample>,
    s: f64,
    swapped: bool,
    return_bool: bool,
    t: i64,
) -> Vec<Sample> {
    let mut out = Vec::with_capacity(v.len());
    for sample in v {
        let (l, r) = if swapped {
            (s, sample.value)
        } else {
            (sample.value, s)
        };
        let (mut value, holds) = op.apply(l, r);
        // A comparison filter keeps the vector's value, whichever side it is on.
        if op.is_comparison() && swapped {
            value = sample.value;
        }
        if return_bool {
            value = f64::from(u8::from(holds));
        } else if !holds {
            continue;
        }
        let labels = if op.is_comparison() && !return_bool {
            sample.labels
        } else {
            drop_name(&sample.labels)
        };
        out.push(Sample {
            labels,
            timestamp: t,
            value,
        });
    }
    out
}

/// How two vectors' samples are matched: the labels `on` lists (`include`) or all but the
/// ones `ignoring` lists.
fn matching(b: &BinaryExpr) -> (&[String], bool) {
    match b.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
        Some(LabelModifier::Include(l)) => (&l.labels, true),
        Some(LabelModifier::Exclude(l)) => (&l.labels, false),
        None => (&[], false),
    }
}

fn set_op(op: Op, b: &BinaryExpr, l: Vec<Sample>, r: Vec<Sample>) -> Vec<Sample> {
    let (names, include) = matching(b);
    let sig = |s: &Sample| signature(&s.labels, names, include);
    match op {
        Op::And => {
            let right: HashSet<u64> = r.iter().map(sig).collect();
            l.into_iter().filter(|s| right.contains(&sig(s))).collect()
        }
        Op::Unless => {
            let right: HashSet<u64> = r.iter().map(sig).collect();
            l.into_iter().filter(|s| !right.contains(&sig(s))).collect()
        }
        _ => {
            let left: HashSet<u64> = l.iter().map(sig).collect();
            let mut out = l;
            out.extend(r.into_iter().filter(|s| !left.contains(&sig(s))));
            out
        }
    }
}

fn vector_op(
    op: Op,
    b: &BinaryExpr,
    l: Vec<Sample>,
    r: Vec<Sample>,
    return_bool: bool,
    t: i64,
) -> Result<Vec<Sample>, QueryError> {
    let (names, include) = matching(b);
    let card = b
        .modifier
        .as_ref()
        .map_or(&VectorMatchCardinality::OneToOne, |m| &m.card);
    let (extra, one_to_one, swap): (&[String], bool, bool) = match card {
        VectorMatchCardinality::ManyToOne(ls) => (&ls.labels, false, false),
        VectorMatchCardinality::OneToMany(ls) => (&ls.labels, false, true),
        _ => (&[], true, false),
    };
    // The "many" side is iterated; the "one" side is looked up and must be unique.
    let (many, one) = if swap { (r, l) } else { (l, r) };
    let mut one_by_sig: HashMap<u64, Sample> = HashMap::new();
    for s in one {
        let sig = signature(&s.labels, names, include);
        if let Some(earlier) = one_by_sig.get(&sig) {
            let side = if swap { "left" } else { "right" };
            // Both series, in order (Prometheus 3; 2.x named the later one first).
            let mut both = [show_labels(&s.labels), show_labels(&earlier.labels)];
            both.sort();
            return Err(exec(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                show_group(&s.labels, names, include),
                both[0],
                both[1]
            )));
        }
        one_by_sig.insert(sig, s);
    }
    let drop = !op.is_comparison() || return_bool;
    let mut seen: HashSet<u64> = HashSet::new();
    let mut out = Vec::new();
    for s in many {
        let sig = signature(&s.labels, names, include);
        let Some(o) = one_by_sig.get(&sig) else {
            continue;
        };
        let (lv, rv) = if swap {
            (o.value, s.value)
        } else {
            (s.value, o.value)
        };
        let (mut value, holds) = op.apply(lv, rv);
        if return_bool {
            value = f64::from(u8::from(holds));
        } else if !holds {
            continue;
        }
        let mut labels = Labels::clone(&s.labels);
        if drop {
            labels.remove(METRIC_NAME);
        }
        if one_to_one {
            if include {
                labels.retain(|k, _| names.iter().any(|n| n == k));
            } else {
                labels.retain(|k, _| !names.iter().any(|n| n == k));
            }
            if !seen.insert(sig) {
                return Err(exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else {
            for name in extra {
                match o.labels.get(name) {
                    Some(v) => labels.insert(name.clone(), v.clone()),
                    None => labels.remove(name),
                };
            }
            let key = mix(
                signature(&labels, &[], false),
                labels.get(METRIC_NAME).map_or("", String::as_str),
            );
            if !seen.insert(key) {
                return Err(exec(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                ));
            }
        }
        out.push(Sample {
            labels: Arc::new(labels),
            timestamp: t,
            value,
        });
    }
    Ok(out)
}

fn show_group(labels: &Labels, names: &[String], include: bool) -> String {
    let parts: Vec<String> = labels
        .iter()
        .filter(|(k, _)| {
            let listed = names.iter().any(|n| n == *k);
            if include {
                listed
            } else {
                !listed && *k != METRIC_NAME
            }
        })
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// A label set as Prometheus prints one: `{__name__="cpu", host="a"}`.
fn show_labels(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}
