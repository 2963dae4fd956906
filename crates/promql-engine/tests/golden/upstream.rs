//! Prometheus's own PromQL test files replayed against Vigil's engine: every `*.test` under
//! `$VIGIL_PROMQL_TESTDATA` (fetched from prometheus/prometheus, never kept in this repo) is
//! read by `promqltest.rs`, its series loaded into a `MemoryStore` (stale markers as
//! Prometheus's stale NaN) and each eval run as Prometheus's runner does: the instant query,
//! the same query as a range query around it (its middle step must agree), the range query of
//! `eval range`; both evaluation paths of the engine (series at a time, step by step). Results
//! must have the expected type, label sets and values within Prometheus's relative tolerance
//! (1e-6), in order for `eval_ordered`; `eval_fail` must fail (with the message, when given).
//! With files of the 3.x format the warnings are checked too (`eval_warn` wants some, `eval`
//! none, `eval_info` an info); 2.42 has no annotations for local data.
//!
//! Skipped, each counted with its reason: native histograms (series, results and the functions
//! that read only them), the experimental functions Vigil does not have (`info`, `limitk`,
//! `limit_ratio`), the `expect` lines of the 3.4+ format, and series Monasca cannot hold (no
//! metric name, or a label starting with `__`).

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

/// Cases whose expectation holds only under a setting other than Prometheus's defaults,
/// `(file, expression or "" for the whole file, why)`.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "name_label_dropping.test",
        "",
        "delayed __name__ removal (Prometheus 3's feature flag promql-delayed-name-removal, on in \
         its test engine, off by default; Vigil drops the name as the default does)",
    ),
    (
        "functions.test",
        r#"label_replace(testmetric, "invalid-label-name", "", "src", "(.*)")"#,
        "label name validation: Prometheus's test package checks names by the legacy rules, its \
         3.x server (and Vigil) takes any UTF-8 name",
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
/// relative difference under `epsilon`, or an absolute one near zero.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
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
        return diff < EPSILON * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
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
fn skip_reason(file: &str, ev: &Eval, state: &State) -> Option<String> {
    if let Some(why) = &ev.unsupported {
        return Some(why.clone());
    }
    if let Some(why) = &state.note {
        return Some(why.clone());
    }
    if state.native_names.iter().any(|n| mentions(&ev.expr, n)) {
        return Some("reads the native histograms `load_with_nhcb` makes of classic ones".into());
    }
    if let Some((_, _, why)) = KNOWN_DIFFERENCES
        .iter()
        .find(|(f, e, _)| *f == file && (e.is_empty() || *e == ev.expr))
    {
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
    /// Native histograms Prometheus made of classic ones (`load_with_nhcb`): an eval naming
    /// one is skipped.
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
    fn engines(&self) -> [(&'static str, Engine); 2] {
        let options = |series_at_a_time| EngineOptions {
            series_at_a_time,
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

/// Runs one file's commands; `annotations`: whether warnings and infos are checked.
pub async fn run_file(path: &Path, annotations: bool) -> FileReport {
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
                if let Some(why) = skip_reason(&file, &ev, &state) {
                    *report.skipped.entry(why).or_default() += 1;
                    continue;
                }
                match check_eval(&state, &ev, annotations).await {
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
async fn check_eval(state: &State, ev: &Eval, annotations: bool) -> Result<usize, String> {
    // Every expression in the files parses in Prometheus: ours must parse it too.
    promql_engine::parse(&ev.expr).map_err(|e| format!("does not parse: {e}"))?;
    // An instant eval is run again with `@` fixed at its time, at other times (as
    // Prometheus's runner does); a range eval once.
    let mut queries = vec![(ev.expr.clone(), ev.at_ms)];
    if ev.range.is_none() {
        queries.extend(at_modifier_variants(&ev.expr, ev.at_ms));
    }
    for (mode, engine) in state.engines() {
        for (expr, t) in &queries {
            check_with(&engine, ev, expr, *t, annotations)
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
    annotations: bool,
) -> Result<(), String> {
    let (result, notes) = match ev.range {
        Some((start, end, step)) => engine.range_annotated(TENANT, expr, start, end, step).await,
        None => engine.instant_annotated(TENANT, expr, t).await,
    }
    .map_or_else(|e| (Err(e), Default::default()), |(v, n)| (Ok(v), n));
    let value = match (result, ev.fail) {
        (Err(e), true) => return expected_failure(ev, &e),
        (Ok(_), true) => return Err("expected an error, got a result".into()),
        (Err(e), false) => return Err(format!("error: {e}")),
        (Ok(v), false) => v,
    };
    if annotations {
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
        return compare_matrix(ev, &value, start, step);
    }
    compare_instant(ev, &value, ev.ordered)?;
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
    compare_instant(ev, &middle, false).map_err(|e| format!("range mode: {e}"))
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

fn compare_instant(ev: &Eval, value: &QueryValue, ordered: bool) -> Result<(), String> {
    match value {
        QueryValue::Scalar(_, v) => match ev.scalar {
            Some(want) if almost_equal(want, *v) => Ok(()),
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
                if !want.is_some_and(|w| almost_equal(w, *v)) {
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

fn compare_matrix(ev: &Eval, value: &QueryValue, start: i64, step: i64) -> Result<(), String> {
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
                .all(|(w, g)| w.0 == g.0 && almost_equal(w.1, g.1));
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
    let annotations = three_x_format(&files);
    let (mut cases, mut passed, mut failed) = (0, 0, Vec::new());
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let r = run_file(f, annotations).await;
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
