//! The metric store's own figures in the server's `/metrics`, copied from
//! [`metric_store::StoreStats`] at each scrape: levels as gauges, running totals (seals,
//! merges, fsyncs and their seconds, blocks dropped or quarantined) as counters, which
//! start from zero with the process as the store's totals do.

use std::sync::Arc;

use metric_store::MetricStore;
use std::sync::atomic::AtomicU64;

use vigil_http::telemetry::{Counter, Gauge, Telemetry, count_seconds_up_to, count_up_to};

#[derive(Default)]
struct StoreGauges {
    series: Gauge,
    head_series: Gauge,
    head_points: Gauge,
    blocks: Gauge,
    block_points: Gauge,
    wal_bytes: Gauge,
    disk_bytes: Gauge,
    merge_backlog: Gauge,
    index_bytes: Gauge,
    seals: Counter,
    merges: Counter,
    dropped_by_retention: Counter,
    quarantined: Counter,
    wal_fsyncs: Counter,
    wal_fsync_seconds: Counter<f64, AtomicU64>,
}

/// Registers the store's figures under `vigil_store_` and refreshes them before each scrape.
pub fn register(telemetry: &mut Telemetry, store: Arc<dyn MetricStore>) {
    let g = StoreGauges::default();
    let sub = telemetry.registry_mut().sub_registry_with_prefix("store");
    for (name, help, gauge) in [
        ("series", "Series known to the store", &g.series),
        (
            "head_series",
            "Series with points in memory",
            &g.head_series,
        ),
        (
            "head_points",
            "Points in memory, not yet sealed into blocks",
            &g.head_points,
        ),
        ("blocks", "Immutable compressed blocks on disk", &g.blocks),
        ("block_points", "Points in blocks", &g.block_points),
        (
            "wal_bytes",
            "Bytes of write-ahead log on disk",
            &g.wal_bytes,
        ),
        (
            "disk_bytes",
            "Bytes of every file of the store",
            &g.disk_bytes,
        ),
        (
            "merge_backlog",
            "Partitions waiting for a merge",
            &g.merge_backlog,
        ),
        (
            "index_bytes",
            "Estimated memory of the series index",
            &g.index_bytes,
        ),
    ] {
        sub.register(name, help, gauge.clone());
    }
    for (name, help, counter) in [
        ("seals", "Heads sealed into blocks", &g.seals),
        ("merges", "Block merges", &g.merges),
        (
            "blocks_dropped_by_retention",
            "Blocks deleted by the retention period",
            &g.dropped_by_retention,
        ),
        (
            "blocks_quarantined",
            "Damaged blocks set aside",
            &g.quarantined,
        ),
        (
            "wal_fsyncs",
            "Write-ahead log fsyncs (one per group commit)",
            &g.wal_fsyncs,
        ),
    ] {
        sub.register(name, help, counter.clone());
    }
    sub.register(
        "wal_fsync_seconds",
        "Time spent in write-ahead log fsyncs since start",
        g.wal_fsync_seconds.clone(),
    );
    telemetry.before_scrape(move || {
        if let Some(st) = store.stats() {
            g.refresh(&st);
        }
    });
}

impl StoreGauges {
    fn refresh(&self, st: &metric_store::StoreStats) {
        for (gauge, v) in [
            (&self.series, st.series),
            (&self.head_series, st.head_series),
            (&self.head_points, st.head_points),
            (&self.blocks, st.blocks),
            (&self.block_points, st.block_points),
            (&self.wal_bytes, st.wal_bytes),
            (&self.disk_bytes, st.disk_bytes),
            (&self.merge_backlog, st.merge_backlog),
            (&self.index_bytes, st.index_bytes),
        ] {
            gauge.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        for (counter, total) in [
            (&self.seals, st.seals),
            (&self.merges, st.merges),
            (&self.dropped_by_retention, st.blocks_dropped_by_retention),
            (&self.quarantined, st.blocks_quarantined),
            (&self.wal_fsyncs, st.wal_fsyncs),
        ] {
            count_up_to(counter, total);
        }
        count_seconds_up_to(&self.wal_fsync_seconds, st.wal_fsync_seconds_sum);
    }
}
