//! The series-at-a-time evaluation ([`crate::columns`]) against the step-by-step one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{
    EngineOptions,
    tests::{MIN, TENANT, embedded_engine, engine, engine_with},
};

/// Range functions and simple aggregations evaluated series at a time give exactly what the
/// step-by-step evaluation gives, wherever they sit in the query.
#[tokio::test]
async fn series_at_a_time_agrees_with_step_by_step() {
    let slow = engine_with(EngineOptions {
        series_at_a_time: false,
        ..EngineOptions::default()
    })
    .await;
    // The embedded store hands series over in its own order, the in-memory one in the
    // engine's: both are compared.
    let (embedded, _dir) = embedded_engine(EngineOptions::default()).await;
    for fast in [engine().await, embedded] {
        let queries = [
            "rate(http:requests[5m])",
            "sum(rate(http:requests[2m]))",
            "sum by (hostname) (rate({__name__=~\"http:requests|cpu:idle_perc\"}[3m]))",
            "sum without (hostname) (irate(http:requests[5m]))",
            "avg(cpu:idle_perc)",
            "min by (hostname) (cpu:idle_perc offset 2m)",
            "max(delta(cpu:idle_perc[4m] offset 1m))",
            "count(changes(jobs:done[5m]))",
            "group by (team) (host:info)",
            "sum(sum by (hostname) (increase(http:requests[5m])))",
            "resets(jobs:done[10m]) + deriv(cpu:idle_perc[5m])",
            "topk(1, rate(http:requests[5m])) * 2",
            "histogram_quantile(0.5, sum by (le) (rate(http:requests[5m])))",
            "sum_over_time(cpu:idle_perc[3m]) / count_over_time(cpu:idle_perc[3m])",
            "max_over_time(cpu:idle_perc[2m]) - min_over_time(cpu:idle_perc[2m])",
            "stddev_over_time(cpu:idle_perc[5m]) and present_over_time(cpu:idle_perc[1m])",
            "timestamp(cpu:idle_perc)",
            "sum(rate(http:requests[5m] @ 300))",
            "avg_over_time(sum(cpu:idle_perc)[5m:1m])",
            "label_replace(sum by (hostname) (cpu:idle_perc), \"h\", \"$1\", \"hostname\", \"(.*)\")",
            "absent(sum(nothing:here))",
        ];
        for q in queries {
            for (start, end, step) in [(0, 10 * MIN, 30_000), (7_000, 10 * MIN, MIN), (0, 0, 1)] {
                let a = fast.range(TENANT, q, start, end, step).await;
                let b = slow.range(TENANT, q, start, end, step).await;
                // Debug text: NaN equals NaN there.
                assert_eq!(
                    format!("{a:?}"),
                    format!("{b:?}"),
                    "range {q} from {start} to {end} by {step}"
                );
            }
            for t in [0, 150_000, 5 * MIN, 10 * MIN + 7_000] {
                let a = fast.instant(TENANT, q, t).await;
                let b = slow.instant(TENANT, q, t).await;
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "instant {q} at {t}");
            }
        }
    }
}

/// Two metrics with the same dimensions collide once a function drops their names: an error
/// in both evaluations, as in Prometheus; one metric alone, or the names kept, is fine.
#[tokio::test]
async fn functions_refuse_series_left_with_one_label_set() {
    let slow = engine_with(EngineOptions {
        series_at_a_time: false,
        ..EngineOptions::default()
    })
    .await;
    for e in [engine().await, slow] {
        for q in [
            "rate({__name__=~\"http:requests|cpu:idle_perc\"}[5m])",
            "sum(rate({__name__=~\"http:requests|cpu:idle_perc\"}[5m]))",
            "abs({__name__=~\"http:requests|cpu:idle_perc\"})",
        ] {
            let r = e.range(TENANT, q, 0, 10 * MIN, MIN).await;
            assert!(
                matches!(r, Err(crate::QueryError::Execution(ref m)) if m.contains("same labelset")),
                "{q}: {r:?}"
            );
            let r = e.instant(TENANT, q, 5 * MIN).await;
            assert!(
                matches!(r, Err(crate::QueryError::Execution(_))),
                "{q}: {r:?}"
            );
        }
        for q in [
            "rate(http:requests[5m])",
            "last_over_time({__name__=~\"http:requests|cpu:idle_perc\"}[5m])",
            "sum(rate({__name__=~\"http:requests|jobs:done\"}[5m]))",
        ] {
            assert!(e.range(TENANT, q, 0, 10 * MIN, MIN).await.is_ok(), "{q}");
        }
    }
}
