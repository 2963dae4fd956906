//! Data types shared by every [`crate::MetricStore`] backend.

use std::{
    collections::BTreeMap,
    hash::{BuildHasher, Hasher},
    sync::Arc,
};

/// Identifies a series inside one store instance. Stable for the life of the store; backends
/// without natural ids (an external database) may assign them from a cache.
pub type SeriesId = u64;

/// A series is one tenant's metric name plus its full set of dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub tenant: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

impl SeriesKey {
    /// The key's strings in order: tenant, name, then each dimension's key and value.
    pub fn strs(&self) -> impl Iterator<Item = &str> + Clone {
        [self.tenant.as_str(), self.name.as_str()]
            .into_iter()
            .chain(
                self.dimensions
                    .iter()
                    .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
            )
    }
}

/// A hash of a key's strings (as [`SeriesKey::strs`] lists them) for lookup tables that find
/// keys from strings held elsewhere: a request body's, an interned table's. 0xff never occurs
/// in UTF-8, so it separates the strings unambiguously.
pub fn hash_key_strs<'a>(state: &impl BuildHasher, strs: impl Iterator<Item = &'a str>) -> u64 {
    let mut h = state.build_hasher();
    for s in strs {
        h.write(s.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// One measurement to write. `value_meta` is the JSON text of the value_meta object, kept
/// verbatim so backends need not understand it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Shared: a server sees the same series in batch after batch and hands out one key
    /// per series rather than building it again for every sample.
    pub series: Arc<SeriesKey>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub value: f64,
    pub value_meta: Option<Arc<str>>,
}

/// One stored measurement of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub value: f64,
    pub value_meta: Option<Arc<str>>,
}

/// How one dimension must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimMatch {
    /// The series has the dimension, whatever its value (`dimensions=key`).
    Exists,
    /// The dimension's value is one of these (`key:v` or `key:v1|v2`).
    AnyOf(Vec<String>),
}

/// Which series a query reads: always within one tenant; all conditions must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesFilter {
    pub tenant: String,
    pub name: Option<String>,
    pub dimensions: Vec<(String, DimMatch)>,
}

impl SeriesFilter {
    /// Every series of `tenant`.
    pub fn tenant(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            name: None,
            dimensions: Vec::new(),
        }
    }

    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    #[must_use]
    pub fn dimension(mut self, key: impl Into<String>, m: DimMatch) -> Self {
        self.dimensions.push((key.into(), m));
        self
    }

    /// Whether `key` satisfies this filter.
    pub fn matches(&self, key: &SeriesKey) -> bool {
        key.tenant == self.tenant
            && self.name.as_ref().is_none_or(|n| *n == key.name)
            && self
                .dimensions
                .iter()
                .all(|(k, m)| match (key.dimensions.get(k), m) {
                    (None, _) => false,
                    (Some(_), DimMatch::Exists) => true,
                    (Some(v), DimMatch::AnyOf(vs)) => vs.iter().any(|x| x == v),
                })
    }
}

/// A half-open time range `[start, end)` in epoch milliseconds, as Monasca queries InfluxDB
/// (`time >= start AND time < end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start: i64,
    pub end: i64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        start: i64::MIN,
        end: i64::MAX,
    };

    pub fn new(start: Option<i64>, end: Option<i64>) -> Self {
        Self {
            start: start.unwrap_or(i64::MIN),
            end: end.unwrap_or(i64::MAX),
        }
    }

    pub fn contains(&self, ts: i64) -> bool {
        self.start <= ts && ts < self.end
    }

    pub fn is_all(&self) -> bool {
        *self == Self::ALL
    }
}

/// Series grouped by their value of one dimension ([`crate::MetricStore::group_by_dimension`]),
/// held flat: three vectors for any number of groups rather than a value and a list per
/// group, which at 100,000 groups was most of the cost of grouping (and of dropping the result).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DimensionGroups {
    /// Each group's value; `None` for the series without the dimension.
    values: Vec<Option<Arc<str>>>,
    /// Every group's series, one group after the other.
    series: Vec<SeriesId>,
    /// Where each group's series end in `series`.
    ends: Vec<usize>,
}

impl DimensionGroups {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Group `i`'s value (`None`: the series without the dimension).
    pub fn value(&self, i: usize) -> Option<&Arc<str>> {
        self.values[i].as_ref()
    }

    /// Group `i`'s series.
    pub fn series(&self, i: usize) -> &[SeriesId] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.series[start..self.ends[i]]
    }

    /// All groups' series, in group order (for sizing and for the ids of the whole answer).
    pub fn all_series(&self) -> &[SeriesId] {
        &self.series
    }

    /// Each group as (value, series), in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Option<&Arc<str>>, &[SeriesId])> {
        (0..self.len()).map(|i| (self.value(i), self.series(i)))
    }

    /// Adds a group after the others; a group without series is not added.
    pub fn push(&mut self, value: Option<Arc<str>>, series: impl IntoIterator<Item = SeriesId>) {
        let before = self.series.len();
        self.series.extend(series);
        if self.series.len() > before {
            self.values.push(value);
            self.ends.push(self.series.len());
        }
    }

    /// Adds a group before the others (the series without the dimension, known last); a
    /// group without series is not added.
    pub fn push_first(
        &mut self,
        value: Option<Arc<str>>,
        series: impl IntoIterator<Item = SeriesId>,
    ) {
        let first: Vec<SeriesId> = series.into_iter().collect();
        if first.is_empty() {
            return;
        }
        let n = first.len();
        self.series.splice(0..0, first);
        self.ends.iter_mut().for_each(|e| *e += n);
        self.ends.insert(0, n);
        self.values.insert(0, value);
    }

    /// Room for `groups` more groups of `series` series in all.
    pub fn reserve(&mut self, groups: usize, series: usize) {
        self.values.reserve(groups);
        self.ends.reserve(groups);
        self.series.reserve(series);
    }

    /// Sorts the groups by value (`None` first), keeping each group's series.
    pub fn sort_by_value(&mut self) {
        if self.values.is_sorted() {
            return;
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|a, b| self.values[*a].cmp(&self.values[*b]));
        let mut sorted = DimensionGroups::default();
        for i in order {
            sorted.push(self.values[i].clone(), self.series(i).iter().copied());
        }
        *self = sorted;
    }
}

/// A series found by a query.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesInfo {
    pub id: SeriesId,
    pub key: SeriesKey,
}

/// A statistic Monasca can compute over a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stat {
    Avg,
    Min,
    Max,
    Sum,
    Count,
}

impl Stat {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "avg" => Stat::Avg,
            "min" => Stat::Min,
            "max" => Stat::Max,
            "sum" => Stat::Sum,
            "count" => Stat::Count,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Avg => "avg",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Sum => "sum",
            Stat::Count => "count",
        }
    }
}

/// The statistics of one period. Buckets with no points are never returned.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// Start of the period, epoch milliseconds.
    pub start: i64,
    /// One value per requested statistic, in the order requested.
    pub values: Vec<f64>,
}

/// Running aggregate of one bucket; shared so every backend computes statistics the same way.
#[derive(Clone, Copy, Debug)]
pub struct Accumulator {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Accumulator {
    pub fn add(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Accumulator) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn get(&self, stat: Stat) -> f64 {
        match stat {
            Stat::Avg => self.sum / self.count as f64,
            Stat::Min => self.min,
            Stat::Max => self.max,
            Stat::Sum => self.sum,
            Stat::Count => self.count as f64,
        }
    }
}

/// The start of the period that holds `ts`. Periods are aligned to multiples of the period since
/// the epoch, as InfluxDB's `GROUP BY time()` (Monasca's backend) aligns them, so the first
/// bucket may start before the query's start time.
pub fn bucket_start(ts: i64, period_ms: i64) -> i64 {
    ts.div_euclid(period_ms) * period_ms
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic Gregorian, by eras
/// of 400 years (Hinnant's algorithm): for readers that write or pick apart dates themselves.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
