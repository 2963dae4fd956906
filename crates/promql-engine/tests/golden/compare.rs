//! How a result is compared with an eval's expectations: Prometheus's float tolerance, the
//! result's type, label sets, values and order, the error, the annotations.

use promql_engine::{Annotations, QueryError, QueryValue};

use crate::{
    promqltest::{Eval, LabelSet, SeqValue, Wanted},
    upstream::Format,
};

/// Prometheus's `almost.Equal`: NaN equals NaN (the stale marker only itself), else a
/// relative difference under `epsilon` (its tests: 1e-6), or an absolute one near zero.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    let min_normal = f64::MIN_POSITIVE;
    let stale = |x: f64| x.to_bits() == crate::promqltest::STALE_NAN_BITS;
    if stale(a) || stale(b) {
        return stale(a) && stale(b);
    }
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < epsilon * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

pub fn expected_failure(ev: &Eval, e: &QueryError) -> Result<(), String> {
    let got = e.to_string();
    if let Some(m) = &ev.fail_message
        && *m != got
    {
        return Err(format!("expected error {m:?}, got {got:?}"));
    }
    if let Some(r) = &ev.fail_regexp {
        let re = regex::Regex::new(r).map_err(|e| format!("bad expected_fail_regexp: {e}"))?;
        if !re.is_match(&got) {
            return Err(format!("expected an error matching {r:?}, got {got:?}"));
        }
    }
    for (_, wanted) in ev.expects.iter().filter(|(k, _)| k == "fail") {
        if !matches(wanted.as_ref(), &got)? {
            return Err(format!("expected an error as {wanted:?}, got {got:?}"));
        }
    }
    Ok(())
}

/// Whether `text` is what an `expect` line wants (anything, when it names nothing).
fn matches(wanted: Option<&Wanted>, text: &str) -> Result<bool, String> {
    Ok(match wanted {
        None => true,
        Some(Wanted::Message(m)) => m == text,
        Some(Wanted::Pattern(p)) => regex::Regex::new(p)
            .map_err(|e| format!("bad pattern {p:?}: {e}"))?
            .is_match(text),
    })
}

/// `message` without a trailing ` (line:column)`.
fn without_position(message: &str) -> String {
    let stripped = message.strip_suffix(')').and_then(|m| m.rsplit_once(" ("));
    match stripped {
        Some((text, pos))
            if pos.split_once(':').is_some_and(|(l, c)| {
                [l, c]
                    .iter()
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            }) =>
        {
            text.to_string()
        }
        _ => message.to_string(),
    }
}

/// The warnings and infos against the eval's expectations, as the runner of `format` checks
/// them.
pub fn check_annotations(ev: &Eval, notes: &Annotations, format: Format) -> Result<(), String> {
    if format == Format::Two {
        return Ok(());
    }
    if ev.warn && notes.warnings.is_empty() {
        return Err("expected warnings, got none".into());
    }
    if ev.info && notes.infos.is_empty() {
        return Err("expected infos, got none".into());
    }
    // Up to 3.3 any warning an `eval` does not ask for fails it; from 3.4 only `no_warn` does.
    if format == Format::Three && !ev.warn && !notes.warnings.is_empty() {
        return Err(format!("unexpected warnings {:?}", notes.warnings));
    }
    // The 3.4+ runner compares the messages without the query, so without the position the
    // API adds (` (1:10)`).
    let bare = |v: &[String]| -> Vec<String> { v.iter().map(|m| without_position(m)).collect() };
    let (warnings, infos) = (bare(&notes.warnings), bare(&notes.infos));
    for (kind, got) in [("warn", &warnings), ("info", &infos)] {
        let wanted: Vec<_> = ev.expects.iter().filter(|(k, _)| k == kind).collect();
        if ev.expects.iter().any(|(k, _)| *k == format!("no_{kind}")) && !got.is_empty() {
            return Err(format!("unexpected {kind} annotations {got:?}"));
        }
        if wanted.is_empty() {
            continue;
        }
        if got.is_empty() {
            return Err(format!("expected {kind} annotations, got none"));
        }
        for (_, w) in &wanted {
            if !got
                .iter()
                .map(|g| matches(w.as_ref(), g))
                .any(|m| m == Ok(true))
            {
                return Err(format!("no {kind} annotation as {w:?} in {got:?}"));
            }
        }
        for g in got.iter() {
            if !wanted
                .iter()
                .any(|(_, w)| matches(w.as_ref(), g) == Ok(true))
            {
                return Err(format!("unexpected {kind} annotation {g:?}"));
            }
        }
    }
    Ok(())
}

pub fn show(labels: &LabelSet) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

pub fn compare_instant(
    ev: &Eval,
    value: &QueryValue,
    ordered: bool,
    epsilon: f64,
) -> Result<(), String> {
    match value {
        QueryValue::Scalar(_, v) => match ev.scalar {
            Some(want) if almost_equal(want, *v, epsilon) => Ok(()),
            Some(want) => Err(format!("expected scalar {want}, got {v}")),
            None => Err(format!("expected a vector, got scalar {v}")),
        },
        QueryValue::Vector(samples) => {
            if ev.scalar.is_some() {
                return Err(format!(
                    "expected a scalar, got a vector of {}",
                    samples.len()
                ));
            }
            for (pos, (labels, _, v)) in samples.iter().enumerate() {
                let Some(k) = ev.series.iter().position(|(l, _)| *l == **labels) else {
                    return Err(format!("unexpected {} {v}", show(labels)));
                };
                if ordered && k != pos {
                    return Err(format!("{} at position {pos}, expected {k}", show(labels)));
                }
                let want = ev.series[k].1.first().copied().flatten();
                if !want.is_some_and(|w| almost_equal(w, *v, epsilon)) {
                    return Err(format!("{}: expected {want:?}, got {v}", show(labels)));
                }
            }
            for (labels, _) in &ev.series {
                if !samples.iter().any(|(l, _, _)| **l == *labels) {
                    return Err(format!("missing {}", show(labels)));
                }
            }
            Ok(())
        }
        QueryValue::String(_, got) => match &ev.string {
            Some(want) if want == got => Ok(()),
            _ => Err(format!("expected {:?}, got string {got:?}", ev.string)),
        },
        other => Err(format!("unexpected result type: {other:?}")),
    }
}

pub fn compare_matrix(
    ev: &Eval,
    value: &QueryValue,
    start: i64,
    step: i64,
    epsilon: f64,
) -> Result<(), String> {
    let QueryValue::Matrix(series) = value else {
        return Err(format!("expected a matrix, got {value:?}"));
    };
    if series.windows(2).any(|w| w[0].labels > w[1].labels) {
        return Err("the series are not sorted by labels".into());
    }
    let expected_points = |values: &[SeqValue]| -> Vec<(i64, f64)> {
        values
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (start + k as i64 * step, v)))
            .collect()
    };
    for s in series {
        let Some((_, values)) = ev.series.iter().find(|(l, _)| *l == *s.labels) else {
            return Err(format!("unexpected {} {:?}", show(&s.labels), s.points));
        };
        let want = expected_points(values);
        let same = want.len() == s.points.len()
            && want
                .iter()
                .zip(&s.points)
                .all(|(w, g)| w.0 == g.0 && almost_equal(w.1, g.1, epsilon));
        if !same {
            return Err(format!(
                "{}: expected {want:?}, got {:?}",
                show(&s.labels),
                s.points
            ));
        }
    }
    for (labels, _) in &ev.series {
        if !series.iter().any(|s| *s.labels == *labels) {
            return Err(format!("missing {}", show(labels)));
        }
    }
    Ok(())
}
