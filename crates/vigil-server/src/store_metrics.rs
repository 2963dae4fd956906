//! The metric store's own figures in the server's `/metrics`, copied from
//! [`metric_store::StoreStats`] at each scrape. The store's running totals are exposed as
//! gauges: they restart from zero with the process, as the store's do.

use std::sync::Arc;

use metric_store::MetricStore;
use vigil_http::telemetry::{Gauge, Telemetry};

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
    seals: Gauge,
    merges: Gauge,
    dropped_by_retention: Gauge,
    quarantined: Gauge,
    wal_fsyncs: Gauge,
    wal_fsync_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    index_bytes: Gauge,
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
        ("seals", "Heads sealed into blocks since start", &g.seals),
        ("merges", "Block merges since start", &g.merges),
        (
            "blocks_dropped_by_retention",
            "Blocks deleted by the retention period since start",
            &g.dropped_by_retention,
        ),
        (
            "blocks_quarantined",
            "Damaged blocks set aside since start",
            &g.quarantined,
        ),
        (
            "wal_fsyncs",
            "Write-ahead log fsyncs (one per group commit) since start",
            &g.wal_fsyncs,
        ),
        (
            "index_bytes",
            "Estimated memory of the series index",
            &g.index_bytes,
        ),
    ] {
        sub.register(name, help, gauge.clone());
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
            (&self.seals, st.seals),
            (&self.merges, st.merges),
            (&self.dropped_by_retention, st.blocks_dropped_by_retention),
            (&self.quarantined, st.blocks_quarantined),
            (&self.wal_fsyncs, st.wal_fsyncs),
            (&self.index_bytes, st.index_bytes),
        ] {
            gauge.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        self.wal_fsync_seconds.set(st.wal_fsync_seconds_sum);
    }
}
