//! [`EmbeddedStore`]'s public operations and its [`MetricStore`] implementation.

use std::{
    collections::BTreeSet,
    sync::{Arc, atomic::Ordering, mpsc},
};

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::{
    EmbeddedStore, StoreStats,
    codec::encode_record,
    compact::MergeCmd,
    registry::Gid,
    writer::{Cmd, PendingWrite},
};
use crate::{
    Accumulator, Bucket, DimensionGroups, MetricStore, Point, Sample, SeriesFilter, SeriesId,
    SeriesInfo, Stat, StoreError, TimeRange, bucket_start,
};

impl EmbeddedStore {
    /// The ids of the samples' series that exist: by key address when the caller shares its
    /// keys, else from the registry.
    fn known_ids(&self, samples: &[Sample]) -> Vec<Option<Gid>> {
        // Read-locked while a batch looks up (batches on other cores do the same at once);
        // write-locked only to add what a batch found the slow way.
        let key_ids = self.key_ids.read().unwrap_or_else(|e| e.into_inner());
        if !key_ids.worth_trying() {
            drop(key_ids);
            let st = self.inner.read();
            return samples.iter().map(|s| st.reg.lookup(&s.series)).collect();
        }
        let mut ids: Vec<Option<Gid>> = samples.iter().map(|s| key_ids.get(&s.series)).collect();
        let cold = key_ids.is_cold();
        drop(key_ids);
        let hits = ids.iter().filter(|id| id.is_some()).count();
        if hits == ids.len() {
            return ids;
        }
        let mut found = Vec::new();
        {
            let st = self.inner.read();
            for (s, id) in samples.iter().zip(ids.iter_mut()) {
                if id.is_none() {
                    *id = st.reg.lookup(&s.series);
                    if let Some(gid) = *id {
                        found.push((&s.series, gid));
                    }
                }
            }
        }
        // A batch of series the registry does not hold yet (first contact) has nothing to add:
        // it takes the write lock only if the map is cold, to warm it again.
        if !found.is_empty() || cold {
            self.key_ids
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remember(found.into_iter(), hits);
        }
        ids
    }

    fn sender(&self) -> Result<mpsc::Sender<Cmd>, StoreError> {
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::Closed)
    }

    /// Seals everything written so far into blocks and deletes the log segments it covered.
    ///
    /// # Errors
    /// A closed store, or a failure writing the blocks (the data stays in the log and the
    /// seal is retried in the background).
    pub async fn seal(&self) -> Result<(), StoreError> {
        let (done, rx) = oneshot::channel();
        self.sender()?
            .send(Cmd::Seal(done))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Seals the head, then merges every partition into a single block: the smallest disk
    /// footprint, for benchmarks and tests.
    ///
    /// # Errors
    /// As [`EmbeddedStore::seal`], or a failed merge.
    pub async fn compact(&self) -> Result<(), StoreError> {
        self.seal().await?;
        let (done, rx) = oneshot::channel();
        self.merge_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(MergeCmd::Compact(done))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

#[async_trait]
impl MetricStore for EmbeddedStore {
    fn stats(&self) -> Option<StoreStats> {
        Some(EmbeddedStore::stats(self))
    }

    async fn write(&self, samples: Vec<Sample>) -> Result<(), StoreError> {
        self.write_shared(Arc::new(samples)).await
    }

    fn series_generation(&self) -> Option<u64> {
        // Series are only ever added, so the count changes with every addition.
        Some(self.inner.read().reg.len() as u64)
    }

    async fn write_shared(&self, samples: Arc<Vec<Sample>>) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        // Ids of known series are found here, on the caller's thread, so the one writer thread
        // (which every connection waits on) only adds new series and points; the log record
        // names those series by id.
        let ids = self.known_ids(&samples);
        let mut record = Vec::new();
        encode_record(&samples, &ids, &mut record);
        let (done, rx) = oneshot::channel();
        self.sender()?
            .send(Cmd::Write(PendingWrite {
                record,
                samples,
                ids,
                done,
            }))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn find_series(
        &self,
        filter: &SeriesFilter,
        range: TimeRange,
    ) -> Result<Vec<SeriesInfo>, StoreError> {
        let ids = self.inner.read().reg.candidates(filter, true);
        let ids = self.alive(ids, range)?;
        let st = self.inner.read();
        let mut out: Vec<SeriesInfo> = ids
            .into_iter()
            .map(|id| SeriesInfo {
                id: SeriesId::from(id),
                key: st.reg.key(id),
            })
            .collect();
        drop(st);
        out.sort_by(|a, b| (&a.key.name, &a.key.dimensions).cmp(&(&b.key.name, &b.key.dimensions)));
        Ok(out)
    }

    async fn group_by_dimension(
        &self,
        filter: &SeriesFilter,
        key: &str,
    ) -> Result<Option<DimensionGroups>, StoreError> {
        let st = self.inner.read();
        let candidates = st.reg.candidates(filter, true);
        let mut groups = DimensionGroups::default();
        let Some(&last) = candidates.last() else {
            return Ok(Some(groups));
        };
        // Which ids are wanted, and which of them a value took: one bit each.
        let words = last as usize / 64 + 1;
        let mut wanted = vec![0u64; words];
        for id in &candidates {
            wanted[*id as usize / 64] |= 1 << (id % 64);
        }
        let bit = |set: &[u64], id: Gid| set[id as usize / 64] & (1 << (id % 64)) != 0;
        let mut taken = vec![0u64; words];
        let values = st
            .reg
            .tenant(&filter.tenant)
            .and_then(|t| t.by_dim.get(key));
        if let Some(values) = values {
            groups.reserve(values.len().min(candidates.len()), candidates.len());
        }
        for (value, ids) in values.into_iter().flatten() {
            let wanted_ids = ids.iter().filter(|id| **id <= last && bit(&wanted, **id));
            groups.push(
                Some(value.clone()),
                wanted_ids.map(|id| {
                    taken[*id as usize / 64] |= 1 << (id % 64);
                    SeriesId::from(*id)
                }),
            );
        }
        // The series without the dimension, known once every value has taken its own, go
        // first.
        groups.push_first(
            None,
            candidates
                .iter()
                .filter(|id| !bit(&taken, **id))
                .map(|id| SeriesId::from(*id)),
        );
        Ok(Some(groups))
    }

    async fn read_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Point>, StoreError> {
        let range = match after {
            Some(a) if a >= range.start => TimeRange {
                start: a.saturating_add(1),
                ..range
            },
            _ => range,
        };
        let ids = gids(series);
        let mut out = Vec::new();
        self.for_each_series(&ids, range, |_, mut pts| {
            pts.truncate(limit);
            out.append(&mut pts);
            true
        })?;
        if ids.len() > 1 {
            out.sort_by_key(|p| p.timestamp);
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn each_series_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        f: &mut (dyn FnMut(SeriesId, Vec<Point>) -> bool + Send),
    ) -> Result<(), StoreError> {
        let ids = gids(series);
        self.for_each_series(&ids, range, |id, pts| {
            pts.is_empty() || f(SeriesId::from(id), pts)
        })
    }

    async fn aggregate_each(
        &self,
        groups: &[&[SeriesId]],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Vec<Bucket>>, StoreError> {
        // Each series' groups (a series may be in several), then one pass over all of them:
        // the blocks' index pages are read once for the whole page, not once a group.
        let mut owners: Vec<(Gid, usize)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, ids)| gids(ids).into_iter().map(move |id| (id, g)))
            .collect();
        owners.sort_unstable();
        let mut ids: Vec<Gid> = owners.iter().map(|(id, _)| *id).collect();
        ids.dedup();
        let mut buckets: Vec<Vec<(i64, Accumulator)>> = vec![Vec::new(); groups.len()];
        let mut series_buckets: Vec<(i64, Accumulator)> = Vec::new();
        let mut scratch = Vec::new();
        self.for_each_series(&ids, range, |id, pts| {
            series_buckets.clear();
            for p in &pts {
                let b = bucket_start(p.timestamp, period_ms);
                match series_buckets.last_mut() {
                    Some((cb, acc)) if *cb == b => acc.add(p.value),
                    _ => {
                        let mut acc = Accumulator::default();
                        acc.add(p.value);
                        series_buckets.push((b, acc));
                    }
                }
            }
            let from = owners.partition_point(|(o, _)| *o < id);
            for (_, g) in owners[from..].iter().take_while(|(o, _)| *o == id) {
                merge_buckets(&mut buckets[*g], &series_buckets, &mut scratch);
            }
            true
        })?;
        Ok(buckets
            .into_iter()
            .map(|b| {
                b.into_iter()
                    .map(|(start, acc)| Bucket {
                        start,
                        values: stats.iter().map(|s| acc.get(*s)).collect(),
                    })
                    .collect()
            })
            .collect())
    }

    async fn metric_names(&self, filter: &SeriesFilter) -> Result<Vec<String>, StoreError> {
        let st = self.inner.read();
        let Some(t) = st.reg.tenant(&filter.tenant) else {
            return Ok(Vec::new());
        };
        if filter.dimensions.is_empty() {
            return Ok(t.by_name.keys().map(|k| k.to_string()).collect());
        }
        let names: BTreeSet<&str> = st
            .reg
            .candidates(filter, false)
            .into_iter()
            .map(|id| st.reg.name(id))
            .collect();
        Ok(names.into_iter().map(str::to_owned).collect())
    }

    async fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<Gid> = {
            let st = self.inner.read();
            let Some(t) = st.reg.tenant(tenant) else {
                return Ok(Vec::new());
            };
            match metric {
                None if range.is_all() => {
                    return Ok(t.by_dim.keys().map(|k| k.to_string()).collect());
                }
                None => {
                    let mut ids: Vec<Gid> = t
                        .by_dim
                        .values()
                        .flat_map(|v| v.values().flatten().copied())
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                }
                Some(m) => t.by_name.get(m).cloned().unwrap_or_default(),
            }
        };
        let ids = self.alive(ids, range)?;
        let st = self.inner.read();
        let names: BTreeSet<&str> = ids
            .iter()
            .flat_map(|id| st.reg.dims(*id).map(|(k, _)| k))
            .collect();
        Ok(names.into_iter().map(str::to_owned).collect())
    }

    async fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        // Each value (in order) with the ids of its series (of `metric` when given), the ids
        // of all values in one list.
        let (values, ids) = {
            let st = self.inner.read();
            let Some(values) = st.reg.tenant(tenant).and_then(|t| t.by_dim.get(key)) else {
                return Ok(Vec::new());
            };
            if metric.is_none() && range.is_all() {
                return Ok(values.keys().map(|k| k.to_string()).collect());
            }
            let mut ids: Vec<Gid> = Vec::new();
            let mut spans: Vec<(Arc<str>, std::ops::Range<usize>)> = Vec::new();
            for (v, series) in values {
                let from = ids.len();
                ids.extend(
                    series
                        .iter()
                        .filter(|id| metric.is_none_or(|m| st.reg.name(**id) == m)),
                );
                if ids.len() > from {
                    spans.push((v.clone(), from..ids.len()));
                }
            }
            (spans, ids)
        };
        // One live series shows a value: ask about each value's first series, then the next
        // one of the values still unseen, and so on, rather than about every series.
        let mut shown = vec![false; values.len()];
        let mut pending: Vec<usize> = (0..values.len()).collect();
        for round in 0.. {
            let mut batch: Vec<Gid> = pending
                .iter()
                .map(|&v| ids[values[v].1.start + round])
                .collect();
            if batch.is_empty() {
                break;
            }
            batch.sort_unstable();
            let alive = self.alive(batch, range)?;
            pending.retain(|&v| {
                let id = ids[values[v].1.start + round];
                if alive.binary_search(&id).is_ok() {
                    shown[v] = true;
                    false
                } else {
                    values[v].1.len() > round + 1
                }
            });
        }
        Ok(values
            .iter()
            .zip(shown)
            .filter(|(_, shown)| *shown)
            .map(|((v, _), _)| v.to_string())
            .collect())
    }

    fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    async fn close(&self) -> Result<(), StoreError> {
        if self.sender().is_err() {
            return Ok(());
        }
        if self.inner.opts.seal_on_close
            && let Err(e) = self.seal().await
        {
            tracing::warn!(error = %e, "sealing at close failed; the log keeps the data");
        }
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(tx) = tx else {
            return Ok(());
        };
        let (done, rx) = oneshot::channel();
        let sent = tx.send(Cmd::Close(done)).is_ok();
        drop(tx);
        let result = if sent {
            rx.await.unwrap_or(Err(StoreError::Closed))
        } else {
            Ok(())
        };
        self.inner.stopping.store(true, Ordering::Relaxed);
        self.merge_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        result
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Dropping the senders lets every thread drain and exit on its own.
        self.inner.stopping.store(true, Ordering::Relaxed);
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.merge_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

/// Adds a series' buckets (in time order) to a group's (in time order), as a map from start
/// to accumulator would hold them: a group's series follow one another in time or share
/// periods, so this is an append or one walk, with no node allocated per group. (A series'
/// accumulator is what merging it into an empty one gives, so it is taken as it is.)
fn merge_buckets(
    group: &mut Vec<(i64, Accumulator)>,
    series: &[(i64, Accumulator)],
    scratch: &mut Vec<(i64, Accumulator)>,
) {
    let Some(first) = series.first() else {
        return;
    };
    if group.last().is_none_or(|(last, _)| *last < first.0) {
        group.extend_from_slice(series);
        return;
    }
    scratch.clear();
    scratch.reserve(group.len() + series.len());
    let (mut i, mut j) = (0, 0);
    while i < group.len() || j < series.len() {
        match (group.get(i), series.get(j)) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                let mut merged = a.1;
                merged.merge(&b.1);
                scratch.push((a.0, merged));
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.0 < b.0 => {
                scratch.push(*a);
                i += 1;
            }
            (Some(a), None) => {
                scratch.push(*a);
                i += 1;
            }
            (_, Some(b)) => {
                scratch.push(*b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    std::mem::swap(group, scratch);
}

/// The store's ids of `series` (ids it cannot have issued are skipped).
fn gids(series: &[SeriesId]) -> Vec<Gid> {
    series
        .iter()
        .filter_map(|id| Gid::try_from(*id).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Merging groups' buckets gives what a map from start to accumulator gives, bit for bit
    /// (the same additions in the same order), whatever order series' periods come in.
    #[test]
    fn merged_buckets_match_a_map_of_them() {
        let odd = [-0.0, 0.0, f64::NAN, 1e300, -1e300, 0.1, f64::INFINITY, 7.0];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..2_000 {
            let (mut merged, mut scratch) = (Vec::new(), Vec::new());
            let mut map: BTreeMap<i64, Accumulator> = BTreeMap::new();
            for _ in 0..next(5) {
                // One series: periods ascending, each with a few values.
                let mut series: Vec<(i64, Accumulator)> = Vec::new();
                let mut start = next(8) as i64 - 4;
                for _ in 0..next(6) {
                    let mut acc = Accumulator::default();
                    for _ in 0..=next(3) {
                        acc.add(odd[next(odd.len() as u64) as usize]);
                    }
                    series.push((start, acc));
                    start += 1 + next(3) as i64;
                }
                merge_buckets(&mut merged, &series, &mut scratch);
                for (start, acc) in &series {
                    map.entry(*start).or_default().merge(acc);
                }
            }
            let bits = |(s, a): (i64, &Accumulator)| {
                (
                    s,
                    a.count,
                    a.sum.to_bits(),
                    a.min.to_bits(),
                    a.max.to_bits(),
                )
            };
            let want: Vec<_> = map.iter().map(|(s, a)| bits((*s, a))).collect();
            let got: Vec<_> = merged.iter().map(|(s, a)| bits((*s, a))).collect();
            assert_eq!(got, want);
        }
    }
}
