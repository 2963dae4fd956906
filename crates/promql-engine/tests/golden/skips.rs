//! What the replay of Prometheus's test files leaves out, and why: each list names the cases
//! it covers, so nothing is skipped silently.

use crate::upstream::Format::{self, Three, ThreeExpect, Two};

/// Calls a case is skipped for: functions that read native histograms only, and Prometheus
/// 3's experimental functions Vigil does not implement.
pub const OUT_OF_SCOPE_FUNCTIONS: &[(&str, &str)] = &[
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
    (
        "ts_of_min_over_time",
        "experimental function ts_of_min_over_time (3.x newest)",
    ),
    (
        "ts_of_max_over_time",
        "experimental function ts_of_max_over_time (3.x newest)",
    ),
    (
        "histogram_quantiles",
        "experimental function histogram_quantiles (3.x newest)",
    ),
    ("step", DURATION_EXPRESSIONS),
    ("range", DURATION_EXPRESSIONS),
    ("start", DURATION_EXPRESSIONS),
    ("end", DURATION_EXPRESSIONS),
    ("min_of", DURATION_EXPRESSIONS),
    ("max_of", DURATION_EXPRESSIONS),
];

const DURATION_EXPRESSIONS: &str = "duration expressions and their functions (step(), range(), \
     min_of()…: experimental feature promql-duration-expr, which the parser crate does not know)";

/// Cases whose expectation holds only under a setting other than Prometheus's defaults, or
/// only in some versions, `(formats, file, expression or "" for the whole file, why)`.
pub const KNOWN_DIFFERENCES: &[(&[Format], &str, &str, &str)] = &[
    (
        &[Three, ThreeExpect],
        "name_label_dropping.test",
        "",
        "delayed __name__ removal (Prometheus 3's feature flag promql-delayed-name-removal, on in \
         its test engine, off by default; Vigil drops the name as the default does)",
    ),
    (
        &[Two, Three, ThreeExpect],
        "functions.test",
        r#"label_replace(testmetric, "invalid-label-name", "", "src", "(.*)")"#,
        "label name validation: 2.x, and Prometheus 3's test package, take legacy names only \
         ([a-zA-Z_][a-zA-Z0-9_]*), the 3.x server (and Vigil) any UTF-8 name",
    ),
    (
        &[Three, ThreeExpect],
        "functions.test",
        r#"label_replace(testmetric, "\xff", "", "src", "(.*)")"#,
        "a string literal's `\\xff` is a byte that is not UTF-8 in Go (a name Prometheus \
         refuses) but U+00FF in Rust's strings, and so in the parser crate's (a valid name)",
    ),
    (
        &[Two],
        "functions.test",
        "rate(testcounter_zero_cutoff[20m])",
        "2.x extrapolates a counter's rate to its zero point further than half a sample \
         interval before the window; Prometheus 3 (and Vigil) no further (prometheus#13725)",
    ),
    (
        &[Two],
        "operators.test",
        "trigy atan2 trigx",
        "2.x keeps the metric name in `atan2` of two vectors; Prometheus 3 (and Vigil) drops it",
    ),
    (
        &[Two],
        "operators.test",
        "trigy atan2 trigNaN",
        "2.x keeps the metric name in `atan2` of two vectors; Prometheus 3 (and Vigil) drops it",
    ),
    (
        &[ThreeExpect],
        "duration_expression.test",
        "",
        DURATION_EXPRESSIONS,
    ),
    (
        &[ThreeExpect],
        "extended_vectors.test",
        "",
        "`anchored`/`smoothed` range selectors (experimental, 3.x newest; the parser crate \
         does not know them)",
    ),
    (
        &[ThreeExpect],
        "fill-modifier.test",
        "",
        "`fill` modifiers of binary operators (experimental, 3.x newest; the parser crate does \
         not know them)",
    ),
    (
        &[ThreeExpect],
        "aggregators.test",
        "topk(NaN, non_existent)",
        "a NaN k refused (`Parameter value is NaN`) (Prometheus after 3.0; Vigil does as 3.0)",
    ),
    (
        &[ThreeExpect],
        "functions.test",
        "mad_over_time(metric_nan[40s])",
        "mad_over_time NaN over a NaN sample (Prometheus after 3.0; Vigil does as 3.0)",
    ),
    (
        &[ThreeExpect],
        "native_histograms.test",
        "histogram_quantile(0.5, nonmonotonic_bucket)",
        "the monotonicity info naming the metric and the buckets it fixed (Prometheus after \
         3.0; Vigil words it as 3.0)",
    ),
    (
        &[ThreeExpect],
        "operators.test",
        "many_side > on(job) one_side",
        MANY_TO_ONE_FILTERED,
    ),
    (
        &[ThreeExpect],
        "operators.test",
        "many_side >= on(job) one_side",
        MANY_TO_ONE_FILTERED,
    ),
    (
        &[ThreeExpect],
        "range_queries.test",
        "sort(series)",
        SORT_IN_RANGE,
    ),
    (
        &[ThreeExpect],
        "range_queries.test",
        "sort_desc(series)",
        SORT_IN_RANGE,
    ),
    (
        &[ThreeExpect],
        "range_queries.test",
        r#"sort_by_label(series)"#,
        SORT_IN_RANGE,
    ),
    (
        &[ThreeExpect],
        "range_queries.test",
        r#"sort_by_label_desc(series)"#,
        SORT_IN_RANGE,
    ),
    (
        &[ThreeExpect],
        "range_queries.test",
        "sum(sort(series))",
        SORT_IN_RANGE,
    ),
];

const MANY_TO_ONE_FILTERED: &str = "a many-to-one match refused even where a comparison \
     filtered the samples away (Prometheus after 3.0; Vigil does as 3.0)";

const SORT_IN_RANGE: &str =
    "a warning that sort does nothing in a range query (Prometheus after 3.0; Vigil does as 3.0)";

/// Why `expr` in `file` (read as `format`) is left out by the lists above, if it is.
pub fn listed(file: &str, expr: &str, format: Format) -> Option<String> {
    if let Some((_, _, _, why)) = KNOWN_DIFFERENCES.iter().find(|(formats, f, e, _)| {
        formats.contains(&format) && *f == file && (e.is_empty() || *e == expr)
    }) {
        return Some((*why).to_string());
    }
    OUT_OF_SCOPE_FUNCTIONS
        .iter()
        .find(|(f, _)| calls(expr, f))
        .map(|(_, why)| (*why).to_string())
}

/// Whether `expr` calls `name` (an aggregation counts: `limitk by (x) (…)`), not as the
/// `@ start()` / `@ end()` modifier.
fn calls(expr: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    expr.match_indices(name).any(|(k, _)| {
        let before = expr[..k].trim_end();
        let after = expr[k + name.len()..].trim_start();
        !expr[..k].chars().next_back().is_some_and(ident)
            && !before.ends_with('@')
            && (after.starts_with('(') || after.starts_with("by") || after.starts_with("without"))
    })
}

/// Whether `expr` has a selector without a metric name (`{job="x"}`), which may match any
/// series.
pub fn nameless(expr: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    expr.match_indices('{')
        .any(|(k, _)| !expr[..k].chars().next_back().is_some_and(ident))
}

/// Whether `word` stands alone in `expr` (a function, an aggregation, a metric name).
pub fn mentions(expr: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    expr.match_indices(word).any(|(k, _)| {
        let before = expr[..k].chars().next_back();
        let after = expr[k + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}
