//! Prometheus's own PromQL test files replayed against Vigil's engine: every `*.test` under
//! `$VIGIL_PROMQL_TESTDATA` (fetched from prometheus/prometheus, never kept in this repo) is
//! read by `promqltest.rs`, its series loaded into a `MemoryStore` (stale markers as
//! Prometheus's stale NaN) and each eval run as Prometheus's runner does: the instant query,
//! again with `@` pinned to its time at other times, each also as a range query around it
//! (its middle step must agree); the range query of `eval range`; all on both evaluation
//! paths of the engine (series at a time, step by step). Results must have the expected type,
//! label sets and values within Prometheus's relative tolerance (1e-6), in order for
//! `eval_ordered`; `eval_fail` must fail (with the message, when given). Every expression
//! must parse.
//!
//! Files of the 3.x format (any `eval range`, `eval_warn`, `eval_info`, `load_with_nhcb`) have
//! their warnings checked too (`eval_warn` wants some, `eval` none, `eval_info` an info).
//! Files of 2.x are replayed as 2.x evaluates: windows closed on the left (emulated by 1 ms
//! longer windows, [`CLOSED_WINDOW_WIDENING`]), `holt_winters` under its 3.x name; 2.x has
//! no annotations for local data.
//!
//! Skipped, each counted with its reason: native histograms (series, results and the functions
//! that read only them), the experimental functions Vigil does not have (`info`, `limitk`,
//! `limit_ratio`), the `expect` lines of the 3.4+ format, series Monasca cannot hold (no
//! metric name, or a label starting with `__`), and the few cases of [`KNOWN_DIFFERENCES`].

use std::{collections::BTreeMap, path::Path, sync::Arc};

use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};
use promql_engine::{Engine, EngineOptions, QueryError, QueryValue, names};

use crate::promqltest::{Command, Eval, LabelSet, SeqValue, parse_file};

const TENANT: &str = "t";

/// Calls a case is skipped for: functions that read native histograms only, and Prometheus
/// 3's experimental functions Vigil does not implement.
const OUT_OF_SCOPE_FUNCTIONS: &[(&str, &str)] = &[
    (
        "histogram_count",
        "native-histogram function histogram_count",
    ),
    ("histogram_sum", "native-histogram function histogram_sum"),
    ("histogram_avg", "native-histogram function histogram_avg"),
    (
        "histogram_fraction",
        "native-histogram function histogram_fraction",
    ),
    (
        "histogram_stddev",
        "native-histogram function histogram_stddev",
    ),
    (
        "histogram_stdvar",
        "native-histogram function histogram_stdvar",
    ),
    ("info", "experimental function info"),
    ("limitk", "experimental function limitk"),
    ("limit_ratio", "experimental function limit_ratio"),
];

/// Cases whose expectation holds only under a setting other than Prometheus's defaults, or
/// only in Prometheus 2.x (where Vigil does as 3 does), `(file, expression or "" for the
/// whole file, 2.x files only, why)`.
const KNOWN_DIFFERENCES: &[(&str, &str, bool, &str)] = &[
    (
        "name_label_dropping.test",
        "",
        false,
        "delayed __name__ removal (Prometheus 3's feature flag promql-delayed-name-removal, on in \
         its test engine, off by default; Vigil drops the name as the default does)",
    ),
    (
        "functions.test",
        r#"label_replace(testmetric, "invalid-label-name", "", "src", "(.*)")"#,
        false,
        "label name validation: 2.x, and Prometheus 3's test package, take legacy names only \
         ([a-zA-Z_][a-zA-Z0-9_]*), the 3.x server (and Vigil) any UTF-8 name",
    ),
    (
        "functions.test",
        r#"label_replace(testmetric, "\xff", "", "src", "(.*)")"#,
        false,
        "a string literal's `\\xff` is a byte that is not UTF-8 in Go (a name Prometheus \
         refuses) but U+00FF in Rust's strings, and so in the parser crate's (a valid name)",
    ),
    (
        "functions.test",
        "rate(testcounter_zero_cutoff[20m])",
        true,
        "2.x extrapolates a counter's rate to its zero point further than half a sample \
         interval before the window; Prometheus 3 (and Vigil) no further (prometheus#13725)",
    ),
    (
        "operators.test",
        "trigy atan2 trigx",
        true,
        "2.x keeps the metric name in `atan2` of two vectors; Prometheus 3 (and Vigil) drops it",
    ),
    (
        "operators.test",
        "trigy atan2 trigNaN",
        true,
        "2.x keeps the metric name in `atan2` of two vectors; Prometheus 3 (and Vigil) drops it",
    ),
];

/// What one file gave.
#[derive(Default)]
pub struct FileReport {
    pub cases: usize,
    pub passed: usize,
    /// Queries the passed cases took (instant, `@` variants, both evaluation paths).
    pub queries: usize,
    pub failed: Vec<String>,
    pub skipped: BTreeMap<String, usize>,
}

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

/// Whether `expr` has a selector without a metric name (`{job="x"}`), which may match any
/// series.
fn nameless(expr: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    expr.match_indices('{')
        .any(|(k, _)| !expr[..k].chars().next_back().is_some_and(ident))
}

/// Whether `word` stands alone in `expr` (a function, an aggregation, a metric name).
fn mentions(expr: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    expr.match_indices(word).any(|(k, _)| {
        let before = expr[..k].chars().next_back();
        let after = expr[k + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Why `ev` is not checked, if it is not.
fn skip_reason(file: &str, ev: &Eval, state: &State, three_x: bool) -> Option<String> {
    if let Some(why) = &ev.unsupported {
        return Some(why.clone());
    }
    if let Some(why) = &state.note {
        return Some(why.clone());
    }
    if !state.native_names.is_empty()
        && (state.native_names.iter().any(|n| mentions(&ev.expr, n)) || nameless(&ev.expr))
    {
        return Some(
            "reads native histograms (loaded as `{{…}}`, or made by `load_with_nhcb`)".into(),
        );
    }
    if let Some((_, _, _, why)) = KNOWN_DIFFERENCES.iter().find(|(f, e, only_2x, _)| {
        *f == file && (e.is_empty() || *e == ev.expr) && !(*only_2x && three_x)
    }) {
        return Some((*why).to_string());
    }
    OUT_OF_SCOPE_FUNCTIONS
        .iter()
        .find(|(f, _)| mentions(&ev.expr, f))
        .map(|(_, why)| (*why).to_string())
}

/// The Monasca series of a label set, or why it has none.
fn series_key(labels: &LabelSet) -> Result<SeriesKey, String> {
    let no = "series Monasca cannot hold (no metric name, or a `__` label)".to_string();
    let name = labels.get("__name__").ok_or(no.clone())?;
    let name = names::metric_from_prom(name).ok_or(no.clone())?;
    let mut dimensions = BTreeMap::new();
    for (k, v) in labels.iter().filter(|(k, _)| *k != "__name__") {
        dimensions.insert(names::dimension_from_label(k).ok_or(no.clone())?, v.clone());
    }
    Ok(SeriesKey {
        tenant: TENANT.into(),
        name,
        dimensions,
    })
}

/// The store of one file's state between `clear`s, with the engines reading it.
struct State {
    store: Arc<MemoryStore>,
    /// Why evals cannot be checked until the next `clear`.
    note: Option<String>,
    /// Native histograms loaded or made of classic ones (`load_with_nhcb`): an eval naming
    /// one, or with a selector without a name, is skipped.
    native_names: Vec<String>,
}

impl State {
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
            note: None,
            native_names: Vec::new(),
        }
    }

    /// Two engines over the store: series at a time (the default) and step by step.
    fn engines(&self, three_x: bool) -> [(&'static str, Engine); 2] {
        let lookback = EngineOptions::default().lookback_delta;
        let options = |series_at_a_time| EngineOptions {
            series_at_a_time,
            lookback_delta: if three_x {
                lookback
            } else {
                lookback + CLOSED_WINDOW_WIDENING
            },
            ..EngineOptions::default()
        };
        [
            ("", Engine::new(self.store.clone(), options(true))),
            (
                " (step by step)",
                Engine::new(self.store.clone(), options(false)),
            ),
        ]
    }
}

/// Runs one file's commands; `three_x`: files of Prometheus 3 (warnings and infos checked,
/// windows open on the left) rather than 2.x (none checked, windows closed: see
/// [`CLOSED_WINDOW_WIDENING`]).
pub async fn run_file(path: &Path, three_x: bool) -> FileReport {
    let mut report = FileReport::default();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let commands = match parse_file(&text) {
        Ok(c) => c,
        Err(e) => {
            report.cases = 1;
            report.failed.push(format!("the file does not read: {e}"));
            return report;
        }
    };
    let file = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let mut state = State::new();
    for command in commands {
        match command {
            Command::Clear => state = State::new(),
            Command::Load {
                step_ms,
                series,
                unsupported,
                native_names,
            } => {
                if let Some(why) = unsupported {
                    state.note = Some(why);
                }
                state.native_names.extend(native_names);
                let mut samples = Vec::new();
                for (labels, values) in series {
                    let key = match series_key(&labels) {
                        Ok(k) => Arc::new(k),
                        Err(why) => {
                            state.note = Some(why);
                            continue;
                        }
                    };
                    for (k, v) in values.iter().enumerate() {
                        if let Some(value) = v {
                            samples.push(Sample {
                                series: key.clone(),
                                timestamp: k as i64 * step_ms,
                                value: *value,
                                value_meta: None,
                            });
                        }
                    }
                }
                state.store.write(samples).await.expect("store write");
            }
            Command::Eval(ev) => {
                report.cases += 1;
                if let Some(why) = skip_reason(&file, &ev, &state, three_x) {
                    *report.skipped.entry(why).or_default() += 1;
                    continue;
                }
                match check_eval(&state, &ev, three_x).await {
                    Ok(queries) => {
                        report.passed += 1;
                        report.queries += queries;
                    }
                    Err(e) => report
                        .failed
                        .push(format!("line {} `{}`: {e}", ev.line, ev.expr)),
                }
            }
        }
    }
    report
}

/// Runs one eval; `Ok` with how many queries that took.
async fn check_eval(state: &State, ev: &Eval, three_x: bool) -> Result<usize, String> {
    // 2.x's `holt_winters` is Prometheus 3's (and Vigil's) `double_exponential_smoothing`.
    let renamed = if three_x {
        ev.expr.clone()
    } else {
        ev.expr
            .replace("holt_winters(", "double_exponential_smoothing(")
    };
    // Every expression in the files parses in Prometheus: ours must parse it too.
    promql_engine::parse(&renamed).map_err(|e| format!("does not parse: {e}"))?;
    let expr = if three_x { renamed } else { widened(&renamed) };
    // An instant eval is run again with `@` fixed at its time, at other times (as
    // Prometheus's runner does); a range eval once.
    let mut queries = vec![(expr.clone(), ev.at_ms)];
    if ev.range.is_none() {
        queries.extend(at_modifier_variants(&expr, ev.at_ms));
    }
    for (mode, engine) in state.engines(three_x) {
        for (expr, t) in &queries {
            check_with(&engine, ev, expr, *t, three_x)
                .await
                .map_err(|e| {
                    let variant = if *expr == ev.expr && *t == ev.at_ms {
                        String::new()
                    } else {
                        format!(" (as `{expr}` at {t} ms)")
                    };
                    format!("{e}{variant}{mode}")
                })?;
        }
    }
    Ok(queries.len() * 2)
}

/// Prometheus 2.x's windows (a range, a subquery's, the lookback) are closed on the left,
/// Prometheus 3's (and Vigil's) open: `[t - r, t]` against `(t - r, t]`. The test files'
/// times are whole milliseconds, so 2.x files are replayed with every window 1 ms longer,
/// `(t - r - 1 ms, t]`, which holds the same samples as 2.x's. (The start of a `rate`'s
/// window moves by 1 ms too: its extrapolation changes by a few parts in a million at most.)
const CLOSED_WINDOW_WIDENING: std::time::Duration = std::time::Duration::from_millis(1);

/// The functions that extrapolate to their window's ends, and the relative error allowed in
/// them over a widened window: 1 ms in a window of 20 s or more.
const EXTRAPOLATING: &[&str] = &["rate", "increase", "delta"];
const WIDENED_EXTRAPOLATION_EPSILON: f64 = 1e-4;

/// `expr` with every range and subquery range [`CLOSED_WINDOW_WIDENING`] longer.
fn widened(expr: &str) -> String {
    use promql_parser::parser::Expr;
    fn widen(e: &mut Expr) {
        match e {
            Expr::MatrixSelector(ms) => ms.range += CLOSED_WINDOW_WIDENING,
            Expr::Subquery(sq) => {
                sq.range += CLOSED_WINDOW_WIDENING;
                widen(&mut sq.expr);
            }
            Expr::Aggregate(a) => {
                widen(&mut a.expr);
                if let Some(p) = a.param.as_mut() {
                    widen(p);
                }
            }
            Expr::Unary(u) => widen(&mut u.expr),
            Expr::Binary(b) => {
                widen(&mut b.lhs);
                widen(&mut b.rhs);
            }
            Expr::Paren(p) => widen(&mut p.expr),
            Expr::Call(c) => c.args.args.iter_mut().for_each(|a| widen(a)),
            Expr::VectorSelector(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::Extension(_) => {}
        }
    }
    match promql_parser::parser::parse(expr) {
        Ok(mut parsed) => {
            widen(&mut parsed);
            parsed.to_string()
        }
        Err(_) => expr.to_string(),
    }
}

/// Functions whose result moves with the evaluation time though their arguments do not:
/// an expression calling one has no `@` variants.
const AT_UNSAFE_FUNCTIONS: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

/// `expr` with `@ <at_ms>` on every selector and subquery that has none (not inside a
/// subquery), and the other times to run it at, which must all give the same result.
fn at_modifier_variants(expr: &str, at_ms: i64) -> Vec<(String, i64)> {
    use promql_parser::parser::{AtModifier, Expr};
    fn pin(e: &mut Expr, at: &AtModifier) -> bool {
        let unset = |a: &mut Option<AtModifier>| {
            if a.is_none() {
                *a = Some(at.clone());
            }
        };
        match e {
            Expr::VectorSelector(vs) => unset(&mut vs.at),
            Expr::MatrixSelector(ms) => unset(&mut ms.vs.at),
            Expr::Subquery(sq) => unset(&mut sq.at),
            Expr::Aggregate(a) => {
                let p = a.param.as_mut().is_some_and(|p| pin(p, at));
                return pin(&mut a.expr, at) || p;
            }
            Expr::Unary(u) => return pin(&mut u.expr, at),
            Expr::Binary(b) => {
                let l = pin(&mut b.lhs, at);
                return pin(&mut b.rhs, at) || l;
            }
            Expr::Paren(p) => return pin(&mut p.expr, at),
            Expr::Call(c) => {
                let mut unsafe_call = AT_UNSAFE_FUNCTIONS.contains(&c.func.name);
                for a in &mut c.args.args {
                    unsafe_call |= pin(a, at);
                }
                return unsafe_call;
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
        false
    }
    let Ok(mut parsed) = promql_parser::parser::parse(expr) else {
        return Vec::new();
    };
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at_ms.unsigned_abs());
    if at_ms < 0 || pin(&mut parsed, &AtModifier::At(at)) {
        return Vec::new();
    }
    let pinned = parsed.to_string();
    let times = if at_ms == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * at_ms, 0, at_ms / 5, at_ms, 10 * at_ms]
    };
    times.into_iter().map(|t| (pinned.clone(), t)).collect()
}

async fn check_with(
    engine: &Engine,
    ev: &Eval,
    expr: &str,
    t: i64,
    three_x: bool,
) -> Result<(), String> {
    let (result, notes) = match ev.range {
        Some((start, end, step)) => engine.range_annotated(TENANT, expr, start, end, step).await,
        None => engine.instant_annotated(TENANT, expr, t).await,
    }
    .map_or_else(|e| (Err(e), Default::default()), |(v, n)| (Ok(v), n));
    // A window widened for 2.x moves an extrapolation's start by 1 ms.
    let epsilon = if !three_x && EXTRAPOLATING.iter().any(|f| mentions(expr, f)) {
        WIDENED_EXTRAPOLATION_EPSILON
    } else {
        1e-6
    };
    let value = match (result, ev.fail) {
        (Err(e), true) => return expected_failure(ev, &e),
        (Ok(_), true) => return Err("expected an error, got a result".into()),
        (Err(e), false) => return Err(format!("error: {e}")),
        (Ok(v), false) => v,
    };
    if three_x {
        if ev.warn && notes.warnings.is_empty() {
            return Err("expected warnings, got none".into());
        }
        if !ev.warn && !notes.warnings.is_empty() {
            return Err(format!("unexpected warnings {:?}", notes.warnings));
        }
        if ev.info && notes.infos.is_empty() {
            return Err("expected infos, got none".into());
        }
    }
    if let Some((start, _, step)) = ev.range {
        return compare_matrix(ev, &value, start, step, epsilon);
    }
    compare_instant(ev, &value, ev.ordered, epsilon)?;
    if ev.ordered {
        // A range query's series are sorted by labels: order cannot be checked there.
        return Ok(());
    }
    // The same query as a range query over t-1m..t+1m: its middle step must agree.
    let ranged = engine
        .range(TENANT, expr, t - 60_000, t + 60_000, 60_000)
        .await
        .map_err(|e| format!("range mode: error: {e}"))?;
    let QueryValue::Matrix(series) = ranged else {
        return Err(format!("range mode: not a matrix: {ranged:?}"));
    };
    let at_t: Vec<_> = series
        .iter()
        .filter_map(|s| {
            let p = s.points.iter().find(|p| p.0 == t)?;
            Some((s.labels.clone(), t, p.1))
        })
        .collect();
    let middle = if matches!(value, QueryValue::Scalar(..)) {
        let v = at_t.first().map_or(f64::NAN, |p| p.2);
        QueryValue::Scalar(t, v)
    } else {
        QueryValue::Vector(at_t)
    };
    compare_instant(ev, &middle, false, epsilon).map_err(|e| format!("range mode: {e}"))
}

fn expected_failure(ev: &Eval, e: &QueryError) -> Result<(), String> {
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
    Ok(())
}

fn show(labels: &LabelSet) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn compare_instant(
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
        other => Err(format!("unexpected result type: {other:?}")),
    }
}

fn compare_matrix(
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

/// Whether a directory's files are in the 3.x format (range evals, annotations expected).
pub fn three_x_format(files: &[std::path::PathBuf]) -> bool {
    files.iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| {
            t.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with("eval range")
                    || l.starts_with("eval_warn")
                    || l.starts_with("eval_info")
                    || l.starts_with("load_with_nhcb")
            })
        })
    })
}

#[tokio::test]
#[ignore = "needs Prometheus's test files: VIGIL_PROMQL_TESTDATA=<dir of *.test>"]
async fn upstream_promql_tests() {
    let dir = std::env::var("VIGIL_PROMQL_TESTDATA").unwrap_or_else(|_| {
        panic!(
            "set VIGIL_PROMQL_TESTDATA to a directory holding Prometheus's PromQL test files \
             (promql/testdata/*.test of prometheus v2.42, or promql/promqltest/testdata/*.test \
             of 3.x), fetched from github.com/prometheus/prometheus"
        )
    });
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("VIGIL_PROMQL_TESTDATA={dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test files in {dir}");
    let three_x = three_x_format(&files);
    let (mut cases, mut passed, mut failed) = (0, 0, Vec::new());
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let r = run_file(f, three_x).await;
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        let skips: usize = r.skipped.values().sum();
        eprintln!(
            "{name}: {} cases, {} passed ({} queries), {} failed, {skips} skipped",
            r.cases,
            r.passed,
            r.queries,
            r.failed.len()
        );
        for (why, n) in &r.skipped {
            eprintln!("    skipped {n}: {why}");
            *skipped.entry(why.clone()).or_default() += n;
        }
        for e in &r.failed {
            eprintln!("    FAILED {e}");
        }
        cases += r.cases;
        passed += r.passed;
        failed.extend(r.failed.iter().map(|e| format!("{name} {e}")));
    }
    let skips: usize = skipped.values().sum();
    eprintln!(
        "total: {} files, {cases} cases, {passed} passed, {} failed, {skips} skipped",
        files.len(),
        failed.len()
    );
    for (why, n) in &skipped {
        eprintln!("    skipped {n}: {why}");
    }
    assert!(
        failed.is_empty(),
        "{} cases failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
