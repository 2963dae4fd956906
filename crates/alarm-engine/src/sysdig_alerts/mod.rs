//! Evaluates enabled MANUAL alerts with a simple condition (`avg(cpu.used.percent) > 80`)
//! against the Monasca metrics of the tenant mapped to the alert's team (`[sysdig]
//! alert_tenants`), and records an ACTIVE notification when one starts firing and an OK one
//! when it stops. The aggregate covers every series of the metric over the alert's `timespan`;
//! `segmentBy` and `filter` are not applied. No data keeps the previous state.
//!
//! It shares the metric store's aggregate with the threshold engine; the two differ in what
//! they evaluate (Sysdig: one aggregate over the alert's timespan; Monasca: sliding windows of
//! sub-expressions) and where they write (the Sysdig repository's notifications; Monasca's
//! alarm state and history).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use config_repo::{
    RepoResult, now_ms,
    sysdig::{SysdigRepo, TeamObject, kinds, notifications},
};
use metric_store::{MetricStore, SeriesFilter, Stat, TimeRange};
use serde_json::{Value, json};

/// A parsed condition: `stat(metric) op threshold`.
#[derive(Debug, PartialEq)]
pub struct Condition {
    pub stat: Stat,
    pub metric: String,
    pub op: &'static str,
    pub threshold: f64,
}

/// Parses `avg(cpu.used.percent) > 80` (avg|min|max|sum|count; > >= < <= = !=).
pub fn parse_condition(text: &str) -> Option<Condition> {
    let text = text.trim();
    let open = text.find('(')?;
    let close = text.find(')')?;
    let stat = match text[..open].trim() {
        s if s.eq_ignore_ascii_case("timeavg") => Stat::Avg,
        s => Stat::parse(s)?,
    };
    let metric = text.get(open + 1..close)?.trim();
    if metric.is_empty() || metric.contains(char::is_whitespace) {
        return None;
    }
    let rest = text.get(close + 1..)?.trim();
    let op = [">=", "<=", "!=", ">", "<", "="]
        .into_iter()
        .find(|op| rest.starts_with(op))?;
    let threshold = rest[op.len()..].trim().parse::<f64>().ok()?;
    Some(Condition {
        stat,
        metric: metric.to_string(),
        op,
        threshold,
    })
}

fn holds(op: &str, value: f64, threshold: f64) -> bool {
    match op {
        ">" => value > threshold,
        ">=" => value >= threshold,
        "<" => value < threshold,
        "<=" => value <= threshold,
        "=" => value == threshold,
        _ => value != threshold,
    }
}

/// Starts evaluating every `interval` the alerts of the teams mapped in `tenants` (team name →
/// Monasca tenant); nothing runs when no team is mapped.
pub fn spawn(
    repo: Arc<dyn SysdigRepo>,
    store: Arc<dyn MetricStore>,
    tenants: BTreeMap<String, String>,
    interval: Duration,
    wake: config_repo::outbox::Wake,
) -> Option<tokio::task::JoinHandle<()>> {
    if tenants.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if evaluate_once(repo.as_ref(), store.as_ref(), &tenants, now_ms()).await > 0 {
                // Notifications were recorded, and their deliveries queued with them.
                wake();
            }
        }
    }))
}

/// One evaluation round at `now_ms`; how many notifications it recorded.
pub async fn evaluate_once(
    repo: &dyn SysdigRepo,
    store: &dyn MetricStore,
    tenants: &BTreeMap<String, String>,
    now_ms: i64,
) -> usize {
    let mut recorded = 0;
    let tenants = tenants.clone();
    let work = repo
        .tx(move |c| -> RepoResult<_> {
            let mut out = Vec::new();
            for t in c.teams()? {
                let Some(tenant) = tenants.get(&t.name) else {
                    continue;
                };
                for a in c.obj_list(kinds::ALERT, t.id)? {
                    let enabled = a.doc.get("enabled").and_then(Value::as_bool) == Some(true);
                    let manual = a.doc.get("type").and_then(Value::as_str) == Some("MANUAL");
                    if enabled && manual {
                        let state = c.meta_get(&format!("alert_state:{}", a.id))?;
                        out.push((tenant.clone(), a, state));
                    }
                }
            }
            Ok(out)
        })
        .await;
    let work = match work {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "sysdig alert evaluation: cannot read alerts");
            return 0;
        }
    };
    for (tenant, alert, state) in work {
        let Some(cond) = alert
            .doc
            .get("condition")
            .and_then(Value::as_str)
            .and_then(parse_condition)
        else {
            continue;
        };
        let span_ms = alert
            .doc
            .get("timespan")
            .and_then(Value::as_i64)
            .unwrap_or(600_000_000)
            / 1000;
        let range = TimeRange {
            start: now_ms.saturating_sub(span_ms.max(1000)),
            end: now_ms.saturating_add(1),
        };
        let mut filter = SeriesFilter::tenant(tenant);
        filter.name = Some(cond.metric.clone());
        let buckets = match store.find_series(&filter, range).await {
            Ok(series) if !series.is_empty() => {
                let ids: Vec<_> = series.iter().map(|s| s.id).collect();
                // A period ending at the range's end puts every point in one bucket (0).
                match store.aggregate(&ids, range, range.end, &[cond.stat]).await {
                    Ok(buckets) => buckets,
                    Err(e) => {
                        tracing::warn!(error = %e, "sysdig alert evaluation: cannot read points");
                        continue;
                    }
                }
            }
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "sysdig alert evaluation: cannot find series");
                continue;
            }
        };
        let Some(&value) = buckets.first().and_then(|b| b.values.first()) else {
            continue;
        };
        let firing = holds(cond.op, value, cond.threshold);
        let was_active = state.as_deref() == Some("ACTIVE");
        if firing == was_active {
            continue;
        }
        let new_state = if firing { "ACTIVE" } else { "OK" };
        match record(repo, alert, new_state, now_ms, &cond, value).await {
            Ok(()) => recorded += 1,
            Err(e) => {
                tracing::warn!(error = %e, "sysdig alert evaluation: cannot record a notification");
            }
        }
    }
    recorded
}

async fn record(
    repo: &dyn SysdigRepo,
    alert: TeamObject,
    state: &'static str,
    now_ms: i64,
    cond: &Condition,
    value: f64,
) -> RepoResult<()> {
    let entities = json!([{"metricValues": [{"metric": cond.metric, "aggregation": cond.stat.as_str(), "value": value}]}]);
    repo.tx(move |c| {
        // The alert may have been deleted or disabled since it was read.
        let Some(current) = c.obj_get(kinds::ALERT, alert.team_id, alert.id)? else {
            return Ok(());
        };
        notifications::record(
            c,
            alert.team_id,
            &current,
            state,
            now_ms.saturating_mul(1000),
            entities,
        )?;
        c.meta_set(&format!("alert_state:{}", alert.id), state)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse() {
        assert_eq!(
            parse_condition("avg(cpu.used.percent) > 80"),
            Some(Condition {
                stat: Stat::Avg,
                metric: "cpu.used.percent".into(),
                op: ">",
                threshold: 80.0
            })
        );
        assert_eq!(
            parse_condition(" max( mem ) <= 1.5").map(|c| (c.stat, c.op)),
            Some((Stat::Max, "<="))
        );
        assert_eq!(parse_condition("avg(cpu) over 80"), None);
        assert_eq!(parse_condition("p99(cpu) > 1"), None);
        assert_eq!(parse_condition("sum by (x) (rate(y[5m])) > 1"), None);
        assert!(holds("!=", 1.0, 2.0) && !holds(">", 1.0, 2.0));
    }
}
