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
//! Files of 3.x (any `eval range`, `eval_warn`, `eval_info`, `load_with_nhcb`) have their
//! warnings and infos checked too, by their runner's rules ([`Format`]). Files of 2.x are
//! replayed as 2.x evaluates: windows closed on the left (emulated by 1 ms longer windows,
//! [`CLOSED_WINDOW_WIDENING`]), `holt_winters` under its 3.x name; 2.x has no annotations for
//! local data.
//!
//! Skipped, each counted with its reason: native histograms (series, results and the functions
//! that read only them), experimental functions and syntax Vigil does not have, series
//! Monasca cannot hold (no metric name, or a label starting with `__`), and the cases
//! `skips.rs` lists with reasons (settings other than the defaults, version differences).

use std::{collections::BTreeMap, path::Path, sync::Arc};

use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};
use promql_engine::{Engine, EngineOptions, QueryValue, names};

use crate::{
    compare::{check_annotations, compare_instant, compare_matrix, expected_failure},
    promqltest::{Command, Eval, LabelSet, parse_file},
    skips::{self, mentions, nameless},
};

const TENANT: &str = "t";

/// What one file gave.
#[derive(Default)]
pub struct FileReport {
    pub cases: usize,
    pub passed: usize,
    /// Queries the passed cases took (instant, `@` variants, both evaluation paths).
    pub queries: usize,
    pub failed: Vec<String>,
    /// Skipped cases whose expression our parser refuses (syntax newer than it knows).
    pub unparsed: Vec<String>,
    pub skipped: BTreeMap<String, usize>,
}

/// Why `ev` is not checked, if it is not.
fn skip_reason(file: &str, ev: &Eval, state: &State, format: Format) -> Option<String> {
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
    skips::listed(file, &ev.expr, format)
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
    fn engines(&self, format: Format) -> [(&'static str, Engine); 2] {
        let lookback = EngineOptions::default().lookback_delta;
        let options = |series_at_a_time| EngineOptions {
            series_at_a_time,
            lookback_delta: if format != Format::Two {
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

/// Which Prometheus's files, and so how its runner checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 2.x: windows closed on the left ([`CLOSED_WINDOW_WIDENING`]), no annotations.
    Two,
    /// 3.0 to 3.3: an `eval` fails on a warning it does not expect.
    Three,
    /// 3.4 on, with `expect` lines: only `expect no_warn` refuses warnings.
    ThreeExpect,
}

/// Runs one file's commands as the runner of `format` does.
pub async fn run_file(path: &Path, format: Format) -> FileReport {
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
                if let Some(why) = skip_reason(&file, &ev, &state, format) {
                    // Not evaluated, but its expression is parsed all the same: what newer
                    // syntax the parser crate lacks shows.
                    if let Err(e) = promql_engine::parse(&ev.expr) {
                        report
                            .unparsed
                            .push(format!("line {} `{}`: {e}", ev.line, ev.expr));
                    }
                    *report.skipped.entry(why).or_default() += 1;
                    continue;
                }
                match check_eval(&state, &ev, format).await {
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

/// Runs one eval; `Ok` with how many instant or range queries that took on the two engines
/// (each instant query also ran as a range query around it).
async fn check_eval(state: &State, ev: &Eval, format: Format) -> Result<usize, String> {
    // 2.x's `holt_winters` is Prometheus 3's (and Vigil's) `double_exponential_smoothing`.
    let three_x = format != Format::Two;
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
    for (mode, engine) in state.engines(format) {
        for (expr, t) in &queries {
            check_with(&engine, ev, expr, *t, format)
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
/// `(t - r - 1 ms, t]`, which holds the same samples as 2.x's. (The start a `rate`
/// extrapolates to moves by 1 ms too: its result by up to 1 ms in the window's length.)
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
    format: Format,
) -> Result<(), String> {
    let (result, notes) = match ev.range {
        Some((start, end, step)) => engine.range_annotated(TENANT, expr, start, end, step).await,
        None => engine.instant_annotated(TENANT, expr, t).await,
    }
    .map_or_else(|e| (Err(e), Default::default()), |(v, n)| (Ok(v), n));
    // A window widened for 2.x moves an extrapolation's start by 1 ms.
    let epsilon = if format == Format::Two && EXTRAPOLATING.iter().any(|f| mentions(expr, f)) {
        WIDENED_EXTRAPOLATION_EPSILON
    } else {
        1e-6
    };
    let fail = ev.fail || ev.expects.iter().any(|(k, _)| k == "fail");
    let value = match (result, fail) {
        (Err(e), true) => return expected_failure(ev, &e),
        (Ok(_), true) => return Err("expected an error, got a result".into()),
        (Err(e), false) => return Err(format!("error: {e}")),
        (Ok(v), false) => v,
    };
    check_annotations(ev, &notes, format)?;
    if let Some((start, _, step)) = ev.range.or(ev.range_vector) {
        return compare_matrix(ev, &value, start, step, epsilon);
    }
    let ordered = ev.ordered || ev.expects.iter().any(|(k, _)| k == "ordered");
    compare_instant(ev, &value, ordered, epsilon)?;
    // A range query's series are sorted by labels: order cannot be checked there; nor can a
    // string be a range query's result.
    if ordered || ev.string.is_some() {
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

/// The format of a directory's files: 3.4+ when any has an `expect` line, 3.x when any has an
/// `eval range`, `eval_warn`, `eval_info` or `load_with_nhcb`, else 2.x.
pub fn format_of(files: &[std::path::PathBuf]) -> Format {
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let any_line = |starts: &[&str]| {
        texts.iter().any(|t| {
            t.lines()
                .any(|l| starts.iter().any(|s| l.trim_start().starts_with(s)))
        })
    };
    if any_line(&["expect "]) {
        Format::ThreeExpect
    } else if any_line(&["eval range", "eval_warn", "eval_info", "load_with_nhcb"]) {
        Format::Three
    } else {
        Format::Two
    }
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
    let format = format_of(&files);
    eprintln!("{} files, read as {format:?}", files.len());
    let (mut cases, mut passed, mut failed, mut unparsed) = (0, 0, Vec::new(), 0);
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let r = run_file(f, format).await;
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
        for e in &r.unparsed {
            eprintln!("    skipped, and does not parse: {e}");
        }
        unparsed += r.unparsed.len();
        cases += r.cases;
        passed += r.passed;
        failed.extend(r.failed.iter().map(|e| format!("{name} {e}")));
    }
    let skips: usize = skipped.values().sum();
    eprintln!(
        "total: {} files, {cases} cases, {passed} passed, {} failed, {skips} skipped \
         ({unparsed} of them do not parse)",
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
