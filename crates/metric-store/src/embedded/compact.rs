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
        let plan = if all || cold {
            bs
        } else {
            let Some(last) = bs.last() else { continue };
            let level = last.meta.level;
            let run = bs
                .iter()
                .rev()
                .take_while(|b| b.meta.level == level)
                .count();
            if run < fanin {
                continue;
            }
            bs[bs.len() - run..].to_vec()
        };
        let plan = reorder_safe(&blocks, plan);
        if plan.len() >= 2 {
            plans.push(plan);
        }
    }
    plans
}

/// The longest tail of `plan` (sorted by sequence) whose merge changes no override: the merged
/// block is applied at its newest input's place, so no other block that overlaps it in time may
/// sit between its inputs. Blocks of distinct partitions never overlap; a wide bucket sealed
/// late (see `partitioning`) may overlap partitions sealed when they were recent.
fn reorder_safe(all: &[Arc<Block>], mut plan: Vec<Arc<Block>>) -> Vec<Arc<Block>> {
    while plan.len() >= 2 {
        let lo = plan.iter().map(|b| b.meta.seq_hi).min().unwrap_or(0);
        let hi = plan.iter().map(|b| b.meta.seq_hi).max().unwrap_or(0);
        let min_t = plan.iter().map(|b| b.meta.min_t).min().unwrap_or(i64::MAX);
        let max_t = plan.iter().map(|b| b.meta.max_t).max().unwrap_or(i64::MIN);
        let crossed = all.iter().any(|b| {
            !plan.iter().any(|p| Arc::ptr_eq(p, b))
                && lo < b.meta.seq_hi
                && b.meta.seq_hi < hi
                && b.meta.min_t <= max_t
                && min_t <= b.meta.max_t
        });
        if !crossed {
            break;
        }
        plan.remove(0);
    }
    plan
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        TimeRange,
        embedded::{
            EmbeddedOptions,
            block::PageCache,
            test_support::{block, inner},
        },
    };

    fn seqs(plans: &[Vec<Arc<Block>>]) -> Vec<Vec<u64>> {
        plans
            .iter()
            .map(|p| p.iter().map(|b| b.meta.seq_hi).collect())
            .collect()
    }

    #[test]
    fn plans_a_full_run_of_one_level_and_every_block_of_a_cold_partition() {
        let dir = tempfile::tempdir().unwrap();
        // (partition, level) of seals 1..=11, in seal order; partitions are 1 s wide.
        let layout = [
            (10, 1),
            (10, 0),
            (10, 0),
            (10, 0),
            (10, 0),
            (9, 0),
            (9, 0),
            (9, 0),
            (5, 2),
            (5, 0),
            (3, 0),
        ];
        let blocks: Vec<Arc<Block>> = (1u64..)
            .zip(layout)
            .map(|(seq, (p, level))| {
                let t = p * 1000 + seq as i64 * 10;
                block(dir.path(), p, (seq, seq), level, &[(0, t, 1.0)]).unwrap()
            })
            .collect();
        let opts = EmbeddedOptions {
            partition: Duration::from_secs(1),
            merge_fanin: 4,
            ..EmbeddedOptions::default()
        };
        let inner = inner(dir.path(), opts, blocks);
        // Newest data is in partition 10: 9 is still warm, 5 and 3 are cold.
        assert_eq!(inner.newest.load(Ordering::Relaxed), 10_050);

        // Partition 10 ends in four level-0 blocks (the level-1 one before them stays out);
        // 9 has only three; 3 has a single block, nothing to merge.
        assert_eq!(
            seqs(&merge_plans(&inner, false)),
            [vec![9, 10], vec![2, 3, 4, 5]]
        );
        assert_eq!(
            seqs(&merge_plans(&inner, true)),
            [vec![9, 10], vec![6, 7, 8], vec![1, 2, 3, 4, 5]]
        );
    }

    #[test]
    fn a_plan_never_jumps_a_block_that_overlaps_it() {
        let dir = tempfile::tempdir().unwrap();
        // A wide bucket (key 0) sealed at 1 and 3 around a partition (key 5) sealed at 2 inside
        // its time span, then once more at 4: merging 1 with 3 would put 1's value for t=5000
        // over 2's.
        let layout = [(0, 1, 5000), (5, 2, 5000), (0, 3, 9000), (0, 4, 100)];
        let blocks: Vec<Arc<Block>> = layout
            .iter()
            .map(|&(p, seq, t)| block(dir.path(), p, (seq, seq), 0, &[(0, t, 1.0)]).unwrap())
            .collect();
        let opts = EmbeddedOptions {
            partition: Duration::from_secs(1),
            ..EmbeddedOptions::default()
        };
        let inner = inner(dir.path(), opts, blocks);
        assert_eq!(seqs(&merge_plans(&inner, true)), [vec![3, 4]]);
    }

    #[test]
    fn a_merge_keeps_the_later_value_replaces_its_inputs_and_deletes_them() {
        let dir = tempfile::tempdir().unwrap();
        let older = block(
            dir.path(),
            0,
            (1, 1),
            0,
            &[(0, 10, 1.0), (0, 20, 1.0), (2, 10, 5.0)],
        )
        .unwrap();
        let newer = block(
            dir.path(),
            0,
            (2, 3),
            1,
            &[(0, 20, 2.0), (0, 30, 2.0), (1, 15, 3.0)],
        )
        .unwrap();
        let inputs = vec![older.clone(), newer.clone()];
        let inner = inner(dir.path(), EmbeddedOptions::default(), inputs.clone());

        merge(&inner, &inputs).unwrap();

        let blocks = inner.read().blocks.clone();
        let [merged] = blocks.as_slice() else {
            panic!("{} blocks after the merge", blocks.len());
        };
        let m = merged.meta;
        assert_eq!((m.seq_lo, m.seq_hi, m.level, m.partition), (1, 3, 2, 0));
        assert_eq!((m.points, m.series), (5, 3));
        let values: Vec<(i64, f64)> = merged
            .read(0, TimeRange::ALL, &mut PageCache::default())
            .unwrap()
            .iter()
            .map(|p| (p.timestamp, p.value))
            .collect();
        assert_eq!(values, [(10, 1.0), (20, 2.0), (30, 2.0)]);
        assert!(merged.path.exists());
        assert!(!older.path.exists() && !newer.path.exists());
        assert_eq!(inner.counters.merges.load(Ordering::Relaxed), 1);
    }
}
