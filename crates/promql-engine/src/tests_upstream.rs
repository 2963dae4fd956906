//! Behaviours Prometheus's own test files (`tests/golden/upstream.rs`) found missing, each
//! checked here on data of our own, on both evaluation paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, sync::Arc};

use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};

use crate::{Engine, EngineOptions, QueryValue, STALE_NAN_BITS};

const SEC: i64 = 1000;

/// A series: Monasca name, dimensions, `(seconds, value)` points.
type Def<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(i64, f64)]);

/// Engines (series at a time, step by step) over `series`.
async fn engines(series: &[Def<'_>]) -> [Engine; 2] {
    let store = MemoryStore::new();
    let mut samples = Vec::new();
    for (name, dims, points) in series {
        let key = Arc::new(SeriesKey {
            tenant: "t".into(),
            name: (*name).into(),
            dimensions: dims
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<BTreeMap<_, _>>(),
        });
        for (s, value) in *points {
            samples.push(Sample {
                series: key.clone(),
                timestamp: s * SEC,
                value: *value,
                value_meta: None,
            });
        }
    }
    store.write(samples).await.unwrap();
    let store = Arc::new(store);
    [true, false].map(|series_at_a_time| {
        Engine::new(
            store.clone(),
            EngineOptions {
                series_at_a_time,
                ..EngineOptions::default()
            },
        )
    })
}

/// An instant query's samples, labels written `k=v,…`, in the order given.
async fn vector(e: &Engine, q: &str, t_s: i64) -> Vec<(String, f64)> {
    match e.instant("t", q, t_s * SEC).await {
        Ok(QueryValue::Vector(v)) => v
            .into_iter()
            .map(|(l, _, x)| {
                let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (l.join(","), x)
            })
            .collect(),
        other => panic!("{q}: {other:?}"),
    }
}

#[tokio::test]
async fn a_staleness_marker_ends_the_series_and_windows_leave_it_out() {
    let stale = f64::from_bits(STALE_NAN_BITS);
    let es = engines(&[("m", &[], &[(0, 1.0), (10, 2.0), (20, stale), (30, 4.0)])]).await;
    for e in &es {
        // The newest point is the marker: nothing, though older points are within 5 m.
        assert_eq!(vector(e, "m", 25).await, []);
        assert_eq!(vector(e, "sum(m)", 25).await, []);
        assert_eq!(vector(e, "m", 15).await, [("__name__=m".into(), 2.0)]);
        assert_eq!(vector(e, "m", 35).await, [("__name__=m".into(), 4.0)]);
        // Windows count the points around the marker only.
        assert_eq!(
            vector(e, "count_over_time(m[1m])", 35).await,
            [(String::new(), 3.0)]
        );
        assert_eq!(vector(e, "count_over_time(m[5s])", 22).await, []);
        assert_eq!(
            vector(e, "max_over_time(m[1m])", 25).await,
            [(String::new(), 2.0)]
        );
    }
}

#[tokio::test]
async fn the_mean_of_huge_values_does_not_overflow() {
    let big = 0.9 * f64::MAX;
    let es = engines(&[
        ("big", &[("h", "a")], &[(0, big), (10, big), (20, big)]),
        ("big", &[("h", "b")], &[(0, big), (10, big), (20, -big)]),
        ("big", &[("h", "c")], &[(0, big), (10, big), (20, big)]),
    ])
    .await;
    for e in &es {
        // The sum would be +Inf: the running mean is the value itself.
        assert_eq!(
            vector(e, r#"avg(big{h!="b"})"#, 20).await,
            [(String::new(), big)]
        );
        let third = (big + big - big) / 3.0;
        let got = vector(e, "avg(big)", 20).await;
        assert!((got[0].1 - third).abs() <= third * 1e-12, "{got:?}");
        assert_eq!(
            vector(e, r#"avg_over_time(big{h="a"}[1m])"#, 20).await,
            [(r"h=a".into(), big)]
        );
        // An infinity among finite values is the mean.
        let inf = vector(e, "avg(big) + avg(vector(+Inf))", 20).await;
        assert_eq!(inf, [(String::new(), f64::INFINITY)]);
    }
}

#[tokio::test]
async fn sort_by_label_orders_numbers_within_values_naturally() {
    let one = &[(0, 1.0)][..];
    let es = engines(&[
        ("node", &[("core", "cpu10"), ("v", "1.10.2")], one),
        ("node", &[("core", "cpu2"), ("v", "1.9.0")], one),
        ("node", &[("core", "cpu1"), ("v", "1.100.1")], one),
        ("node", &[("core", "gpu0"), ("v", "1.9")], one),
    ])
    .await;
    let order = |v: Vec<(String, f64)>| -> Vec<String> {
        v.into_iter()
            .map(|(l, _)| l.split(',').nth(1).unwrap().to_string())
            .collect()
    };
    for e in &es {
        let asc = order(vector(e, r#"sort_by_label(node, "core")"#, 0).await);
        assert_eq!(asc, ["core=cpu1", "core=cpu2", "core=cpu10", "core=gpu0"]);
        let desc = order(vector(e, r#"sort_by_label_desc(node, "v")"#, 0).await);
        assert_eq!(desc, ["core=cpu1", "core=cpu10", "core=cpu2", "core=gpu0"]);
    }
}

#[tokio::test]
async fn count_values_overwrites_a_label_of_its_name_before_grouping() {
    let es = engines(&[
        ("v", &[("job", "a"), ("i", "1")], &[(0, 6.0)]),
        ("v", &[("job", "b"), ("i", "2")], &[(0, 6.0)]),
        ("v", &[("job", "b"), ("i", "3")], &[(0, 7.0)]),
    ])
    .await;
    for e in &es {
        // The two 6s merge once `job` holds the value.
        let mut got = vector(e, r#"count_values without (i) ("job", v)"#, 0).await;
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, [("job=6".into(), 2.0), ("job=7".into(), 1.0)]);
        let mut got = vector(e, r#"count_values by (job) ("job", v)"#, 0).await;
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, [("job=6".into(), 2.0), ("job=7".into(), 1.0)]);
        // Another name keeps the groups and adds the label.
        let mut got = vector(e, r#"count_values by (job) ("x", v)"#, 0).await;
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("job=a,x=6".into(), 1.0),
                ("job=b,x=6".into(), 1.0),
                ("job=b,x=7".into(), 1.0)
            ]
        );
    }
}

#[tokio::test]
async fn histogram_quantile_says_when_it_raised_a_bucket_count() {
    let es = engines(&[
        ("lat", &[("le", "1")], &[(0, 4.0)]),
        ("lat", &[("le", "2")], &[(0, 3.0)]),
        ("lat", &[("le", "+Inf")], &[(0, 4.0)]),
        ("ok", &[("le", "1")], &[(0, 2.0)]),
        ("ok", &[("le", "+Inf")], &[(0, 4.0)]),
    ])
    .await;
    for e in &es {
        let (v, notes) = e
            .instant_annotated("t", "histogram_quantile(0.5, lat)", 0)
            .await
            .unwrap();
        assert!(
            matches!(&v, QueryValue::Vector(s) if s[0].2 == 0.5),
            "{v:?}"
        );
        assert_eq!(
            notes.infos,
            [
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity \
              (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) \
              for metric name \"\" (1:25)"
            ]
        );
        let (_, notes) = e
            .instant_annotated("t", "histogram_quantile(0.5, ok)", 0)
            .await
            .unwrap();
        assert_eq!(notes, crate::Annotations::default());
    }
}
