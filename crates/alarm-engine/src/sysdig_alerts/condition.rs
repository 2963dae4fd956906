//! What an alert's document asks for, read once per evaluation: the MANUAL condition tree and
//! its scope (`filter`, `segmentBy`, `segmentCondition`, `timespan`), or the PromQL query and
//! its hold duration. Text that cannot be parsed is an [`Invalid`] message for the caller to
//! warn about; the alert is then skipped.

use metric_store::Stat;
use serde_json::{Map, Value};
use sysdig::{
    condition::{Aggregation, Condition},
    scope::ScopeExpression,
};

/// Why an alert cannot be evaluated (a one-line message naming the field).
pub(super) type Invalid = String;

/// Sysdig's default `timespan` (10 minutes), in µs.
const DEFAULT_TIMESPAN_US: i64 = 600_000_000;

/// A MANUAL alert, ready to evaluate.
#[derive(Debug)]
pub(super) struct ManualAlert {
    pub condition: Condition,
    /// Every expression must hold for a series to be in scope.
    pub filter: Vec<ScopeExpression>,
    /// Sysdig label names; empty: the whole scope is one segment.
    pub segment_by: Vec<String>,
    /// `segmentCondition: ALL`: one state for the alert, firing when every segment meets the
    /// condition; `ANY` (the default): one state per segment.
    pub all_segments: bool,
    /// The window each aggregation covers (the alert's `timespan`).
    pub window_ms: i64,
}

/// A PROMETHEUS alert: its query and how long a series must be returned before it fires.
#[derive(Debug)]
pub(super) struct PromqlAlert {
    pub query: String,
    pub hold_ms: i64,
}

/// An alert's stored document.
type Doc = Map<String, Value>;

fn text<'a>(doc: &'a Doc, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn timespan_ms(doc: &Doc) -> i64 {
    doc.get("timespan")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_TIMESPAN_US)
        .max(0)
        / 1000
}

/// Reads a MANUAL alert's document.
///
/// # Errors
/// The condition or the filter does not parse.
pub(super) fn manual(doc: &Doc) -> Result<ManualAlert, Invalid> {
    let condition =
        sysdig::condition::parse(text(doc, "condition")).map_err(|e| e.message().to_string())?;
    let filter =
        sysdig::scope::parse(text(doc, "filter")).map_err(|e| format!("invalid filter: {e}"))?;
    let segment_by: Vec<String> = doc
        .get("segmentBy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let all_segments = doc
        .get("segmentCondition")
        .and_then(|c| c.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("ALL"));
    Ok(ManualAlert {
        condition,
        filter,
        segment_by,
        all_segments,
        // At least a second, so that the window holds the points posted "now".
        window_ms: timespan_ms(doc).max(1000),
    })
}

/// Reads a PROMETHEUS alert's document; the query is parsed when it is evaluated.
///
/// # Errors
/// The condition is empty.
pub(super) fn promql(doc: &Doc) -> Result<PromqlAlert, Invalid> {
    let query = text(doc, "condition").trim();
    if query.is_empty() {
        return Err("a PROMETHEUS alert needs its PromQL query in 'condition'".into());
    }
    Ok(PromqlAlert {
        query: query.to_string(),
        hold_ms: timespan_ms(doc),
    })
}

/// The store statistic of an aggregation (`timeAvg` is an average over time).
pub(super) fn stat(a: Aggregation) -> Stat {
    match a {
        Aggregation::Avg | Aggregation::TimeAvg => Stat::Avg,
        Aggregation::Min => Stat::Min,
        Aggregation::Max => Stat::Max,
        Aggregation::Sum => Stat::Sum,
        Aggregation::Count => Stat::Count,
    }
}

/// A group aggregation across the values of a segment's series: `count` counts the series.
pub(super) fn group(a: Aggregation, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match stat(a) {
        Stat::Sum => values.iter().sum(),
        Stat::Count => values.len() as f64,
        Stat::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Stat::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Stat::Avg => values.iter().sum::<f64>() / values.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn manual(v: Value) -> Result<ManualAlert, Invalid> {
        super::manual(v.as_object().unwrap())
    }

    fn promql(v: Value) -> Result<PromqlAlert, Invalid> {
        super::promql(v.as_object().unwrap())
    }

    #[test]
    fn manual_alerts_read_their_scope() {
        let a = manual(json!({
            "condition": "avg(timeAvg(cpu.used.percent)) > 80",
            "filter": "host.hostName in [h1, h2] and region is not eu",
            "segmentBy": ["host.hostName", ""],
            "segmentCondition": {"type": "ALL"},
            "timespan": 120_000_000,
        }))
        .unwrap();
        assert_eq!(a.segment_by, ["host.hostName"]);
        assert!(a.all_segments);
        assert_eq!(a.window_ms, 120_000);
        assert_eq!(a.filter.len(), 2);
        assert_eq!(
            a.condition.comparisons()[0].value.metric,
            "cpu.used.percent"
        );
        // Sysdig's defaults: no filter, no segments, ANY, ten minutes.
        let a = manual(json!({"condition": "timeAvg(x) <= 1"})).unwrap();
        assert!(a.filter.is_empty() && a.segment_by.is_empty() && !a.all_segments);
        assert_eq!(a.window_ms, 600_000);
    }

    #[test]
    fn unparseable_alerts_say_why() {
        let e = manual(json!({"condition": "p99(x) > 1"})).unwrap_err();
        assert!(e.contains("unknown aggregation 'p99'"), "{e}");
        let e = manual(json!({"condition": "avg(x) > 1", "filter": "a != b"})).unwrap_err();
        assert!(
            e.starts_with("invalid filter: invalid scope: a != b"),
            "{e}"
        );
        assert!(manual(json!({})).unwrap_err().contains("it is empty"));
        assert!(promql(json!({"condition": " "})).is_err());
        let p = promql(json!({"condition": "up == 0", "timespan": 0})).unwrap();
        assert_eq!((p.query.as_str(), p.hold_ms), ("up == 0", 0));
    }

    #[test]
    fn group_aggregations() {
        let v = [1.0, 5.0, 3.0];
        assert_eq!(group(Aggregation::Avg, &v), Some(3.0));
        assert_eq!(group(Aggregation::Sum, &v), Some(9.0));
        assert_eq!(group(Aggregation::Min, &v), Some(1.0));
        assert_eq!(group(Aggregation::Max, &v), Some(5.0));
        assert_eq!(group(Aggregation::Count, &v), Some(3.0));
        assert_eq!(group(Aggregation::Avg, &[]), None);
    }
}
