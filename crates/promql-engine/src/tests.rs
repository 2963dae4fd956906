//! Evaluation on the in-memory store, with values worked out by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, sync::Arc};

use metric_store::{MemoryStore, MetricStore, Sample as StoreSample, SeriesKey};

use crate::{Engine, EngineOptions, QueryError, QueryValue};

pub(crate) const MIN: i64 = 60_000;
pub(crate) const TENANT: &str = "t";

/// One point a minute from 0 to 10 min: `http.requests` counters (a: 10/min, b: 20/min),
/// `cpu.idle_perc` gauges (a: k, b: 2k), a counter with resets, and an info series.
pub(crate) async fn engine_with(options: EngineOptions) -> Engine {
    let store = MemoryStore::new();
    store.write(samples()).await.unwrap();
    Engine::new(Arc::new(store), options)
}

/// The same samples in the embedded store, sealed into a block by closing and reopening it.
pub(crate) async fn embedded_engine(options: EngineOptions) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = metric_store::EmbeddedStore::open(dir.path()).await.unwrap();
    store.write(samples()).await.unwrap();
    store.close().await.unwrap();
    let store = metric_store::EmbeddedStore::open(dir.path()).await.unwrap();
    (Engine::new(Arc::new(store), options), dir)
}

fn samples() -> Vec<StoreSample> {
    let mut samples = Vec::new();
    let mut add = |name: &str, dims: &[(&str, &str)], tenant: &str, f: &dyn Fn(i64) -> f64| {
        let key = Arc::new(SeriesKey {
            tenant: tenant.into(),
            name: name.into(),
            dimensions: dims
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<BTreeMap<_, _>>(),
        });
        for k in 0..=10 {
            samples.push(StoreSample {
                series: key.clone(),
                timestamp: k * MIN,
                value: f(k),
                value_meta: None,
            });
        }
    };
    add("http.requests", &[("hostname", "a")], TENANT, &|k| {
        10.0 * k as f64
    });
    add("http.requests", &[("hostname", "b")], TENANT, &|k| {
        20.0 * k as f64
    });
    add("http.requests", &[("hostname", "a")], "other", &|_| 1e9);
    add("cpu.idle_perc", &[("hostname", "a")], TENANT, &|k| k as f64);
    add("cpu.idle_perc", &[("hostname", "b")], TENANT, &|k| {
        2.0 * k as f64
    });
    let resets = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 30.0, 5.0, 5.0, 1.0, 1.0];
    add("jobs.done", &[], TENANT, &|k| resets[k as usize]);
    add(
        "host.info",
        &[("hostname", "a"), ("team", "x")],
        TENANT,
        &|_| 1.0,
    );
    samples
}

pub(crate) async fn engine() -> Engine {
    engine_with(EngineOptions::default()).await
}

/// An instant query's samples as `labels → value`, labels written `k=v,…`.
async fn at(engine: &Engine, query: &str, t: i64) -> BTreeMap<String, f64> {
    match engine.instant(TENANT, query, t).await {
        Ok(QueryValue::Vector(v)) => v
            .into_iter()
            .map(|(labels, ts, value)| {
                assert_eq!(ts, t);
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (l.join(","), value)
            })
            .collect(),
        other => panic!("{query}: {other:?}"),
    }
}

async fn one(engine: &Engine, query: &str, t: i64) -> f64 {
    let v = at(engine, query, t).await;
    assert_eq!(v.len(), 1, "{query}: {v:?}");
    v.into_values().next().unwrap()
}

async fn scalar(engine: &Engine, query: &str, t: i64) -> f64 {
    match engine.instant(TENANT, query, t).await {
        Ok(QueryValue::Scalar(ts, v)) => {
            assert_eq!(ts, t);
            v
        }
        other => panic!("{query}: {other:?}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

#[tokio::test]
async fn selectors_matchers_lookback_offset_and_at() {
    let e = engine().await;
    let t = 10 * MIN;
    assert_eq!(
        at(&e, "http:requests", t).await,
        map(&[
            ("__name__=http:requests,hostname=a", 100.0),
            ("__name__=http:requests,hostname=b", 200.0)
        ])
    );
    let only = |host: &str, v: f64| {
        map(&[(
            format!("__name__=http:requests,hostname={host}").as_str(),
            v,
        )])
    };
    assert_eq!(
        at(&e, r#"http:requests{hostname="a"}"#, t).await,
        only("a", 100.0)
    );
    assert_eq!(
        at(&e, r#"http:requests{hostname!="a"}"#, t).await,
        only("b", 200.0)
    );
    assert_eq!(
        at(&e, r#"{__name__=~"http:.*",hostname=~"a|c"}"#, t).await,
        only("a", 100.0)
    );
    assert_eq!(
        at(&e, r#"http:requests{hostname!~"a"}"#, t).await,
        only("b", 200.0)
    );
    assert_eq!(at(&e, r#"http:requests{hostname=""}"#, t).await, map(&[]));
    // The newest point within 5 minutes, the window open on the left.
    assert_eq!(
        at(&e, r#"http:requests{hostname="a"}"#, 15 * MIN - 1).await,
        only("a", 100.0)
    );
    assert!(at(&e, "http:requests", 15 * MIN).await.is_empty());
    assert_eq!(
        at(&e, r#"http:requests{hostname="a"}"#, t + 30_000).await,
        only("a", 100.0)
    );
    assert_eq!(
        at(&e, r#"http:requests{hostname="a"} offset 1m"#, t).await,
        only("a", 90.0)
    );
    assert_eq!(
        at(&e, r#"http:requests{hostname="a"} @ 300"#, t).await,
        only("a", 50.0)
    );
    assert_eq!(
        at(&e, r#"http:requests{hostname="a"} @ 360 offset 2m"#, t).await,
        only("a", 40.0)
    );
    // Another tenant's data is never seen.
    assert!(
        e.instant("nobody", "http:requests", t)
            .await
            .is_ok_and(|v| v == QueryValue::Vector(vec![]))
    );
    // A shorter lookback loses the point.
    let short = engine_with(EngineOptions {
        lookback_delta: std::time::Duration::from_secs(30),
        ..EngineOptions::default()
    })
    .await;
    assert!(at(&short, "http:requests", t + 30_000).await.is_empty());
}

#[tokio::test]
async fn literals() {
    let e = engine().await;
    assert_eq!(scalar(&e, "1.5", 0).await, 1.5);
    assert_eq!(scalar(&e, "2 * 3 + 2 ^ 2", 0).await, 10.0);
    assert_eq!(scalar(&e, "5 > bool 3", 0).await, 1.0);
    assert_eq!(scalar(&e, "-7 % 3", 0).await, -1.0);
    assert_eq!(
        e.instant(TENANT, r#""hi""#, 5).await.unwrap(),
        QueryValue::String(5, "hi".into())
    );
}

#[tokio::test]
async fn counter_functions_extrapolate_as_prometheus() {
    let e = engine().await;
    let t = 10 * MIN;
    // (300 s, 600 s] holds 60..100 at 360..600 s: +40 over 240 s, extrapolated 60 s back.
    assert!(close(
        one(&e, r#"increase(http:requests{hostname="a"}[5m])"#, t).await,
        50.0
    ));
    assert!(close(
        one(&e, r#"rate(http:requests{hostname="a"}[5m])"#, t).await,
        50.0 / 300.0
    ));
    assert!(close(
        one(&e, r#"delta(http:requests{hostname="a"}[5m])"#, t).await,
        50.0
    ));
    assert!(close(
        one(&e, r#"irate(http:requests{hostname="a"}[5m])"#, t).await,
        10.0 / 60.0
    ));
    assert_eq!(
        one(&e, r#"idelta(http:requests{hostname="a"}[5m])"#, t).await,
        10.0
    );
    // 30, 5, 5, 1, 1: two resets, two changes, and +6 with the resets counted.
    assert_eq!(one(&e, "resets(jobs:done[5m])", t).await, 2.0);
    assert_eq!(one(&e, "changes(jobs:done[5m])", t).await, 2.0);
    assert!(close(one(&e, "increase(jobs:done[5m])", t).await, 7.5));
    // The metric name goes.
    assert_eq!(
        at(&e, r#"rate(http:requests{hostname="b"}[5m])"#, t)
            .await
            .keys()
            .collect::<Vec<_>>(),
        ["hostname=b"]
    );
    // One point is no rate.
    assert!(at(&e, "rate(http:requests[1m])", t).await.is_empty());
}

#[tokio::test]
async fn over_time_functions() {
    let e = engine().await;
    let t = 10 * MIN;
    let cpu = r#"cpu:idle_perc{hostname="a"}[5m]"#;
    for (f, want) in [
        ("sum_over_time", 40.0),
        ("avg_over_time", 8.0),
        ("min_over_time", 6.0),
        ("max_over_time", 10.0),
        ("count_over_time", 5.0),
        ("last_over_time", 10.0),
        ("first_over_time", 6.0),
        ("present_over_time", 1.0),
        ("stdvar_over_time", 2.0),
        ("stddev_over_time", 2f64.sqrt()),
        ("changes", 4.0),
        ("resets", 0.0),
        ("mad_over_time", 1.0),
    ] {
        let got = one(&e, &format!("{f}({cpu})"), t).await;
        assert!(close(got, want), "{f}: {got} != {want}");
    }
    assert_eq!(
        one(&e, &format!("quantile_over_time(0.5, {cpu})"), t).await,
        8.0
    );
    assert_eq!(
        one(&e, &format!("quantile_over_time(0.25, {cpu})"), t).await,
        7.0
    );
    assert!(close(
        one(&e, &format!("deriv({cpu})"), t).await,
        1.0 / 60.0
    ));
    assert!(close(
        one(&e, &format!("predict_linear({cpu}, 120)"), t).await,
        12.0
    ));
    // last_over_time keeps the name, the others drop it.
    assert!(
        at(&e, &format!("last_over_time({cpu})"), t)
            .await
            .contains_key("__name__=cpu:idle_perc,hostname=a")
    );
    assert!(
        at(&e, &format!("max_over_time({cpu})"), t)
            .await
            .contains_key("hostname=a")
    );
    // Subqueries: the gauge at 6..10 min, one a minute.
    assert_eq!(
        one(
            &e,
            r#"sum_over_time(cpu:idle_perc{hostname="a"}[5m:1m])"#,
            t
        )
        .await,
        40.0
    );
    assert_eq!(
        one(
            &e,
            r#"count_over_time(cpu:idle_perc{hostname="a"}[5m:2m])"#,
            t
        )
        .await,
        3.0
    );
    assert!(close(
        one(
            &e,
            r#"max_over_time(rate(http:requests{hostname="a"}[2m])[5m:1m])"#,
            t
        )
        .await,
        20.0 / 120.0
    ));
}

#[tokio::test]
async fn absent() {
    let e = engine().await;
    let t = 10 * MIN;
    assert_eq!(
        at(&e, r#"absent(nope{job="x"})"#, t).await,
        map(&[("job=x", 1.0)])
    );
    assert!(at(&e, "absent(http:requests)", t).await.is_empty());
    assert_eq!(
        at(&e, r#"absent_over_time(nope{job="x"}[5m])"#, t).await,
        map(&[("job=x", 1.0)])
    );
    assert!(
        at(&e, "absent_over_time(http:requests[5m])", t)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn aggregations() {
    let e = engine().await;
    let t = 10 * MIN;
    for (q, want) in [
        ("sum(http:requests)", 300.0),
        ("avg(http:requests)", 150.0),
        ("min(http:requests)", 100.0),
        ("max(http:requests)", 200.0),
        ("count(http:requests)", 2.0),
        ("group(http:requests)", 1.0),
        ("stddev(http:requests)", 50.0),
        ("stdvar(http:requests)", 2500.0),
        ("quantile(0.5, http:requests)", 150.0),
        ("sum without (hostname) (http:requests)", 300.0),
    ] {
        assert_eq!(at(&e, q, t).await, map(&[("", want)]), "{q}");
    }
    assert_eq!(
        at(&e, "sum by (hostname) (http:requests)", t).await,
        map(&[("hostname=a", 100.0), ("hostname=b", 200.0)])
    );
    assert_eq!(
        at(
            &e,
            "sum by (__name__) ({__name__=~\"http:requests|cpu:idle_perc\"})",
            t
        )
        .await,
        map(&[
            ("__name__=cpu:idle_perc", 30.0),
            ("__name__=http:requests", 300.0)
        ])
    );
    assert_eq!(
        at(&e, "count without (team) (host:info)", t).await,
        map(&[("hostname=a", 1.0)])
    );
    assert_eq!(
        at(&e, "topk(1, http:requests)", t).await,
        map(&[("__name__=http:requests,hostname=b", 200.0)])
    );
    assert_eq!(
        at(&e, "bottomk(1, http:requests)", t).await,
        map(&[("__name__=http:requests,hostname=a", 100.0)])
    );
    assert_eq!(
        at(&e, "topk by (hostname) (5, http:requests)", t)
            .await
            .len(),
        2
    );
    assert_eq!(
        at(&e, r#"count_values("v", http:requests)"#, t).await,
        map(&[("v=100", 1.0), ("v=200", 1.0)])
    );
}

#[tokio::test]
async fn binary_operators() {
    let e = engine().await;
    let t = 10 * MIN;
    assert_eq!(
        at(&e, "http:requests / 10", t).await,
        map(&[("hostname=a", 10.0), ("hostname=b", 20.0)])
    );
    assert_eq!(
        at(&e, "1000 - http:requests", t).await,
        map(&[("hostname=a", 900.0), ("hostname=b", 800.0)])
    );
    assert_eq!(
        at(&e, "http:requests > 150", t).await,
        map(&[("__name__=http:requests,hostname=b", 200.0)])
    );
    assert_eq!(
        at(&e, "150 < http:requests", t).await,
        map(&[("__name__=http:requests,hostname=b", 200.0)])
    );
    assert_eq!(
        at(&e, "http:requests > bool 150", t).await,
        map(&[("hostname=a", 0.0), ("hostname=b", 1.0)])
    );
    assert_eq!(
        at(&e, "http:requests - cpu:idle_perc", t).await,
        map(&[("hostname=a", 90.0), ("hostname=b", 180.0)])
    );
    assert_eq!(
        at(&e, "http:requests - on(hostname) cpu:idle_perc", t).await,
        map(&[("hostname=a", 90.0), ("hostname=b", 180.0)])
    );
    assert_eq!(
        at(&e, "http:requests >= ignoring(x) cpu:idle_perc * 10", t).await,
        map(&[
            ("__name__=http:requests,hostname=a", 100.0),
            ("__name__=http:requests,hostname=b", 200.0)
        ])
    );
    assert_eq!(
        at(
            &e,
            "cpu:idle_perc * on(hostname) group_left(team) host:info",
            t
        )
        .await,
        map(&[("hostname=a,team=x", 10.0)])
    );
    assert_eq!(
        at(
            &e,
            "host:info * on(hostname) group_right(team) cpu:idle_perc",
            t
        )
        .await,
        map(&[("hostname=a,team=x", 10.0)])
    );
    assert_eq!(
        at(&e, r#"http:requests and cpu:idle_perc{hostname="a"}"#, t).await,
        map(&[("__name__=http:requests,hostname=a", 100.0)])
    );
    assert_eq!(
        at(&e, r#"http:requests unless cpu:idle_perc{hostname="a"}"#, t).await,
        map(&[("__name__=http:requests,hostname=b", 200.0)])
    );
    assert_eq!(
        at(&e, r#"cpu:idle_perc{hostname="a"} or http:requests"#, t).await,
        map(&[
            ("__name__=cpu:idle_perc,hostname=a", 10.0),
            ("__name__=http:requests,hostname=b", 200.0)
        ])
    );
    assert_eq!(at(&e, "http:requests and on() vector(1)", t).await.len(), 2);
    let err = e
        .instant(TENANT, "http:requests + on() cpu:idle_perc", t)
        .await;
    assert!(
        matches!(err, Err(QueryError::Execution(ref m)) if m.contains("duplicate series")),
        "{err:?}"
    );
}

#[tokio::test]
async fn math_time_label_and_sort_functions() {
    let e = engine().await;
    let t = 10 * MIN;
    let a = r#"http:requests{hostname="a"}"#;
    assert_eq!(one(&e, &format!("abs(-{a})"), t).await, 100.0);
    assert_eq!(one(&e, &format!("sqrt({a})"), t).await, 10.0);
    assert_eq!(one(&e, &format!("log10({a})"), t).await, 2.0);
    assert_eq!(one(&e, &format!("ceil({a} / 3)"), t).await, 34.0);
    assert_eq!(one(&e, &format!("floor({a} / 3)"), t).await, 33.0);
    assert_eq!(one(&e, &format!("round({a} / 3, 0.5)"), t).await, 33.5);
    assert_eq!(one(&e, &format!("sgn(0 - {a})"), t).await, -1.0);
    assert_eq!(
        at(&e, "clamp(http:requests, 120, 150)", t).await,
        map(&[("hostname=a", 120.0), ("hostname=b", 150.0)])
    );
    assert_eq!(at(&e, "clamp(http:requests, 2, 1)", t).await, map(&[]));
    assert_eq!(
        at(&e, "clamp_max(http:requests, 150)", t).await,
        map(&[("hostname=a", 100.0), ("hostname=b", 150.0)])
    );
    assert_eq!(
        at(&e, "clamp_min(http:requests, 150)", t).await,
        map(&[("hostname=a", 150.0), ("hostname=b", 200.0)])
    );
    assert_eq!(scalar(&e, "time()", t).await, 600.0);
    assert_eq!(scalar(&e, &format!("scalar({a})"), t).await, 100.0);
    assert!(scalar(&e, "scalar(http:requests)", t).await.is_nan());
    assert_eq!(at(&e, "vector(2)", t).await, map(&[("", 2.0)]));
    assert_eq!(one(&e, &format!("timestamp({a})"), t + 30_000).await, 600.0);
    assert_eq!(one(&e, "hour(vector(18000))", t).await, 5.0);
    assert_eq!(one(&e, "minute()", 3 * MIN).await, 3.0);
    assert_eq!(one(&e, "year()", t).await, 1970.0);
    assert_eq!(
        at(
            &e,
            &format!(r#"label_replace({a}, "host", "h-$1", "hostname", "(.*)")"#),
            t
        )
        .await,
        map(&[("__name__=http:requests,host=h-a,hostname=a", 100.0)])
    );
    assert_eq!(
        at(
            &e,
            &format!(r#"label_replace({a}, "host", "$1", "hostname", "z(.*)")"#),
            t
        )
        .await,
        map(&[("__name__=http:requests,hostname=a", 100.0)])
    );
    assert_eq!(
        at(
            &e,
            r#"label_join(host:info, "both", "/", "hostname", "team")"#,
            t
        )
        .await,
        map(&[("__name__=host:info,both=a/x,hostname=a,team=x", 1.0)])
    );
    let order = |v: QueryValue| match v {
        QueryValue::Vector(v) => v.into_iter().map(|s| s.2).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        order(
            e.instant(TENANT, "sort_desc(http:requests)", t)
                .await
                .unwrap()
        ),
        [200.0, 100.0]
    );
    assert_eq!(
        order(e.instant(TENANT, "sort(http:requests)", t).await.unwrap()),
        [100.0, 200.0]
    );
    let dup = e
        .instant(
            TENANT,
            r#"label_replace(http:requests, "hostname", "same", "", "")"#,
            t,
        )
        .await;
    assert!(matches!(dup, Err(QueryError::Execution(_))), "{dup:?}");
}

#[tokio::test]
async fn range_queries() {
    let e = engine().await;
    let QueryValue::Matrix(m) = e
        .range(
            TENANT,
            r#"http:requests{hostname="a"}"#,
            0,
            10 * MIN,
            2 * MIN,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].points,
        [
            (0, 0.0),
            (2 * MIN, 20.0),
            (4 * MIN, 40.0),
            (6 * MIN, 60.0),
            (8 * MIN, 80.0),
            (10 * MIN, 100.0)
        ]
    );
    let QueryValue::Matrix(m) = e.range(TENANT, "time()", 0, 2 * MIN, MIN).await.unwrap() else {
        panic!()
    };
    assert!(m[0].labels.is_empty());
    assert_eq!(m[0].points, [(0, 0.0), (MIN, 60.0), (2 * MIN, 120.0)]);
    // Series appear only at the steps where they have a value.
    let QueryValue::Matrix(m) = e
        .range(TENANT, "http:requests > 150", 8 * MIN, 10 * MIN, MIN)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].points,
        [(8 * MIN, 160.0), (9 * MIN, 180.0), (10 * MIN, 200.0)]
    );
    let QueryValue::Matrix(m) = e
        .range(
            TENANT,
            "sum(rate(http:requests[2m]))",
            2 * MIN,
            4 * MIN,
            MIN,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(m[0].points.len(), 3);
    assert!(
        m[0].points.iter().all(|p| close(p.1, 60.0 / 120.0)),
        "{m:?}"
    );
}

#[tokio::test]
async fn bad_input_and_limits() {
    let e = engine().await;
    let bad = |r: Result<QueryValue, QueryError>| match r {
        Err(QueryError::BadData(m) | QueryError::Parse(m)) => m,
        other => panic!("{other:?}"),
    };
    let m = bad(e.instant(TENANT, "sum(http:requests", 0).await);
    assert!(m.contains("parse error"), "{m}");
    let m = bad(e
        .instant(TENANT, r#"http:requests{hostname="a"} $"#, 0)
        .await);
    assert!(m.starts_with("1:29: parse error"), "{m}");
    let m = bad(e
        .instant(TENANT, "http:requests{hostname=\"a\"} bar", 0)
        .await);
    assert_eq!(m, "1:29: parse error: unexpected identifier \"bar\"");
    let m = bad(e.instant(TENANT, "sum(x)\n  + 1 5", 0).await);
    assert_eq!(m, "2:7: parse error: unexpected number \"5\"");
    let m = bad(e.instant(TENANT, "x +", 0).await);
    assert_eq!(m, "1:4: parse error: unexpected end of input");
    let m = bad(e.instant(TENANT, "1 +* 2", 0).await);
    assert_eq!(m, "1:4: parse error: unexpected <op:*>");
    let m = bad(e.instant(TENANT, "sum by (a b) (x)", 0).await);
    assert_eq!(
        m,
        "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\""
    );
    let m = bad(e.instant(TENANT, "sum(x)\n  + rate(x)", 0).await);
    assert_eq!(
        m,
        "2:10: parse error: expected type range vector in call to function \"rate\", got instant vector"
    );
    let m = bad(e.instant(TENANT, "nosuch(x)", 0).await);
    assert_eq!(m, "1:1: parse error: unknown function with name \"nosuch\"");
    bad(e.instant(TENANT, "rate(http:requests)", 0).await);
    bad(e.instant(TENANT, "nosuchfn(http:requests)", 0).await);
    // Times at the ends of the range neither overflow nor panic.
    for q in [
        "http:requests offset -1h",
        "http:requests[1h:1m] offset -1h",
        "rate(http:requests[1h])",
    ] {
        assert!(e.instant(TENANT, q, i64::MAX).await.is_ok(), "{q}");
        assert!(e.instant(TENANT, q, i64::MIN).await.is_ok(), "{q}");
    }
    assert!(
        e.range(TENANT, "1", i64::MAX - 5, i64::MAX, 2)
            .await
            .is_ok()
    );
    bad(e.range(TENANT, "1", i64::MIN, i64::MAX, 1).await);
    let m = bad(e.range(TENANT, "1", 0, 10, 0).await);
    assert!(m.contains("zero or negative"), "{m}");
    bad(e.range(TENANT, "1", 10, 0, 1).await);
    let m = bad(e.range(TENANT, "1", 0, 11_001_000, 1000).await);
    assert!(m.contains("11,000"), "{m}");
    assert!(e.range(TENANT, "1", 0, 11_000_000, 1000).await.is_ok());
    bad(e.range(TENANT, "http:requests[5m]", 0, 10, 1).await);
    let small = engine_with(EngineOptions {
        max_samples: 3,
        ..EngineOptions::default()
    })
    .await;
    let r = small.instant(TENANT, "http:requests[5m]", 10 * MIN).await;
    assert!(
        matches!(r, Err(QueryError::Execution(ref m)) if m.contains("too many samples")),
        "{r:?}"
    );
    // A subquery's own points count too: a tiny step over a long range is refused, not run.
    let r = small
        .instant(TENANT, "count_over_time(vector(1)[1h:1s])", 10 * MIN)
        .await;
    assert!(
        matches!(r, Err(QueryError::Execution(ref m)) if m.contains("too many samples")),
        "{r:?}"
    );
    let slow = engine_with(EngineOptions {
        timeout: std::time::Duration::ZERO,
        ..EngineOptions::default()
    })
    .await;
    let r = slow.range(TENANT, "http:requests", 0, 10 * MIN, MIN).await;
    assert!(matches!(r, Err(QueryError::Timeout(_))), "{r:?}");
}

#[tokio::test]
async fn series_and_labels() {
    let e = engine().await;
    let s = e
        .series(TENANT, &["http:requests".into()], 0, 10 * MIN)
        .await
        .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].get("hostname").map(String::as_str), Some("a"));
    let names = e.labels(TENANT, None, &[], 0, 10 * MIN).await.unwrap();
    assert_eq!(names, ["__name__", "hostname", "team"]);
    let values = e
        .labels(TENANT, Some("__name__"), &[], 0, 10 * MIN)
        .await
        .unwrap();
    assert_eq!(
        values,
        ["cpu:idle_perc", "host:info", "http:requests", "jobs:done"]
    );
    let hosts = e
        .labels(
            TENANT,
            Some("hostname"),
            &["cpu:idle_perc".into()],
            0,
            10 * MIN,
        )
        .await
        .unwrap();
    assert_eq!(hosts, ["a", "b"]);
    // Without selectors: the tenant's values in the range, no other tenant's.
    let all = |from, to| e.labels(TENANT, Some("team"), &[], from, to);
    assert_eq!(all(0, 10 * MIN).await.unwrap(), ["x"]);
    assert!(all(20 * MIN, 30 * MIN).await.unwrap().is_empty());
    let hosts = e.labels("other", Some("hostname"), &[], 0, 10 * MIN);
    assert_eq!(hosts.await.unwrap(), ["a"]);
    assert!(
        e.labels(TENANT, None, &[], 20 * MIN, 30 * MIN)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn escaped_names_select_and_come_back() {
    let store = MemoryStore::new();
    let key = Arc::new(SeriesKey {
        tenant: TENANT.into(),
        name: "disk-io.bytes".into(),
        dimensions: [("k8s.pod", "p1"), ("hostname", "h")]
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    });
    store
        .write(vec![StoreSample {
            series: key,
            timestamp: MIN,
            value: 4.0,
            value_meta: None,
        }])
        .await
        .unwrap();
    let e = Engine::new(Arc::new(store), EngineOptions::default());
    let want = map(&[(
        "U__k8s_2e_pod=p1,__name__=U__disk_2d_io_2e_bytes,hostname=h",
        4.0,
    )]);
    assert_eq!(at(&e, "U__disk_2d_io_2e_bytes", MIN).await, want);
    assert_eq!(at(&e, r#"{U__k8s_2e_pod="p1"}"#, MIN).await, want);
    assert_eq!(at(&e, r#"{__name__=~"U__disk.*"}"#, MIN).await, want);
    assert!(at(&e, r#"{U__k8s_2e_pod="p2"}"#, MIN).await.is_empty());
    // A name that decodes to nothing selects nothing rather than failing.
    assert!(at(&e, "U___zz_", MIN).await.is_empty());
    let s = e
        .series(TENANT, &["U__disk_2d_io_2e_bytes".into()], 0, MIN)
        .await
        .unwrap();
    assert_eq!(
        crate::names::dimension_from_label(s[0].keys().next().unwrap()).as_deref(),
        Some("k8s.pod")
    );
}

#[tokio::test]
async fn warnings_and_infos_as_prometheus_3() {
    let e = engine().await;
    let notes = |q: &'static str| {
        let e = e.clone();
        async move { e.instant_annotated(TENANT, q, 10 * MIN).await.unwrap().1 }
    };
    let n = notes("sum(rate(http:requests[5m]))").await;
    assert_eq!(
        n.infos,
        [
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"http:requests\" (1:10)"
        ]
    );
    assert!(n.warnings.is_empty());
    let n = notes(
        "quantile(1.5, cpu:idle_perc) + on() group_left\n  histogram_quantile(-1, cpu:idle_perc)",
    )
    .await;
    assert_eq!(
        n.warnings,
        [
            "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"\" for metric name \"cpu:idle_perc\" (2:26)",
            "PromQL warning: quantile value should be between 0 and 1, got -1 (2:22)",
            "PromQL warning: quantile value should be between 0 and 1, got 1.5 (1:10)",
        ]
    );
    assert_eq!(
        notes("quantile_over_time(NaN, cpu:idle_perc[5m])")
            .await
            .warnings,
        ["PromQL warning: quantile value should be between 0 and 1, got NaN (1:20)"]
    );
    // Nothing to say: nothing said, and the range query too.
    assert_eq!(
        notes("rate(http:requests[5m]) > 0 or increase(x_total[5m])")
            .await
            .infos
            .len(),
        1
    );
    assert_eq!(
        notes("quantile(0.5, cpu:idle_perc)").await,
        crate::Annotations::default()
    );
    let (_, n) = e
        .range_annotated(
            TENANT,
            "histogram_quantile(2, cpu:idle_perc)",
            0,
            10 * MIN,
            MIN,
        )
        .await
        .unwrap();
    assert_eq!(n.warnings.len(), 2, "{n:?}");
}
