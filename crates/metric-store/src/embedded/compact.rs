//! Merging (compaction): the background thread that applies retention and merges a partition's
//! blocks, streaming the inputs in series id order into one bigger block.

use std::{
    collections::BTreeMap,
    fs,
    sync::{Arc, atomic::Ordering, mpsc},
};

use super::{
    Inner,
    block::{Block, BlockWriter},
    disk::sync_dir,
    query::merge_points,
    retention::apply_retention,
    writer::Done,
};
use crate::StoreError;

pub(super) enum MergeCmd {
    Compact(Done),
}

pub(super) fn merge_loop(inner: &Inner, rx: mpsc::Receiver<MergeCmd>) {
    loop {
        let done = match rx.recv_timeout(inner.opts.maintenance_interval) {
            Ok(MergeCmd::Compact(done)) => Some(done),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if inner.stopping.load(Ordering::Relaxed) {
            if let Some(d) = done {
                let _ = d.send(Err(StoreError::Closed));
            }
            return;
        }
        let r = apply_retention(inner).and_then(|()| run_merges(inner, done.is_some()));
        if let Err(e) = &r {
            tracing::error!(error = %e, "background merge failed; inputs kept");
        }
        if let Some(d) = done {
            let _ = d.send(r);
        }
    }
}

/// Which blocks to merge now, each plan a contiguous run (by sequence) of one partition's
/// blocks, so the merged block takes the place of its inputs in the override order.
fn merge_plans(inner: &Inner, all: bool) -> Vec<Vec<Arc<Block>>> {
    let blocks = inner.read().blocks.clone();
    let mut by_part: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
    for b in blocks.iter() {
        by_part.entry(b.meta.partition).or_default().push(b.clone());
    }
    let pms = inner.partition_ms();
    let newest = inner.newest.load(Ordering::Relaxed);
    let fanin = inner.opts.merge_fanin.max(2);
    let mut plans = Vec::new();
    for (p, bs) in by_part {
        if bs.len() < 2 {
            continue;
        }
        // A partition a full partition behind the newest data gets few late points more.
        let cold = p.saturating_add(2).saturating_mul(pms) <= newest;
        if all || cold {
            plans.push(bs);
            continue;
        }
        let Some(last) = bs.last() else { continue };
        let level = last.meta.level;
        let run = bs
            .iter()
            .rev()
            .take_while(|b| b.meta.level == level)
            .count();
        if run >= fanin {
            plans.push(bs[bs.len() - run..].to_vec());
        }
    }
    plans
}

fn run_merges(inner: &Inner, all: bool) -> Result<(), StoreError> {
    let plans = merge_plans(inner, all);
    inner
        .counters
        .merge_backlog
        .store(plans.len() as u64, Ordering::Relaxed);
    for plan in plans {
        if inner.stopping.load(Ordering::Relaxed) {
            break;
        }
        merge(inner, &plan)?;
        inner.counters.merge_backlog.fetch_sub(1, Ordering::Relaxed);
    }
    Ok(())
}

fn merge(inner: &Inner, inputs: &[Arc<Block>]) -> Result<(), StoreError> {
    let (Some(first), Some(_)) = (inputs.first(), inputs.get(1)) else {
        return Ok(());
    };
    let seq_lo = inputs.iter().map(|b| b.meta.seq_lo).min().unwrap_or(0);
    let seq_hi = inputs.iter().map(|b| b.meta.seq_hi).max().unwrap_or(0);
    let level = inputs.iter().map(|b| b.meta.level).max().unwrap_or(0) + 1;
    let mut w = BlockWriter::create(&inner.dir, first.meta.partition, seq_lo, seq_hi, level)?;
    match merge_into(inner, inputs, &mut w) {
        Ok(true) => {}
        Ok(false) => {
            w.abandon();
            return Ok(());
        }
        Err((e, culprit)) => {
            w.abandon();
            if let (StoreError::Corrupt { .. }, Some(b)) = (&e, culprit.and_then(|i| inputs.get(i)))
            {
                inner.quarantine(b, &e);
            }
            return Err(e);
        }
    }
    if w.is_empty() {
        w.abandon();
        return Ok(());
    }
    let merged = Arc::new(w.finish()?);
    sync_dir(&inner.dir)?;
    {
        let mut st = inner.write();
        let mut all: Vec<Arc<Block>> = st
            .blocks
            .iter()
            .filter(|b| !inputs.iter().any(|i| Arc::ptr_eq(i, b)))
            .cloned()
            .collect();
        all.push(merged.clone());
        all.sort_by_key(|b| (b.meta.seq_hi, b.meta.partition));
        st.blocks = Arc::new(all);
    }
    // Readers holding the old set keep reading through their open handles.
    for b in inputs {
        if let Err(e) = fs::remove_file(&b.path) {
            tracing::warn!(file = %b.path.display(), error = %e, "could not delete merged block");
        }
    }
    sync_dir(&inner.dir)?;
    inner.counters.merges.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(
        file = %merged.path.display(),
        inputs = inputs.len(),
        points = merged.meta.points,
        series = merged.series_count(),
        "blocks merged"
    );
    Ok(())
}

/// Streams the inputs' series in id order into `w`, merging series present in several (later
/// inputs win on equal timestamps). `Ok(false)` when the store is stopping; an error names the
/// input it came from, if any.
fn merge_into(
    inner: &Inner,
    inputs: &[Arc<Block>],
    w: &mut BlockWriter,
) -> Result<bool, (StoreError, Option<usize>)> {
    let at = |i: usize| move |e: StoreError| (e, Some(i));
    let mut scans = Vec::with_capacity(inputs.len());
    let mut next = Vec::with_capacity(inputs.len());
    for (i, b) in inputs.iter().enumerate() {
        let mut s = b.scan().map_err(at(i))?;
        next.push(s.next_entry().map_err(at(i))?);
        scans.push(s);
    }
    let mut buf = Vec::new();
    let mut n = 0u64;
    while let Some(gid) = next.iter().flatten().map(|e| e.gid).min() {
        let mut lists = Vec::with_capacity(inputs.len());
        for (i, (scan, slot)) in scans.iter_mut().zip(next.iter_mut()).enumerate() {
            let Some(e) = slot.filter(|e| e.gid == gid) else {
                continue;
            };
            scan.chunk(&e, &mut buf).map_err(at(i))?;
            lists.push(inputs[i].decode(&e, &buf).map_err(at(i))?);
            *slot = scan.next_entry().map_err(at(i))?;
        }
        w.add(gid, &merge_points(lists)).map_err(|e| (e, None))?;
        n += 1;
        if n.is_multiple_of(4096) && inner.stopping.load(Ordering::Relaxed) {
            return Ok(false);
        }
    }
    Ok(true)
}
