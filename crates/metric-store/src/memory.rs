//! A deliberately simple, non-durable store: the model other backends are checked against.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Mutex,
};

use async_trait::async_trait;

use crate::{
    Accumulator, Bucket, MetricStore, Point, Sample, SeriesFilter, SeriesId, SeriesInfo, SeriesKey,
    Stat, StoreError, TimeRange, bucket_start,
};

/// Everything in one mutex-guarded map, scanned linearly on every query.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    closed: bool,
    keys: Vec<SeriesKey>,
    points: Vec<BTreeMap<i64, Point>>,
}

impl Inner {
    /// The tenant's series (of one metric when given) with points in `range`.
    fn series_of<'a>(
        &'a self,
        tenant: &'a str,
        metric: Option<&'a str>,
        range: TimeRange,
    ) -> impl Iterator<Item = &'a SeriesKey> + 'a {
        self.keys
            .iter()
            .enumerate()
            .filter(move |(i, k)| {
                k.tenant == tenant
                    && metric.is_none_or(|m| m == k.name)
                    && (range.is_all() || self.points[*i].keys().any(|ts| range.contains(*ts)))
            })
            .map(|(_, k)| k)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters for a test model, so a poisoned lock is simply taken over.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl MetricStore for MemoryStore {
    fn series_generation(&self) -> Option<u64> {
        Some(self.lock().keys.len() as u64)
    }

    async fn write(&self, samples: Vec<Sample>) -> Result<(), StoreError> {
        let mut g = self.lock();
        if g.closed {
            return Err(StoreError::Closed);
        }
        for s in samples {
            let idx = match g.keys.iter().position(|k| *k == *s.series) {
                Some(i) => i,
                None => {
                    g.keys.push((*s.series).clone());
                    g.points.push(BTreeMap::new());
                    g.keys.len() - 1
                }
            };
            g.points[idx].insert(
                s.timestamp,
                Point {
                    timestamp: s.timestamp,
                    value: s.value,
                    value_meta: s.value_meta,
                },
            );
        }
        Ok(())
    }

    async fn find_series(
        &self,
        filter: &SeriesFilter,
        range: TimeRange,
    ) -> Result<Vec<SeriesInfo>, StoreError> {
        let g = self.lock();
        let mut out: Vec<SeriesInfo> = g
            .keys
            .iter()
            .enumerate()
            .filter(|(i, k)| filter.matches(k) && g.points[*i].keys().any(|ts| range.contains(*ts)))
            .map(|(i, k)| SeriesInfo {
                id: i as SeriesId,
                key: k.clone(),
            })
            .collect();
        out.sort_by(|a, b| (&a.key.name, &a.key.dimensions).cmp(&(&b.key.name, &b.key.dimensions)));
        Ok(out)
    }

    async fn read_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Point>, StoreError> {
        let g = self.lock();
        let mut all: Vec<Point> = Vec::new();
        for id in series {
            if let Some(p) = g.points.get(*id as usize) {
                all.extend(
                    p.values()
                        .filter(|p| range.contains(p.timestamp))
                        .filter(|p| after.is_none_or(|a| p.timestamp > a))
                        .cloned(),
                );
            }
        }
        all.sort_by_key(|p| p.timestamp);
        all.truncate(limit);
        Ok(all)
    }

    async fn aggregate_each(
        &self,
        groups: &[&[SeriesId]],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Vec<Bucket>>, StoreError> {
        let g = self.lock();
        let aggregate = |series: &[SeriesId]| {
            let mut buckets: BTreeMap<i64, Accumulator> = BTreeMap::new();
            for id in series {
                if let Some(p) = g.points.get(*id as usize) {
                    for p in p.values().filter(|p| range.contains(p.timestamp)) {
                        let b = bucket_start(p.timestamp, period_ms);
                        buckets.entry(b).or_default().add(p.value);
                    }
                }
            }
            buckets
                .into_iter()
                .map(|(start, acc)| Bucket {
                    start,
                    values: stats.iter().map(|s| acc.get(*s)).collect(),
                })
                .collect()
        };
        Ok(groups.iter().map(|series| aggregate(series)).collect())
    }

    async fn metric_names(&self, filter: &SeriesFilter) -> Result<Vec<String>, StoreError> {
        let g = self.lock();
        let f = SeriesFilter {
            name: None,
            ..filter.clone()
        };
        let names: BTreeSet<String> = g
            .keys
            .iter()
            .filter(|k| f.matches(k))
            .map(|k| k.name.clone())
            .collect();
        Ok(names.into_iter().collect())
    }

    async fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let g = self.lock();
        let names: BTreeSet<String> = g
            .series_of(tenant, metric, range)
            .flat_map(|k| k.dimensions.keys().cloned())
            .collect();
        Ok(names.into_iter().collect())
    }

    async fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let g = self.lock();
        let values: BTreeSet<String> = g
            .series_of(tenant, metric, range)
            .filter_map(|k| k.dimensions.get(key).cloned())
            .collect();
        Ok(values.into_iter().collect())
    }

    async fn close(&self) -> Result<(), StoreError> {
        self.lock().closed = true;
        Ok(())
    }
}
