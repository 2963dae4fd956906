//! Sealing: writes a frozen head as one block per time partition (or wider bucket, for points
//! far from the present: see `partitioning`), swaps the blocks in for it,
//! then deletes the log segments (and any legacy snapshot) the blocks made redundant.

use std::{
    collections::BTreeMap,
    fs,
    sync::{Arc, atomic::Ordering, mpsc},
    time::Duration,
};

use super::{
    Inner,
    block::{Block, BlockWriter},
    disk::sync_dir,
    head::Head,
    partitioning,
    retention::now_ms,
    wal::{SNAPSHOT, list_segments, segment_path},
    writer::Done,
};
use crate::{Point, StoreError};

pub(super) struct SealJob {
    pub(super) head: Arc<Head>,
    pub(super) covered_segment: u64,
    pub(super) seq: u64,
    pub(super) waiters: Vec<Done>,
}

/// Writes frozen heads into blocks, retrying a failed seal until it succeeds or the store stops
/// (the log still holds the data, so nothing is lost meanwhile).
pub(super) fn seal_loop(inner: &Inner, rx: mpsc::Receiver<SealJob>) {
    while let Ok(mut job) = rx.recv() {
        loop {
            match seal(inner, &job) {
                Ok(()) => {
                    inner.seal_failing.store(false, Ordering::Relaxed);
                    for w in job.waiters.drain(..) {
                        let _ = w.send(Ok(()));
                    }
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "sealing the head into blocks failed; will retry");
                    inner.seal_failing.store(true, Ordering::Relaxed);
                    for w in job.waiters.drain(..) {
                        let _ = w.send(Err(StoreError::Poisoned(format!("seal failed: {e}"))));
                    }
                    if inner.stopping.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
        inner.sealing.store(false, Ordering::Release);
    }
}

fn seal(inner: &Inner, job: &SealJob) -> Result<(), StoreError> {
    let pms = inner.partition_ms();
    let present = partitioning::present(inner.newest.load(Ordering::Relaxed), now_ms());
    let key = |ts: i64| partitioning::partition_key(ts, pms, present);
    let mut writers: BTreeMap<i64, BlockWriter> = BTreeMap::new();
    let result = (|| {
        // The head iterates in id order, as block writers need.
        for (id, pts) in job.head.iter() {
            let mut rest: &[Point] = &pts;
            while let Some(first) = rest.first() {
                let p = key(first.timestamp);
                let end = rest.partition_point(|x| key(x.timestamp) == p);
                let w = match writers.entry(p) {
                    std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(BlockWriter::create(&inner.dir, p, job.seq, job.seq, 0)?)
                    }
                };
                w.add(id, &rest[..end])?;
                rest = &rest[end..];
            }
        }
        let mut blocks = Vec::new();
        while let Some((_, w)) = writers.pop_first() {
            blocks.push(Arc::new(w.finish()?));
        }
        sync_dir(&inner.dir)?;
        Ok(blocks)
    })();
    let new_blocks = match result {
        Ok(b) => b,
        Err(e) => {
            for (_, w) in writers {
                w.abandon();
            }
            return Err(e);
        }
    };
    {
        let mut st = inner.write();
        let mut all: Vec<Arc<Block>> = st.blocks.iter().cloned().collect();
        all.extend(new_blocks);
        all.sort_by_key(|b| (b.meta.seq_hi, b.meta.partition));
        st.blocks = Arc::new(all);
        st.frozen = None;
    }
    inner.counters.seals.fetch_add(1, Ordering::Relaxed);
    // The blocks and the directory entries are durable: the log segments are redundant now.
    for n in list_segments(&inner.dir)? {
        if n <= job.covered_segment {
            let p = segment_path(&inner.dir, n);
            fs::remove_file(&p).map_err(StoreError::io(&p))?;
        }
    }
    let snap = inner.dir.join(SNAPSHOT);
    if snap.exists() {
        fs::remove_file(&snap).map_err(StoreError::io(&snap))?;
    }
    sync_dir(&inner.dir)?;
    tracing::debug!(
        seq = job.seq,
        points = job.head.point_count(),
        "head sealed into blocks"
    );
    Ok(())
}
