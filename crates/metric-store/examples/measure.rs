//! Measures the embedded store directly (no HTTP): ingest rate, bytes per point before and
//! after compaction, RSS, reopen time and the cardinality reads.
//!
//! `cargo run --release -p metric-store --example measure` (`VIGIL_MEASURE_SERIES`,
//! `VIGIL_MEASURE_POINTS` change the fleet; default 10,000 series x 100 points;
//! `VIGIL_MEASURE_META_EVERY=N` gives every Nth point of a series a value_meta, one of a few
//! texts as agents send them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, sync::Arc};

use metric_store::{
    DimMatch, EmbeddedStore, MetricStore, Sample, SeriesFilter, SeriesKey, TimeRange,
};

fn main() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let series = env("VIGIL_MEASURE_SERIES", 10_000);
    let points = env("VIGIL_MEASURE_POINTS", 100);
    let meta_every = env("VIGIL_MEASURE_META_EVERY", 0);
    let metas: Vec<Arc<str>> = (0..4)
        .map(|i| {
            Arc::from(format!(
                r#"{{"status":"{}","url":"http://web-{i}/health"}}"#,
                ["ok", "slow"][i % 2]
            ))
        })
        .collect();
    let hosts = series / 10;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rss = |field: &str| -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    rt.block_on(async {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        let t0 = 1_700_000_000_000i64;
        let names: Vec<String> = (0..10).map(|n| format!("bench.metric_{n}")).collect();
        let mut batch = Vec::with_capacity(5000);
        let started = std::time::Instant::now();
        let mut write_time = std::time::Duration::ZERO;
        // One key per series, shared by its samples, as the server's ingest path does.
        let keys: Vec<Vec<Arc<SeriesKey>>> = names
            .iter()
            .map(|name| {
                (0..hosts)
                    .map(|h| {
                        Arc::new(SeriesKey {
                            tenant: "bench".into(),
                            name: name.clone(),
                            dimensions: BTreeMap::from([
                                ("hostname".to_string(), format!("host-{h:04}")),
                                ("service".to_string(), format!("svc-{}", h % 10)),
                            ]),
                        })
                    })
                    .collect()
            })
            .collect();
        for i in 0..points {
            for (n, of_name) in keys.iter().enumerate() {
                for (h, key) in of_name.iter().enumerate() {
                    batch.push(Sample {
                        series: key.clone(),
                        timestamp: t0 + i as i64 * 30_000,
                        value: ((n * 13 + h * 31 + i * 7) % 1000) as f64 / 10.0,
                        value_meta: (meta_every > 0 && i % meta_every == 0)
                            .then(|| metas[(h + i) % metas.len()].clone()),
                    });
                    if batch.len() == 5000 {
                        let w = std::time::Instant::now();
                        store.write(std::mem::take(&mut batch)).await.unwrap();
                        write_time += w.elapsed();
                    }
                }
            }
        }
        if !batch.is_empty() {
            store.write(batch).await.unwrap();
        }
        let total = (series * points) as f64;
        let elapsed = started.elapsed();
        let before = store.stats();
        let c = std::time::Instant::now();
        store.compact().await.unwrap();
        let compact_time = c.elapsed();
        let s = store.stats();
        println!("fleet: {series} series x {points} points = {total} points");
        if meta_every > 0 {
            println!("value_meta on one point in {meta_every} of each series");
        }
        println!(
            "ingest: {:.0} points/s (wall, incl. building samples), {:.0} points/s in write()",
            total / elapsed.as_secs_f64(),
            total / write_time.as_secs_f64()
        );
        println!(
            "before compaction: {} blocks, {} head points, {:.1} bytes/point on disk",
            before.blocks,
            before.head_points,
            before.disk_bytes as f64 / total
        );
        println!(
            "after compaction ({compact_time:?}): {} blocks, {:.3} bytes/point on disk ({} bytes)",
            s.blocks,
            s.disk_bytes as f64 / total,
            s.disk_bytes
        );
        println!(
            "RSS {} MiB, peak {} MiB; index ~{} bytes/series; fsyncs {}, mean {:.2} ms",
            rss("VmRSS:") / 1024,
            rss("VmHWM:") / 1024,
            s.index_bytes / s.series.max(1),
            s.wal_fsyncs,
            s.wal_fsync_seconds_sum * 1e3 / s.wal_fsyncs.max(1) as f64
        );
        // Queries against blocks only.
        let f = SeriesFilter::tenant("bench").name("bench.metric_0");
        let q = std::time::Instant::now();
        let found = store.find_series(&f, TimeRange::ALL).await.unwrap();
        let ids: Vec<_> = found.iter().map(|s| s.id).collect();
        let b = store
            .aggregate(&ids, TimeRange::ALL, 300_000, &[metric_store::Stat::Avg])
            .await
            .unwrap();
        println!(
            "query: {} series of one name, 300 s avg merged over all: {} buckets in {:?} \
             (peak RSS now {} MiB)",
            found.len(),
            b.len(),
            q.elapsed(),
            rss("VmHWM:") / 1024
        );
        // Cardinality reads, answered from the index (best of 3, in ms).
        let best = |mut f: Box<dyn FnMut() -> usize + '_>| {
            let mut r = (f64::MAX, 0);
            for _ in 0..3 {
                let t = std::time::Instant::now();
                let n = f();
                r = (r.0.min(t.elapsed().as_secs_f64() * 1e3), n);
            }
            r
        };
        let handle = tokio::runtime::Handle::current();
        let store_ref = &store;
        let (names_ms, n_names) = tokio::task::block_in_place(|| {
            best(Box::new(|| {
                handle
                    .block_on(store_ref.metric_names(&SeriesFilter::tenant("bench")))
                    .unwrap()
                    .len()
            }))
        });
        let (values_ms, n_values) = tokio::task::block_in_place(|| {
            best(Box::new(|| {
                handle
                    .block_on(store_ref.dimension_values("bench", None, "hostname", TimeRange::ALL))
                    .unwrap()
                    .len()
            }))
        });
        let (find_ms, n_found) = tokio::task::block_in_place(|| {
            best(Box::new(|| {
                handle
                    .block_on(store_ref.find_series(&f, TimeRange::ALL))
                    .unwrap()
                    .len()
            }))
        });
        let (one_ms, n_one) = tokio::task::block_in_place(|| {
            best(Box::new(|| {
                let f = SeriesFilter::tenant("bench")
                    .name("bench.metric_3")
                    .dimension("hostname", DimMatch::AnyOf(vec!["host-0007".into()]));
                let found = handle
                    .block_on(store_ref.find_series(&f, TimeRange::ALL))
                    .unwrap();
                let ids: Vec<_> = found.iter().map(|s| s.id).collect();
                handle
                    .block_on(store_ref.read_points(&ids, TimeRange::ALL, None, 10_000))
                    .unwrap()
                    .len()
            }))
        });
        println!(
            "cardinality: metric_names {names_ms:.2} ms ({n_names}), dimension_values(hostname) \
             {values_ms:.2} ms ({n_values}), find_series(name) {find_ms:.2} ms ({n_found}); \
             one series raw {one_ms:.2} ms ({n_one} points)"
        );
        println!(
            "peak RSS per series: {} bytes",
            rss("VmHWM:") * 1024 / series.max(1) as u64
        );
        store.close().await.unwrap();
        drop(store);
        let o = std::time::Instant::now();
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        println!("reopen: {:?}, {} series", o.elapsed(), store.stats().series);
        store.close().await.unwrap();
    });
}
