//! The conformance suite against every backend, plus engine-specific recovery tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, io::Write, sync::Arc};

use metric_store::{
    DimMatch, EmbeddedOptions, EmbeddedStore, MemoryStore, MetricStore, Sample, SeriesFilter,
    SeriesKey, Stat, TimeRange, conformance,
};
use proptest::prelude::*;

#[tokio::test]
async fn memory_store_conforms() {
    conformance::check_queries(&MemoryStore::new()).await;
}

#[tokio::test]
async fn embedded_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    conformance::check_queries(&store).await;
    store.close().await.unwrap();
}

#[tokio::test]
async fn embedded_store_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    conformance::check_reopen(|| async { EmbeddedStore::open(dir.path()).await.unwrap() }).await;
}

#[tokio::test]
async fn embedded_store_survives_reopen_across_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedOptions {
        checkpoint_bytes: 512,
        ..Default::default()
    };
    conformance::check_reopen(|| async {
        EmbeddedStore::open_with(dir.path(), opts.clone())
            .await
            .unwrap()
    })
    .await;
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "snapshot.dat"), "{names:?}");
    // Covered segments are removed; only the live ones remain.
    assert!(
        names.iter().filter(|n| n.starts_with("wal-")).count() <= 3,
        "{names:?}"
    );
}

fn sample(host: &str, ts: i64, v: f64) -> Sample {
    Sample {
        series: SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: BTreeMap::from([("hostname".to_string(), host.to_string())]),
        },
        timestamp: ts,
        value: v,
        value_meta: None,
    }
}

#[tokio::test]
async fn torn_log_tail_is_dropped_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        store.write(vec![sample("a", 1, 1.0)]).await.unwrap();
        store.write(vec![sample("a", 2, 2.0)]).await.unwrap();
        store.close().await.unwrap();
    }
    // A crash in the middle of an append leaves a partial record behind.
    let wal = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::metadata(p).unwrap().len() > 0)
        .unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&wal).unwrap();
    f.write_all(&[40, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(f);
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let s = store
        .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
        .await
        .unwrap();
    let p = store
        .read_points(&[s[0].id], TimeRange::ALL, None, 10)
        .await
        .unwrap();
    assert_eq!(p.len(), 2);
    store.write(vec![sample("a", 3, 3.0)]).await.unwrap();
    store.close().await.unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let p = store
        .read_points(&[s[0].id], TimeRange::ALL, None, 10)
        .await
        .unwrap();
    assert_eq!(p.iter().map(|p| p.timestamp).collect::<Vec<_>>(), [1, 2, 3]);
}

#[tokio::test]
async fn concurrent_writers_are_all_acknowledged_and_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).await.unwrap());
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                store
                    .write(vec![sample(&format!("h{w}"), i, i as f64)])
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
            TimeRange::new(Some(0), Some(50)),
            1000,
            &[Stat::Count],
        )
        .await
        .unwrap();
    assert_eq!(b[0].values, vec![400.0]);
}

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<(u8, u8, i64, i8)>),
    Query {
        host: Option<u8>,
        start: i64,
        end: i64,
        period: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::collection::vec((0u8..3, 0u8..3, 0i64..50, any::<i8>()), 1..20).prop_map(Op::Write),
        (prop::option::of(0u8..3), 0i64..50, 0i64..50, 1i64..20).prop_map(
            |(host, a, b, period)| {
                Op::Query {
                    host,
                    start: a.min(b),
                    end: a.max(b),
                    period,
                }
            }
        ),
    ]
}

fn key(name: u8, host: u8) -> SeriesKey {
    SeriesKey {
        tenant: "t".into(),
        name: format!("m{name}"),
        dimensions: BTreeMap::from([("hostname".to_string(), format!("h{host}"))]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The engine answers exactly as the simple model store does, including after a reopen.
    #[test]
    fn embedded_matches_the_model(ops in prop::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let opts = EmbeddedOptions { checkpoint_bytes: 2048, sync: false };
            let mut real = EmbeddedStore::open_with(dir.path(), opts.clone()).await.unwrap();
            let model = MemoryStore::new();
            for (i, op) in ops.into_iter().enumerate() {
                if i % 7 == 6 {
                    real.close().await.unwrap();
                    real = EmbeddedStore::open_with(dir.path(), opts.clone()).await.unwrap();
                }
                match op {
                    Op::Write(items) => {
                        let batch: Vec<Sample> = items.iter().map(|(n, h, ts, v)| Sample {
                            series: key(*n, *h), timestamp: *ts, value: f64::from(*v), value_meta: None,
                        }).collect();
                        real.write(batch.clone()).await.unwrap();
                        model.write(batch).await.unwrap();
                    }
                    Op::Query { host, start, end, period } => {
                        let mut f = SeriesFilter::tenant("t");
                        if let Some(h) = host {
                            f = f.dimension("hostname", DimMatch::AnyOf(vec![format!("h{h}")]));
                        }
                        let r = TimeRange::new(Some(start), Some(end));
                        let a = real.find_series(&f, r).await.unwrap();
                        let b = model.find_series(&f, r).await.unwrap();
                        let ka: Vec<_> = a.iter().map(|s| &s.key).collect();
                        let kb: Vec<_> = b.iter().map(|s| &s.key).collect();
                        assert_eq!(ka, kb);
                        let ia: Vec<_> = a.iter().map(|s| s.id).collect();
                        let ib: Vec<_> = b.iter().map(|s| s.id).collect();
                        let pa = real.read_points(&ia, r, None, 1000).await.unwrap();
                        let pb = model.read_points(&ib, r, None, 1000).await.unwrap();
                        let ts = |p: &[metric_store::Point]| p.iter().map(|p| p.timestamp).collect::<Vec<_>>();
                        assert_eq!(ts(&pa), ts(&pb));
                        for (sa, sb) in ia.iter().zip(&ib) {
                            let x = real.read_points(&[*sa], r, None, 1000).await.unwrap();
                            let y = model.read_points(&[*sb], r, None, 1000).await.unwrap();
                            assert_eq!(x, y);
                        }
                        let stats = [Stat::Avg, Stat::Min, Stat::Max, Stat::Sum, Stat::Count];
                        let ba = real.aggregate(&ia, r, period, &stats).await.unwrap();
                        let bb = model.aggregate(&ib, r, period, &stats).await.unwrap();
                        assert_eq!(ba, bb);
                        assert_eq!(real.metric_names(&f).await.unwrap(), model.metric_names(&f).await.unwrap());
                        assert_eq!(
                            real.dimension_values("t", None, "hostname", r).await.unwrap(),
                            model.dimension_values("t", None, "hostname", r).await.unwrap()
                        );
                        assert_eq!(
                            real.dimension_names("t", Some("m1"), r).await.unwrap(),
                            model.dimension_names("t", Some("m1"), r).await.unwrap()
                        );
                    }
                }
            }
            real.close().await.unwrap();
        });
    }
}
