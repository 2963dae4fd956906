//! PROMETHEUS alerts (the PromQL query in `condition`) on the PromQL engine, with the
//! semantics of a Prometheus alerting rule: each series the query returns at the evaluation
//! time is a firing segment (the query says what fires, as `rate(x[5m]) > 1` does); it becomes
//! ACTIVE once returned for the alert's `timespan` (the rule's `for`) and resolves when no
//! longer returned. A scalar result fires as one segment without labels, as Prometheus reads a
//! rule's scalar. The same query through `/prometheus/api/v1/query` shows the same series.

use promql_engine::{Engine, METRIC_NAME, QueryError, QueryValue};
use serde_json::{Value, json};

use super::{
    Skip,
    condition::PromqlAlert,
    record::{Observation, Round, Unseen},
    segments::scope_string,
};

/// Evaluates `alert` for `tenant` at `now_ms`.
///
/// # Errors
/// [`Skip::Invalid`] for a query that does not parse or does not return an instant vector,
/// [`Skip::Failed`] when it cannot run now.
pub(super) async fn evaluate(
    engine: &Engine,
    tenant: &str,
    alert: &PromqlAlert,
    now_ms: i64,
) -> Result<Round, Skip> {
    let result = engine
        .instant(tenant, &alert.query, now_ms)
        .await
        .map_err(|e| match e {
            QueryError::Parse(m) | QueryError::BadData(m) => {
                Skip::Invalid(format!("invalid PromQL {:?}: {m}", alert.query))
            }
            other => Skip::Failed(other.to_string()),
        })?;
    let mut observations: Vec<Observation> = Vec::new();
    let mut add = |segment: String, metric: &str, value: f64| {
        // Series that differ only in their name are one segment, as in Prometheus's alerts.
        if observations.iter().any(|o| o.segment == segment) {
            return;
        }
        let values = json!([{"metric": metric, "value": value}]);
        let entity = if segment.is_empty() {
            json!({"metricValues": values})
        } else {
            json!({"entity": segment, "metricValues": values})
        };
        observations.push(Observation {
            segment,
            firing: true,
            entities: Value::Array(vec![entity]),
        });
    };
    match result {
        QueryValue::Vector(samples) => {
            for (labels, _, value) in samples {
                let segment = scope_string(
                    labels
                        .iter()
                        .filter(|(k, _)| k.as_str() != METRIC_NAME)
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                );
                let metric = labels
                    .get(METRIC_NAME)
                    .map_or(alert.query.as_str(), String::as_str);
                add(segment, metric, value);
            }
        }
        QueryValue::Scalar(_, value) => add(String::new(), &alert.query, value),
        QueryValue::Matrix(_) | QueryValue::String(..) => {
            return Err(Skip::Invalid(format!(
                "the PromQL {:?} must return an instant vector or a scalar",
                alert.query
            )));
        }
    }
    Ok(Round {
        observations,
        unseen: Unseen::Resolve,
        hold_ms: alert.hold_ms,
    })
}
