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
    assert!(names.iter().any(|n| n.ends_with(".vgb")), "{names:?}");
    // Covered segments are removed; only the live ones remain.
    assert!(
        names.iter().filter(|n| n.starts_with("wal-")).count() <= 3,
        "{names:?}"
    );
}

fn sample(host: &str, ts: i64, v: f64) -> Sample {
    Sample {
        series: Arc::new(SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: BTreeMap::from([("hostname".to_string(), host.to_string())]),
        }),
        timestamp: ts,
        value: v,
        value_meta: None,
    }
}

#[tokio::test]
async fn torn_log_tail_is_dropped_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    // Keep the data in the log (no seal at close) so there is a log tail to tear.
    let opts = EmbeddedOptions {
        seal_on_close: false,
        ..Default::default()
    };
    {
        let store = EmbeddedStore::open_with(dir.path(), opts.clone())
            .await
            .unwrap();
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
    let store = EmbeddedStore::open_with(dir.path(), opts.clone())
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
    /// Seal the head into blocks now.
    Seal,
    /// Seal, then merge every partition into one block.
    Compact,
    /// Close and open again.
    Reopen,
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
        Just(Op::Seal),
        Just(Op::Compact),
        Just(Op::Reopen),
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
    /// The engine answers exactly as the simple model store does, across seals, merges (explicit
    /// and in the background) and reopens. Tiny partitions make one batch span several blocks.
    #[test]
    fn embedded_matches_the_model(ops in prop::collection::vec(op(), 1..40), seal_on_close in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let opts = EmbeddedOptions {
                checkpoint_bytes: 2048,
                sync: false,
                partition: std::time::Duration::from_millis(16),
                maintenance_interval: std::time::Duration::from_millis(5),
                merge_fanin: 2,
                seal_on_close,
                ..Default::default()
            };
            let mut real = EmbeddedStore::open_with(dir.path(), opts.clone()).await.unwrap();
            let model = MemoryStore::new();
            // Even hosts' keys are shared between batches, as the server shares them; odd
            // hosts' are new each time.
            let mut shared: std::collections::HashMap<(u8, u8), Arc<SeriesKey>> = Default::default();
            for op in ops {
                match op {
                    Op::Seal => real.seal().await.unwrap(),
                    Op::Compact => real.compact().await.unwrap(),
                    Op::Reopen => {
                        real.close().await.unwrap();
                        real = EmbeddedStore::open_with(dir.path(), opts.clone()).await.unwrap();
                    }
                    Op::Write(items) => {
                        let batch: Vec<Sample> = items.iter().map(|(n, h, ts, v)| Sample {
                            series: if h % 2 == 0 {
                                shared.entry((*n, *h)).or_insert_with(|| Arc::new(key(*n, *h))).clone()
                            } else {
                                Arc::new(key(*n, *h))
                            },
                            timestamp: *ts, value: f64::from(*v),
                            value_meta: (*v % 3 == 0).then(|| Arc::from(format!("{{\"v\":{}}}", v / 3))),
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

// ---- faults, retention, crashes, measurement ------------------------------------------------

fn block_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vgb"))
        .collect();
    v.sort();
    v
}

async fn points_of(store: &EmbeddedStore, host: &str) -> Vec<metric_store::Point> {
    let f = SeriesFilter::tenant("t").dimension("hostname", DimMatch::AnyOf(vec![host.into()]));
    let s = store.find_series(&f, TimeRange::ALL).await.unwrap();
    let ids: Vec<_> = s.iter().map(|s| s.id).collect();
    store
        .read_points(&ids, TimeRange::ALL, None, usize::MAX)
        .await
        .unwrap()
}

#[tokio::test]
async fn damaged_blocks_are_moved_aside_and_everything_else_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    store
        .write((0..50).map(|i| sample("a", i, i as f64)).collect())
        .await
        .unwrap();
    store.seal().await.unwrap();
    store
        .write((0..50).map(|i| sample("b", i, i as f64)).collect())
        .await
        .unwrap();
    store.seal().await.unwrap();
    store.close().await.unwrap();
    drop(store);
    let blocks = block_files(dir.path());
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    // Block 1: a flipped bit in its points (found when read). Its index is intact, so it
    // opens; the damage is caught by the chunk checksum.
    let mut bytes = std::fs::read(&blocks[0]).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&blocks[0], &bytes).unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    assert!(points_of(&store, "a").await.is_empty());
    assert_eq!(points_of(&store, "b").await.len(), 50);
    assert_eq!(store.stats().blocks_quarantined, 1);
    assert!(!blocks[0].exists());
    let mut aside = blocks[0].as_os_str().to_owned();
    aside.push(".corrupt");
    assert!(std::path::Path::new(&aside).exists());
    // The store still takes writes and reads.
    store.write(vec![sample("c", 1, 1.0)]).await.unwrap();
    store.close().await.unwrap();
    drop(store);

    // Block 2 truncated (a torn copy, a full disk during a restore): caught at open.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&blocks[1])
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len / 2).unwrap();
    drop(f);
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    assert!(points_of(&store, "b").await.is_empty());
    assert_eq!(points_of(&store, "c").await.len(), 1);
    store.close().await.unwrap();
    drop(store);
    // Opening again is quiet: nothing damaged is left in service, no loop.
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(points_of(&store, "c").await.len(), 1);
    store.close().await.unwrap();
}

/// A store of one point in one block, whose header is then made to say format `version`:
/// the directory, the block's path and its bytes.
async fn one_block_of_version(version: u32) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    store.write(vec![sample("a", 1, 1.0)]).await.unwrap();
    store.close().await.unwrap();
    drop(store);
    let block = block_files(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&block).unwrap();
    bytes[8..12].copy_from_slice(&version.to_le_bytes());
    std::fs::write(&block, &bytes).unwrap();
    (dir, block, bytes)
}

#[tokio::test]
async fn blocks_of_the_previous_format_are_still_read() {
    // Format 2 differs only in lacking pco-coded value_meta, which this block has none of.
    let (dir, block, mut bytes) = one_block_of_version(2).await;
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(points_of(&store, "a").await.len(), 1);
    store.close().await.unwrap();
    // Version 1 (keys inside blocks) is refused.
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(&block, &bytes).unwrap();
    assert!(matches!(
        EmbeddedStore::open(dir.path()).await,
        Err(metric_store::StoreError::UnsupportedVersion { version: 1, .. })
    ));
}

#[tokio::test]
async fn a_block_from_a_newer_format_is_refused_by_name() {
    let (dir, block, bytes) = one_block_of_version(99).await;
    let err = match EmbeddedStore::open(dir.path()).await {
        Ok(_) => panic!("a newer block must not be opened"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            metric_store::StoreError::UnsupportedVersion { version: 99, .. }
        ),
        "{msg}"
    );
    assert!(
        msg.contains(&*block.file_name().unwrap().to_string_lossy()),
        "{msg}"
    );
    // Refused, not quarantined: the file is untouched for a newer build to read.
    assert_eq!(std::fs::read(&block).unwrap(), bytes);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn retention_drops_whole_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedOptions {
        retention: Some(std::time::Duration::from_secs(86_400)),
        maintenance_interval: std::time::Duration::from_millis(10),
        ..Default::default()
    };
    let store = EmbeddedStore::open_with(dir.path(), opts).await.unwrap();
    let now = now_ms();
    let old = now - 10 * 86_400_000;
    store
        .write(vec![
            sample("old", old, 1.0),
            sample("new", now - 60_000, 2.0),
        ])
        .await
        .unwrap();
    store.seal().await.unwrap();
    // Two blocks (one per partition); the old one may already be gone.
    let t = std::time::Instant::now();
    while store.stats().blocks_dropped_by_retention == 0 {
        assert!(t.elapsed().as_secs() < 5, "retention never ran");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(points_of(&store, "old").await.is_empty());
    assert_eq!(points_of(&store, "new").await.len(), 1);
    assert_eq!(block_files(dir.path()).len(), 1);
    store.close().await.unwrap();
}

/// Timestamps a client may send anywhere from 1970 on (monasca-api takes them all) make few
/// block files: points far from the present share wide buckets, and rewrites of them merge.
#[tokio::test]
async fn points_spread_over_decades_make_few_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let now = now_ms();
    let year = 365 * 86_400_000i64;
    // 1000 points from 1970 on, one every 18 days and a bit (50 years), then an hour of now.
    let spread: Vec<i64> = (0..1000).map(|i| 1 + i * (50 * year / 1000)).collect();
    for round in 0..3 {
        let mut batch: Vec<Sample> = spread
            .iter()
            .map(|&ts| sample("old", ts, f64::from(round)))
            .collect();
        batch.extend((0..60).map(|m| sample("new", now - m * 60_000, f64::from(round))));
        store.write(batch).await.unwrap();
        store.seal().await.unwrap();
    }
    // 2h partitions would make a block per point: 1000 a seal.
    let sealed = block_files(dir.path()).len();
    assert!(sealed <= 3 * 60, "{sealed} block files");
    store.compact().await.unwrap();
    let merged = block_files(dir.path()).len();
    assert!(merged <= 60, "{merged} block files after merging");
    let old = points_of(&store, "old").await;
    assert_eq!(
        old.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        spread,
        "every point, once"
    );
    assert!(old.iter().all(|p| p.value == 2.0), "the last round wins");
    assert_eq!(points_of(&store, "new").await.len(), 60);
    store.close().await.unwrap();
    // And so after a restart.
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    assert_eq!(points_of(&store, "old").await.len(), 1000);
    store.close().await.unwrap();
}

#[tokio::test]
async fn background_merges_keep_the_newest_value_and_delete_their_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedOptions {
        merge_fanin: 2,
        maintenance_interval: std::time::Duration::from_millis(5),
        ..Default::default()
    };
    let store = EmbeddedStore::open_with(dir.path(), opts).await.unwrap();
    for round in 0..6 {
        // Each round rewrites the same timestamps: the newest round must win.
        store
            .write(
                (0..20)
                    .map(|i| sample("a", i * 10, f64::from(round)))
                    .collect(),
            )
            .await
            .unwrap();
        store.seal().await.unwrap();
    }
    let t = std::time::Instant::now();
    // Size-tiered: runs of `merge_fanin` same-level blocks merge, so a few blocks of
    // different levels may stay until the partition goes cold.
    while store.stats().merges == 0 || store.stats().merge_backlog > 0 {
        assert!(t.elapsed().as_secs() < 5, "{:?}", store.stats());
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let files = block_files(dir.path()).len();
    assert!(files < 6, "merged inputs were not deleted: {files} files");
    let p = points_of(&store, "a").await;
    assert_eq!(p.len(), 20);
    assert!(p.iter().all(|p| p.value == 5.0), "{p:?}");
    store.close().await.unwrap();
}

// Child processes: the test binary runs itself with these variables set.
const CHILD_MODE: &str = "VIGIL_STORE_CHILD";
const CHILD_DIR: &str = "VIGIL_STORE_CHILD_DIR";
const CHILD_START: &str = "VIGIL_STORE_CHILD_START";
const CRASH_SERIES: u64 = 20;

fn crash_batch(b: u64, series: u64) -> Vec<Sample> {
    (0..series)
        .map(|k| Sample {
            series: Arc::new(key((k % 3) as u8, k as u8)),
            timestamp: b as i64 * 1000,
            value: (b * 31 + k) as f64 / 10.0,
            value_meta: b
                .is_multiple_of(5)
                .then(|| Arc::from(format!("{{\"b\":{b}}}"))),
        })
        .collect()
}

/// Not a test on its own: the writer loop of the crash and full-disk tests, run in a child.
#[test]
fn child_writer() {
    let Ok(mode) = std::env::var(CHILD_MODE) else {
        return;
    };
    let dir = std::path::PathBuf::from(std::env::var(CHILD_DIR).unwrap());
    let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (opts, series) = match mode.as_str() {
            // Seal every few batches and merge in pairs: merges run all the time.
            "crash" => (
                EmbeddedOptions {
                    checkpoint_bytes: 16 << 10,
                    merge_fanin: 2,
                    partition: std::time::Duration::from_secs(20),
                    maintenance_interval: std::time::Duration::from_millis(2),
                    ..Default::default()
                },
                CRASH_SERIES,
            ),
            // Seals only on request (below), so the log segment grows past the file size
            // limit deterministically instead of depending on a seal being slower than ingest.
            _ => (
                EmbeddedOptions {
                    checkpoint_bytes: 64 << 20,
                    ..Default::default()
                },
                200,
            ),
        };
        let store = EmbeddedStore::open_with(&dir, opts).await.unwrap();
        let mut out = std::io::stdout();
        for b in start.. {
            match store.write(crash_batch(b, series)).await {
                Ok(()) => writeln!(out, "ack {b}").unwrap(),
                Err(e) => {
                    writeln!(out, "err {e}").unwrap();
                    assert!(!store.is_healthy() || mode == "crash");
                    // Later writes fail cleanly too.
                    assert!(store.write(crash_batch(b + 1, series)).await.is_err());
                    writeln!(out, "done").unwrap();
                    out.flush().unwrap();
                    return;
                }
            }
            if b % 16 == 0 {
                writeln!(out, "merges {}", store.stats().merges).unwrap();
            }
            // Some blocks (and a fresh log segment each time) before the disk fills.
            if mode == "diskfull" && b < 64 && b % 16 == 15 {
                let _ = store.seal().await;
            }
            out.flush().unwrap();
            assert!(b < start + 200_000, "the write never failed");
        }
    });
}

/// Opens the store and checks every acknowledged batch is there exactly once and intact, and
/// nothing that was never written appears.
fn verify_batches(dir: &std::path::Path, acked: &std::collections::BTreeSet<u64>, series: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = EmbeddedStore::open(dir).await.unwrap();
        let all = store
            .find_series(&SeriesFilter::tenant("t"), TimeRange::ALL)
            .await
            .unwrap();
        if !acked.is_empty() {
            assert_eq!(all.len() as u64, series);
        }
        for s in &all {
            let k: u64 = s.key.dimensions["hostname"][1..].parse().unwrap();
            let pts = store
                .read_points(&[s.id], TimeRange::ALL, None, usize::MAX)
                .await
                .unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for p in &pts {
                let b = (p.timestamp / 1000) as u64;
                assert!(seen.insert(b), "duplicate point {p:?}");
                let want = crash_batch(b, series).swap_remove(k as usize);
                assert_eq!(p.value, want.value, "{p:?}");
                assert_eq!(p.value_meta, want.value_meta, "{p:?}");
            }
            let missing: Vec<_> = acked.difference(&seen).collect();
            assert!(
                missing.is_empty(),
                "series {k}: acknowledged but lost: {missing:?}"
            );
        }
        store.close().await.unwrap();
    });
}

fn run_child(
    mut cmd: std::process::Command,
    kill_after: Option<std::time::Duration>,
) -> (Vec<String>, std::process::ExitStatus) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    if let Some(d) = kill_after {
        std::thread::sleep(d);
        child.kill().unwrap(); // SIGKILL
    }
    let status = child.wait().unwrap();
    (reader.join().unwrap(), status)
}

fn child_cmd(
    exe: &std::path::Path,
    mode: &str,
    dir: &std::path::Path,
    start: u64,
) -> std::process::Command {
    let mut c = std::process::Command::new(exe);
    c.args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE, mode)
        .env(CHILD_DIR, dir)
        .env(CHILD_START, start.to_string());
    c
}

fn acks(lines: &[String]) -> impl Iterator<Item = u64> + '_ {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("ack ").and_then(|n| n.parse().ok()))
}

#[test]
fn kill_9_during_ingest_and_merges_loses_nothing_acknowledged() {
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut acked = std::collections::BTreeSet::new();
    let mut seed = now_ms() as u64 | 1;
    let mut merges_seen = 0u64;
    for round in 0..5u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = std::time::Duration::from_millis(150 + seed % 900);
        let (lines, _) = run_child(
            child_cmd(&exe, "crash", dir.path(), round * 1_000_000),
            Some(delay),
        );
        let before = acked.len();
        acked.extend(acks(&lines));
        merges_seen += lines
            .iter()
            .filter_map(|l| {
                l.strip_prefix("merges ")
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .max()
            .unwrap_or(0);
        println!(
            "round {round}: killed after {delay:?}, {} batches acknowledged",
            acked.len() - before
        );
        verify_batches(dir.path(), &acked, CRASH_SERIES);
    }
    assert!(
        acked.len() > 100,
        "too few writes to mean anything: {}",
        acked.len()
    );
    assert!(merges_seen > 0, "no merge ran in the children");
}

#[test]
fn a_full_disk_fails_the_write_and_keeps_every_acknowledged_point() {
    let exe = std::env::current_exe().unwrap();
    // RLIMIT_FSIZE set by the shell (no unsafe code here): past it a write fails with EFBIG, as
    // on a full disk. SIGXFSZ is ignored so the error reaches the store instead of killing it.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -f 1024 && trap '' XFSZ && exec "$@""#)
        .arg("sh")
        .arg(&exe)
        .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE, "diskfull")
        .env(CHILD_DIR, dir.path())
        .env(CHILD_START, "0");
    let (lines, status) = run_child(cmd, None);
    assert!(status.success(), "{status:?} {:?}", lines.last());
    assert!(
        lines.iter().any(|l| l.starts_with("err ")),
        "{:?}",
        lines.last()
    );
    assert!(lines.iter().any(|l| l == "done"));
    let acked: std::collections::BTreeSet<u64> = acks(&lines).collect();
    assert!(acked.len() > 5, "{}", acked.len());
    verify_batches(dir.path(), &acked, 200);

    // A real full file system when we may mount one (root with CAP_SYS_ADMIN).
    let fs_dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(fs_dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!(
            "notice: cannot mount a 2 MiB tmpfs here; full-disk test ran with RLIMIT_FSIZE only"
        );
        return;
    }
    let (lines, status) = run_child(child_cmd(&exe, "diskfull", fs_dir.path(), 0), None);
    let acked: std::collections::BTreeSet<u64> = acks(&lines).collect();
    let ok = status.success() && lines.iter().any(|l| l == "done");
    // Reading back needs a little room for the new log segment; give the mount some.
    let _ = std::process::Command::new("mount")
        .args(["-o", "remount,size=8m"])
        .arg(fs_dir.path())
        .status();
    let verified = std::panic::catch_unwind(|| verify_batches(fs_dir.path(), &acked, 200));
    let _ = std::process::Command::new("umount")
        .arg(fs_dir.path())
        .status();
    assert!(ok, "{status:?} {:?}", lines.last());
    assert!(acked.len() > 5, "{}", acked.len());
    assert!(verified.is_ok(), "acknowledged data lost on a full tmpfs");
}
