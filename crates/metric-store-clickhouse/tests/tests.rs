//! The store against a real, throwaway `clickhouse-server` (Debian's 18.16 in CI): the
//! conformance suite, hostile strings, tenant isolation, retention, concurrent writers.
//! One server for the whole binary, one database per check. `#[ignore]`d: `.ci/run` installs
//! the server and runs `cargo test -p metric-store-clickhouse -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, sync::Arc};

use metric_store::{
    DimMatch, MetricStore, Sample, SeriesFilter, SeriesKey, Stat, StoreError, TimeRange,
    conformance,
};
use metric_store_clickhouse::{ClickHouseOptions, ClickHouseStore, testkit::TestServer};
use secrecy::SecretString;

fn options(server: &TestServer, database: &str) -> ClickHouseOptions {
    ClickHouseOptions {
        urls: vec![server.url.clone()],
        database: database.into(),
        user: Some("vigil".into()),
        password: Some(SecretString::from("test-password")),
        ..Default::default()
    }
}

fn key(tenant: &str, name: &str, dims: &[(&str, &str)]) -> Arc<SeriesKey> {
    Arc::new(SeriesKey {
        tenant: tenant.into(),
        name: name.into(),
        dimensions: dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    })
}

fn sample(k: &Arc<SeriesKey>, ts: i64, v: f64, meta: Option<&str>) -> Sample {
    Sample {
        series: k.clone(),
        timestamp: ts,
        value: v,
        value_meta: meta.map(Arc::from),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs clickhouse-server (Debian's package); .ci/run runs it"]
async fn clickhouse_store_against_a_real_server() {
    if metric_store_clickhouse::testkit::server_binary().is_none() {
        eprintln!(
            "\n\n*** SKIPPED: no clickhouse-server binary (apt-get install clickhouse-server); \
             the ClickHouse store was NOT tested ***\n"
        );
        return;
    }
    let mut server = TestServer::start().expect("start clickhouse-server");

    let store = ClickHouseStore::open(options(&server, "conformance"))
        .await
        .unwrap();
    conformance::check_queries(&store).await;
    store.close().await.unwrap();

    let opts = options(&server, "reopen");
    conformance::check_reopen(|| async { ClickHouseStore::open(opts.clone()).await.unwrap() })
        .await;

    hostile_strings_round_trip(&server).await;
    tenants_are_isolated(&server).await;
    retention_drops_old_months(&server).await;
    concurrent_writers_are_gathered_and_all_stored(&server).await;
    each_series_points_walks_every_series_once(&server).await;
    periods_of_every_width_bucket_on_epoch_multiples(&server).await;
    bad_credentials_are_refused_without_echo(&server).await;
    // Last: it kills the server.
    an_outage_fails_requests_and_the_store_recovers_by_itself(&mut server).await;
    drop(server);

    two_shards_behind_distributed_tables_conform().await;
}

/// Two servers as the two shards of a cluster: local tables on each, `Distributed` tables
/// over them, the conformance suite through both URLs.
async fn two_shards_behind_distributed_tables_conform() {
    let shards = tokio::task::spawn_blocking(|| TestServer::start_cluster("vigil_test", 2))
        .await
        .unwrap()
        .unwrap();
    let opts = ClickHouseOptions {
        urls: shards.iter().map(|s| s.url.clone()).collect(),
        database: "sharded".into(),
        cluster: Some("vigil_test".into()),
        ..Default::default()
    };
    let store = ClickHouseStore::open(opts.clone()).await.unwrap();
    conformance::check_queries(&store).await;
    store.close().await.unwrap();
    // Both shards hold points: the series were spread by id.
    for s in &shards {
        let text = reqwest::Client::new()
            .post(&s.url)
            .body("SELECT count() FROM sharded.points_local")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.trim().parse::<u64>().unwrap() > 0, "{}: {text}", s.url);
    }
    let reopen = ClickHouseOptions {
        database: "sharded_reopen".into(),
        ..opts
    };
    conformance::check_reopen(|| async { ClickHouseStore::open(reopen.clone()).await.unwrap() })
        .await;
}

/// ClickHouse killed: writes and reads fail (the API answers 503), the store says it is
/// unhealthy; restarted: the same store works again, and what was acknowledged is there.
async fn an_outage_fails_requests_and_the_store_recovers_by_itself(server: &mut TestServer) {
    let store = ClickHouseStore::open(options(server, "outage"))
        .await
        .unwrap();
    let k = key("t", "m", &[("h", "a")]);
    store
        .write(vec![sample(&k, 1_000, 1.0, None)])
        .await
        .unwrap();
    assert!(store.is_healthy());
    server.kill();
    let e = store
        .write(vec![sample(&k, 2_000, 2.0, None)])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Backend(_)), "{e}");
    assert!(!store.is_healthy());
    assert!(
        store
            .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
            .await
            .is_err()
    );
    server.restart().unwrap();
    // Within a few seconds an idle store notices by itself; a request would at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !store.is_healthy() {
        assert!(std::time::Instant::now() < deadline, "still unhealthy");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    store
        .write(vec![sample(&k, 3_000, 3.0, None)])
        .await
        .unwrap();
    let s = store
        .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
        .await
        .unwrap();
    let p = store
        .read_points(&[s[0].id], TimeRange::ALL, None, 10)
        .await
        .unwrap();
    assert_eq!(
        p.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        [1_000, 3_000]
    );
    store.close().await.unwrap();
}

/// Names, dimensions and value_meta full of quotes, backslashes, NULs, newlines, tabs and
/// SQL come back byte for byte and match filters exactly.
async fn hostile_strings_round_trip(server: &TestServer) {
    let store = ClickHouseStore::open(options(server, "hostile"))
        .await
        .unwrap();
    let evil = [
        "'; DROP TABLE hostile.points; --",
        "\\' OR 1=1 --",
        "a\0b",
        "line\nbreak\ttab\r",
        "\"}]{\\u0000",
        "back\\slash\\",
        "x') UNION ALL SELECT * FROM system.users --",
        "{f:String}",
        "ünïcödé ☃",
    ];
    let tenant = "tenant'\"\\\0\n";
    let mut samples = Vec::new();
    for (i, s) in evil.iter().enumerate() {
        let k = key(tenant, s, &[(s, s), ("i", &i.to_string())]);
        let meta = serde_json::json!({ "note": s }).to_string();
        samples.push(sample(&k, 1_000 + i as i64, i as f64, Some(&meta)));
    }
    store.write(samples).await.unwrap();

    let all = store
        .find_series(&SeriesFilter::tenant(tenant), TimeRange::ALL)
        .await
        .unwrap();
    assert_eq!(all.len(), evil.len());
    for (i, s) in evil.iter().enumerate() {
        let f = SeriesFilter::tenant(tenant)
            .name(*s)
            .dimension(*s, DimMatch::AnyOf(vec![s.to_string()]));
        let found = store.find_series(&f, TimeRange::ALL).await.unwrap();
        assert_eq!(found.len(), 1, "{s:?}");
        assert_eq!(found[0].key.name, *s);
        assert_eq!(found[0].key.tenant, tenant);
        assert_eq!(found[0].key.dimensions[*s], *s);
        let p = store
            .read_points(&[found[0].id], TimeRange::ALL, None, 10)
            .await
            .unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].value, i as f64);
        let meta: serde_json::Value =
            serde_json::from_str(p[0].value_meta.as_deref().unwrap()).unwrap();
        assert_eq!(meta["note"], *s);
        let values = store
            .dimension_values(tenant, Some(s), s, TimeRange::ALL)
            .await
            .unwrap();
        assert_eq!(values, [s.to_string()]);
        let groups = store
            .group_by_dimension(&SeriesFilter::tenant(tenant), s)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(groups.len(), 2, "{s:?}: with and without the dimension");
        assert_eq!(groups.value(1).map(|v| &**v), Some(*s));
    }
    // Values JSON cannot carry, and points spread over 200 months in one write.
    let k = key(tenant, "odd", &[]);
    let odd = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::MAX,
        f64::MIN_POSITIVE,
    ];
    let month = 31 * 86_400_000;
    let spread: Vec<Sample> = (0..200)
        .map(|m| sample(&k, m * month, odd[m as usize % odd.len()], None))
        .collect();
    store.write(spread).await.unwrap();
    let s = store
        .find_series(&SeriesFilter::tenant(tenant).name("odd"), TimeRange::ALL)
        .await
        .unwrap();
    let p = store
        .read_points(&[s[0].id], TimeRange::ALL, None, 1000)
        .await
        .unwrap();
    assert_eq!(p.len(), 200);
    for (i, p) in p.iter().enumerate() {
        let want = odd[i % odd.len()];
        assert!(
            p.value.to_bits() == want.to_bits() || (p.value.is_nan() && want.is_nan()),
            "{i}: {} for {want}",
            p.value
        );
    }
    let mut names: Vec<String> = evil
        .iter()
        .map(|s| s.to_string())
        .chain(["odd".to_string()])
        .collect();
    names.sort();
    assert_eq!(
        store
            .metric_names(&SeriesFilter::tenant(tenant))
            .await
            .unwrap(),
        names
    );
    let mut dims: Vec<String> = evil.iter().map(|s| s.to_string()).collect();
    dims.push("i".into());
    dims.sort();
    assert_eq!(
        store
            .dimension_names(tenant, None, TimeRange::ALL)
            .await
            .unwrap(),
        dims
    );
    // A value that would match everything if it were spliced into SQL matches nothing.
    let f =
        SeriesFilter::tenant(tenant).dimension("i", DimMatch::AnyOf(vec!["0' OR '1'='1".into()]));
    assert!(
        store
            .find_series(&f, TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    // The tables are all still there.
    assert_eq!(
        store
            .find_series(&SeriesFilter::tenant(tenant), TimeRange::new(Some(0), None))
            .await
            .unwrap()
            .len(),
        evil.len() + 1
    );
    store.close().await.unwrap();
}

/// Two tenants with the same metrics: each sees only its own, through every query, also
/// from a second store (another node) that has not seen the ids before.
async fn tenants_are_isolated(server: &TestServer) {
    let store = ClickHouseStore::open(options(server, "tenancy"))
        .await
        .unwrap();
    let mut samples = Vec::new();
    for (t, v) in [
        ("alice", 1.0),
        ("bob", 100.0),
        ("alice' OR tenant = 'bob", 7.0),
    ] {
        let k = key(t, "cpu", &[("host", "h1")]);
        samples.push(sample(
            &k,
            60_000,
            v,
            Some(&format!("{{\"owner\":\"{}\"}}", t.len())),
        ));
    }
    store.write(samples).await.unwrap();
    let other_node = ClickHouseStore::open(options(server, "tenancy"))
        .await
        .unwrap();
    for node in [&store, &other_node] {
        let a = node
            .find_series(&SeriesFilter::tenant("alice"), TimeRange::ALL)
            .await
            .unwrap();
        let b = node
            .find_series(&SeriesFilter::tenant("bob"), TimeRange::ALL)
            .await
            .unwrap();
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_ne!(a[0].id, b[0].id, "same key in two tenants, two series");
        assert_eq!(b[0].key.tenant, "bob");
        let pa = node
            .read_points(&[a[0].id], TimeRange::ALL, None, 10)
            .await
            .unwrap();
        assert_eq!(pa.iter().map(|p| p.value).collect::<Vec<_>>(), [1.0]);
        let stats = node
            .aggregate(&[b[0].id], TimeRange::ALL, 60_000, &[Stat::Sum])
            .await
            .unwrap();
        assert_eq!(stats[0].values, [100.0]);
        for f in [
            SeriesFilter::tenant("carol"),
            SeriesFilter::tenant(""),
            SeriesFilter::tenant("' OR '1'='1"),
        ] {
            assert!(
                node.find_series(&f, TimeRange::ALL)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(node.metric_names(&f).await.unwrap().is_empty());
            assert!(
                node.dimension_names(&f.tenant, None, TimeRange::ALL)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(
                node.dimension_values(&f.tenant, None, "host", TimeRange::new(Some(0), None))
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(
                node.group_by_dimension(&f, "host")
                    .await
                    .unwrap()
                    .unwrap()
                    .is_empty()
            );
        }
        let evil = node
            .find_series(
                &SeriesFilter::tenant("alice' OR tenant = 'bob"),
                TimeRange::ALL,
            )
            .await
            .unwrap();
        assert_eq!(evil.len(), 1);
        let p = node
            .read_points(&[evil[0].id], TimeRange::ALL, None, 10)
            .await
            .unwrap();
        assert_eq!(p.iter().map(|p| p.value).collect::<Vec<_>>(), [7.0]);
    }
    // An id that names no series reads nothing.
    assert!(
        other_node
            .read_points(&[12345], TimeRange::ALL, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await.unwrap();
}

async fn retention_drops_old_months(server: &TestServer) {
    let store = ClickHouseStore::open(options(server, "retention"))
        .await
        .unwrap();
    let k = key("t", "m", &[]);
    let jan_2020 = 1_577_836_800_000;
    let mar_2020 = 1_583_020_800_000;
    store
        .write(vec![
            sample(&k, jan_2020, 1.0, None),
            sample(&k, mar_2020, 2.0, None),
        ])
        .await
        .unwrap();
    // Cut in February: January goes, March stays; February's own partition would stay.
    let dropped = store
        .drop_expired(mar_2020 - 10 * 86_400_000)
        .await
        .unwrap();
    assert_eq!(dropped, 1);
    let s = store
        .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
        .await
        .unwrap();
    let p = store
        .read_points(&[s[0].id], TimeRange::ALL, None, 10)
        .await
        .unwrap();
    assert_eq!(
        p.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        [mar_2020]
    );
    store.close().await.unwrap();
}

async fn concurrent_writers_are_gathered_and_all_stored(server: &TestServer) {
    let store = Arc::new(
        ClickHouseStore::open(options(server, "concurrent"))
            .await
            .unwrap(),
    );
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let k = key("t", "cpu", &[("host", &format!("h{w}"))]);
            for i in 0..25 {
                store
                    .write(vec![sample(&k, i, i as f64, None)])
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = store
        .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
        .await
        .unwrap();
    assert_eq!(s.len(), 8);
    let ids: Vec<_> = s.iter().map(|s| s.id).collect();
    let b = store
        .aggregate(
            &ids,
            TimeRange::new(Some(0), Some(25)),
            1000,
            &[Stat::Count],
        )
        .await
        .unwrap();
    assert_eq!(b[0].values, vec![200.0]);
    store.close().await.unwrap();
    assert!(matches!(
        store
            .write(vec![sample(&key("t", "x", &[]), 1, 1.0, None)])
            .await,
        Err(StoreError::Closed)
    ));
}

/// More series than one query reads: each comes once, whole, in time order; `false` stops.
async fn each_series_points_walks_every_series_once(server: &TestServer) {
    let store = ClickHouseStore::open(options(server, "each"))
        .await
        .unwrap();
    let samples: Vec<Sample> = (0..1500)
        .flat_map(|h| {
            let k = key("t", "cpu", &[("host", &format!("h{h:04}"))]);
            [
                sample(&k, 2_000, h as f64, None),
                sample(&k, 1_000, -1.0, None),
                sample(&k, 9_000, 0.0, None),
            ]
        })
        .collect();
    store.write(samples).await.unwrap();
    let s = store
        .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
        .await
        .unwrap();
    let ids: Vec<_> = s.iter().map(|s| s.id).collect();
    let mut seen = std::collections::HashMap::new();
    store
        .each_series_points(
            &ids,
            TimeRange::new(Some(0), Some(5_000)),
            &mut |id, points| {
                let ts: Vec<i64> = points.iter().map(|p| p.timestamp).collect();
                assert_eq!(ts, [1_000, 2_000]);
                assert!(seen.insert(id, points[1].value).is_none(), "{id} twice");
                true
            },
        )
        .await
        .unwrap();
    assert_eq!(seen.len(), 1500);
    for s in &s {
        let h: f64 = s.key.dimensions["host"][1..].parse().unwrap();
        assert_eq!(seen[&s.id], h);
    }
    let mut calls = 0;
    store
        .each_series_points(&ids, TimeRange::ALL, &mut |_, _| {
            calls += 1;
            calls < 3
        })
        .await
        .unwrap();
    assert_eq!(calls, 3);
    store.close().await.unwrap();
}

/// Points 30 s apart at today's epoch times (and a few before 1970), bucketed by periods
/// whose literals ClickHouse types as 8, 16 and 32 bits: every bucket starts on a multiple of
/// the period and counts the points that floor to it.
async fn periods_of_every_width_bucket_on_epoch_multiples(server: &TestServer) {
    let store = ClickHouseStore::open(options(server, "periods"))
        .await
        .unwrap();
    let k = key("t", "cpu", &[]);
    let mut times: Vec<i64> = (0..20).map(|i| 1_764_880_000_000 + i * 30_000).collect();
    times.extend([-90_000, -60_000, -1, 0, 59_999]);
    let samples = times.iter().map(|&ts| sample(&k, ts, 1.0, None)).collect();
    store.write(samples).await.unwrap();
    let series = store
        .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
        .await
        .unwrap();
    for period in [200, 60_000, 300_000] {
        let mut want = BTreeMap::new();
        for ts in &times {
            *want.entry(ts.div_euclid(period) * period).or_insert(0.0) += 1.0;
        }
        let got: BTreeMap<i64, f64> = store
            .aggregate(&[series[0].id], TimeRange::ALL, period, &[Stat::Count])
            .await
            .unwrap()
            .into_iter()
            .map(|b| (b.start, b.values[0]))
            .collect();
        assert_eq!(got, want, "period {period} ms");
    }
    store.close().await.unwrap();
}

async fn bad_credentials_are_refused_without_echo(server: &TestServer) {
    let mut opts = options(server, "creds");
    opts.password = Some(SecretString::from("wrong-pass-XYZ"));
    let e = ClickHouseStore::open(opts).await.err().expect("refused");
    let msg = e.to_string();
    assert!(!msg.contains("wrong-pass-XYZ"), "{msg}");
    assert!(msg.contains("ClickHouse"), "{msg}");
}
