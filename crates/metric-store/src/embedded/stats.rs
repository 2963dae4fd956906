//! [`StoreStats`]: what the engine holds and has done, gathered on demand.

use std::{fs, sync::atomic::Ordering};

use super::EmbeddedStore;

/// What the engine holds and has done, for `/metrics` and benchmarks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreStats {
    /// Series the store knows (head and blocks).
    pub series: u64,
    /// Series with points in the head (the live one and one being sealed).
    pub head_series: u64,
    /// Points in the head (the live one and one being sealed).
    pub head_points: u64,
    pub blocks: u64,
    pub block_points: u64,
    pub block_bytes: u64,
    /// Bytes of log segments on disk.
    pub wal_bytes: u64,
    /// Every file in the data directory.
    pub disk_bytes: u64,
    /// Partitions waiting for a merge at the last check.
    pub merge_backlog: u64,
    /// Whether a seal is being written now.
    pub sealing: bool,
    pub seals: u64,
    pub merges: u64,
    pub blocks_dropped_by_retention: u64,
    pub blocks_quarantined: u64,
    pub wal_fsyncs: u64,
    pub wal_fsync_seconds_sum: f64,
    /// Estimated heap bytes of the series registry and inverted index.
    pub index_bytes: u64,
}

impl EmbeddedStore {
    /// Counters and sizes for monitoring.
    pub fn stats(&self) -> StoreStats {
        let c = &self.inner.counters;
        let mut s = StoreStats {
            merge_backlog: c.merge_backlog.load(Ordering::Relaxed),
            sealing: self.inner.sealing.load(Ordering::Relaxed),
            seals: c.seals.load(Ordering::Relaxed),
            merges: c.merges.load(Ordering::Relaxed),
            blocks_dropped_by_retention: c.dropped.load(Ordering::Relaxed),
            blocks_quarantined: c.quarantined.load(Ordering::Relaxed),
            wal_fsyncs: c.fsyncs.load(Ordering::Relaxed),
            wal_fsync_seconds_sum: c.fsync_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            ..StoreStats::default()
        };
        {
            let st = self.inner.read();
            s.series = st.reg.len() as u64;
            s.index_bytes = (st.reg.approx_bytes()
                + st.blocks.iter().map(|b| b.mem_bytes()).sum::<usize>())
                as u64;
            s.head_series = st.head.series_count() as u64;
            s.head_points = st.head.point_count() as u64;
            if let Some(f) = &st.frozen {
                s.head_series += f.series_count() as u64;
                s.head_points += f.point_count() as u64;
            }
            s.blocks = st.blocks.len() as u64;
            s.block_points = st.blocks.iter().map(|b| b.meta.points).sum();
            s.block_bytes = st.blocks.iter().map(|b| b.bytes).sum();
        }
        if let Ok(rd) = fs::read_dir(&self.inner.dir) {
            for e in rd.flatten() {
                let len = e.metadata().map_or(0, |m| m.len());
                s.disk_bytes += len;
                if e.file_name().to_string_lossy().starts_with("wal-") {
                    s.wal_bytes += len;
                }
            }
        }
        s
    }
}
