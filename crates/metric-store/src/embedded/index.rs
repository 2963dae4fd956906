//! The in-memory head: every series with its sorted points and an inverted index from
//! (tenant, name) and (tenant, dimension key, value) to series ids.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{
    Accumulator, Bucket, DimMatch, Point, Sample, SeriesFilter, SeriesId, SeriesInfo, SeriesKey,
    Stat, TimeRange, bucket_start,
};

#[derive(Default)]
pub(crate) struct Head {
    series: Vec<SeriesData>,
    by_key: HashMap<SeriesKey, SeriesId>,
    tenants: HashMap<String, TenantIndex>,
    points: usize,
}

struct SeriesData {
    key: SeriesKey,
    /// Sorted by timestamp, one point per timestamp.
    points: Vec<Point>,
}

#[derive(Default)]
struct TenantIndex {
    /// Posting lists are sorted because ids are handed out in increasing order.
    by_name: BTreeMap<String, Vec<SeriesId>>,
    by_dim: BTreeMap<String, BTreeMap<String, Vec<SeriesId>>>,
}

impl SeriesData {
    fn upsert(&mut self, p: Point) -> bool {
        match self.points.last() {
            Some(last) if last.timestamp < p.timestamp => {
                self.points.push(p);
                true
            }
            None => {
                self.points.push(p);
                true
            }
            _ => match self
                .points
                .binary_search_by_key(&p.timestamp, |x| x.timestamp)
            {
                Ok(i) => {
                    self.points[i] = p;
                    false
                }
                Err(i) => {
                    self.points.insert(i, p);
                    true
                }
            },
        }
    }

    /// Index range of the points within `range`.
    fn span(&self, range: TimeRange) -> std::ops::Range<usize> {
        let lo = self.points.partition_point(|p| p.timestamp < range.start);
        let hi = self.points.partition_point(|p| p.timestamp < range.end);
        lo..hi.max(lo)
    }
}

impl Head {
    pub(crate) fn point_count(&self) -> usize {
        self.points
    }

    pub(crate) fn apply(&mut self, samples: &[Sample]) {
        for s in samples {
            let id = match self.by_key.get(&s.series) {
                Some(id) => *id,
                None => self.add_series(s.series.clone()),
            };
            let p = Point {
                timestamp: s.timestamp,
                value: s.value,
                value_meta: s.value_meta.clone(),
            };
            if self.series[id as usize].upsert(p) {
                self.points += 1;
            }
        }
    }

    fn add_series(&mut self, key: SeriesKey) -> SeriesId {
        let id = self.series.len() as SeriesId;
        let t = self.tenants.entry(key.tenant.clone()).or_default();
        t.by_name.entry(key.name.clone()).or_default().push(id);
        for (k, v) in &key.dimensions {
            t.by_dim
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .push(id);
        }
        self.by_key.insert(key.clone(), id);
        self.series.push(SeriesData {
            key,
            points: Vec::new(),
        });
        id
    }

    /// Every sample held, series by series, for snapshots.
    pub(crate) fn for_each_series(&self, mut f: impl FnMut(&SeriesKey, &[Point])) {
        for s in &self.series {
            f(&s.key, &s.points);
        }
    }

    /// Candidate ids from the index, before the time-range check; sorted.
    fn candidates(&self, filter: &SeriesFilter, use_name: bool) -> Vec<SeriesId> {
        let Some(t) = self.tenants.get(&filter.tenant) else {
            return Vec::new();
        };
        let mut sets: Vec<Vec<SeriesId>> = Vec::new();
        if let (true, Some(name)) = (use_name, &filter.name) {
            match t.by_name.get(name) {
                Some(ids) => sets.push(ids.clone()),
                None => return Vec::new(),
            }
        }
        for (k, m) in &filter.dimensions {
            let Some(values) = t.by_dim.get(k) else {
                return Vec::new();
            };
            let mut ids: Vec<SeriesId> = match m {
                DimMatch::Exists => values.values().flatten().copied().collect(),
                DimMatch::AnyOf(vs) => vs
                    .iter()
                    .filter_map(|v| values.get(v))
                    .flatten()
                    .copied()
                    .collect(),
            };
            ids.sort_unstable();
            ids.dedup();
            sets.push(ids);
        }
        if sets.is_empty() {
            return t.by_name.values().flatten().copied().collect();
        }
        sets.sort_by_key(Vec::len);
        let mut acc = sets.swap_remove(0);
        for s in &sets {
            acc.retain(|id| s.binary_search(id).is_ok());
        }
        acc.sort_unstable();
        acc
    }

    pub(crate) fn find_series(&self, filter: &SeriesFilter, range: TimeRange) -> Vec<SeriesInfo> {
        let mut out: Vec<SeriesInfo> = self
            .candidates(filter, true)
            .into_iter()
            .map(|id| (id, &self.series[id as usize]))
            .filter(|(_, s)| range.is_all() || !s.span(range).is_empty())
            .map(|(id, s)| SeriesInfo {
                id,
                key: s.key.clone(),
            })
            .collect();
        out.sort_by(|a, b| (&a.key.name, &a.key.dimensions).cmp(&(&b.key.name, &b.key.dimensions)));
        out
    }

    pub(crate) fn read_points(
        &self,
        ids: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        limit: usize,
    ) -> Vec<Point> {
        let range = match after {
            Some(a) if a >= range.start => TimeRange {
                start: a.saturating_add(1),
                ..range
            },
            _ => range,
        };
        let mut out = Vec::new();
        for id in ids {
            if let Some(s) = self.series.get(*id as usize) {
                let span = s.span(range);
                let take = span.len().min(limit);
                out.extend_from_slice(&s.points[span.start..span.start + take]);
            }
        }
        if ids.len() > 1 {
            out.sort_by_key(|p| p.timestamp);
        }
        out.truncate(limit);
        out
    }

    pub(crate) fn aggregate(
        &self,
        ids: &[SeriesId],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Vec<Bucket> {
        let mut buckets: BTreeMap<i64, Accumulator> = BTreeMap::new();
        for id in ids {
            let Some(s) = self.series.get(*id as usize) else {
                continue;
            };
            let span = s.span(range);
            let mut current: Option<(i64, Accumulator)> = None;
            for p in &s.points[span] {
                let b = bucket_start(p.timestamp, period_ms);
                match &mut current {
                    Some((cb, acc)) if *cb == b => acc.add(p.value),
                    _ => {
                        if let Some((cb, acc)) = current.take() {
                            buckets.entry(cb).or_default().merge(&acc);
                        }
                        let mut acc = Accumulator::default();
                        acc.add(p.value);
                        current = Some((b, acc));
                    }
                }
            }
            if let Some((cb, acc)) = current {
                buckets.entry(cb).or_default().merge(&acc);
            }
        }
        buckets
            .into_iter()
            .map(|(start, acc)| Bucket {
                start,
                values: stats.iter().map(|s| acc.get(*s)).collect(),
            })
            .collect()
    }

    pub(crate) fn metric_names(&self, filter: &SeriesFilter) -> Vec<String> {
        let Some(t) = self.tenants.get(&filter.tenant) else {
            return Vec::new();
        };
        if filter.dimensions.is_empty() {
            return t.by_name.keys().cloned().collect();
        }
        let names: BTreeSet<&str> = self
            .candidates(filter, false)
            .into_iter()
            .map(|id| self.series[id as usize].key.name.as_str())
            .collect();
        names.into_iter().map(str::to_owned).collect()
    }

    fn has_points(&self, id: SeriesId, range: TimeRange) -> bool {
        range.is_all() || !self.series[id as usize].span(range).is_empty()
    }

    pub(crate) fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Vec<String> {
        let Some(t) = self.tenants.get(tenant) else {
            return Vec::new();
        };
        match metric {
            None if range.is_all() => t.by_dim.keys().cloned().collect(),
            None => t
                .by_dim
                .iter()
                .filter(|(_, values)| {
                    values
                        .values()
                        .flatten()
                        .any(|id| self.has_points(*id, range))
                })
                .map(|(k, _)| k.clone())
                .collect(),
            Some(m) => {
                let names: BTreeSet<&str> = t
                    .by_name
                    .get(m)
                    .into_iter()
                    .flatten()
                    .filter(|id| self.has_points(**id, range))
                    .flat_map(|id| self.series[*id as usize].key.dimensions.keys())
                    .map(String::as_str)
                    .collect();
                names.into_iter().map(str::to_owned).collect()
            }
        }
    }

    pub(crate) fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Vec<String> {
        let Some(values) = self.tenants.get(tenant).and_then(|t| t.by_dim.get(key)) else {
            return Vec::new();
        };
        if metric.is_none() && range.is_all() {
            return values.keys().cloned().collect();
        }
        values
            .iter()
            .filter(|(_, ids)| {
                ids.iter().any(|id| {
                    metric.is_none_or(|m| self.series[*id as usize].key.name == m)
                        && self.has_points(*id, range)
                })
            })
            .map(|(v, _)| v.clone())
            .collect()
    }
}
