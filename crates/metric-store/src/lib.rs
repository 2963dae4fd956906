//! Vigil's time-series store.
//!
//! [`MetricStore`] is the seam between the API server and a storage engine. Every backend
//! (the in-memory [`MemoryStore`] model, the durable [`EmbeddedStore`], and later an external
//! InfluxDB) passes the same [`conformance`] suite.
//!
//! ```no_run
//! # async fn demo() -> Result<(), metric_store::StoreError> {
//! use metric_store::{EmbeddedStore, MetricStore, SeriesFilter, TimeRange};
//! let store = EmbeddedStore::open("/var/lib/vigil/metrics".as_ref()).await?;
//! let series = store.find_series(&SeriesFilter::tenant("acme"), TimeRange::ALL).await?;
//! # Ok(()) }
//! ```

pub mod conformance;
mod embedded;
mod error;
mod memory;
mod series_cache;
pub mod share;
mod types;

use std::sync::Arc;

use async_trait::async_trait;
pub use embedded::{EmbeddedOptions, EmbeddedStore, StoreOptions, StoreStats};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use series_cache::series_cache_capacity;
pub use types::*;

/// A time-series store for Monasca metrics.
///
/// Reads see every write that has returned `Ok`. Series are listed in a stable order
/// (name, then dimensions), which paging relies on.
#[async_trait]
pub trait MetricStore: Send + Sync + 'static {
    /// Writes a batch atomically: when this returns `Ok` every sample is durable and visible;
    /// on `Err` none is. A sample with the same series and timestamp as a stored one replaces it.
    async fn write(&self, samples: Vec<Sample>) -> Result<(), StoreError>;

    /// [`MetricStore::write`] for a batch others read too (the threshold engine): backends
    /// that can store from a shared batch avoid copying it.
    async fn write_shared(&self, samples: Arc<Vec<Sample>>) -> Result<(), StoreError> {
        self.write(Arc::unwrap_or_clone(samples)).await
    }

    /// The series matching `filter` that have at least one point in `range` (every matching
    /// series when `range` is [`TimeRange::ALL`]), ordered by name then dimensions.
    async fn find_series(
        &self,
        filter: &SeriesFilter,
        range: TimeRange,
    ) -> Result<Vec<SeriesInfo>, StoreError>;

    /// The points of the given series in `range`, merged into one list ordered by timestamp,
    /// starting after `after` (exclusive) when set, at most `limit` of them.
    async fn read_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Point>, StoreError>;

    /// The points in `range` of each of `series` that has some, in time order, one series at
    /// a time and in an order of the store's choosing (the embedded store reads each table page
    /// once for all of them), so that a reader can fold series without holding them all. `f`
    /// returns `false` to stop.
    async fn each_series_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        f: &mut (dyn FnMut(SeriesId, Vec<Point>) -> bool + Send),
    ) -> Result<(), StoreError> {
        for &id in series {
            let points = self.read_points(&[id], range, None, usize::MAX).await?;
            if !points.is_empty() && !f(id, points) {
                break;
            }
        }
        Ok(())
    }

    /// Statistics over the union of the given series, in `period_ms` buckets aligned to epoch
    /// multiples of the period; only buckets holding points, in time order.
    async fn aggregate(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Bucket>, StoreError> {
        let mut each = self
            .aggregate_each(&[series], range, period_ms, stats)
            .await?;
        Ok(each.pop().unwrap_or_default())
    }

    /// [`MetricStore::aggregate`] of each group of series, in one pass over the store (a page
    /// of `group_by` statistics asks for thousands of small groups).
    async fn aggregate_each(
        &self,
        groups: &[&[SeriesId]],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Vec<Bucket>>, StoreError>;

    /// Distinct metric names of the series matching `filter` (its name is ignored), sorted.
    async fn metric_names(&self, filter: &SeriesFilter) -> Result<Vec<String>, StoreError>;

    /// Distinct dimension names of the tenant's series (of one metric when given) that have
    /// points in `range`, sorted.
    async fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError>;

    /// Distinct values of dimension `key` in the tenant's series (of one metric when given)
    /// that have points in `range`, sorted.
    async fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError>;

    /// The series matching `filter` (all of them, whatever their points) grouped by their value
    /// of dimension `key`: the series without it first (`None`), then one group a value in
    /// value order, each group's ids ascending. `None` from backends without a faster way
    /// than grouping what [`MetricStore::find_series`] returns.
    async fn group_by_dimension(
        &self,
        _filter: &SeriesFilter,
        _key: &str,
    ) -> Result<Option<DimensionGroups>, StoreError> {
        Ok(None)
    }

    /// A number that changes whenever a series is added, so a caller can keep what it derived
    /// from [`MetricStore::find_series`] over [`TimeRange::ALL`] until it changes; `None`
    /// from backends that do not track it.
    fn series_generation(&self) -> Option<u64> {
        None
    }

    /// Figures for monitoring (the server's `/metrics`); `None` from engines that keep none.
    fn stats(&self) -> Option<StoreStats> {
        None
    }

    /// False once the backend refuses writes (a failed disk, say); the health check reports it.
    fn is_healthy(&self) -> bool {
        true
    }

    /// Makes everything written so far durable and stops background work. Writes after
    /// `close` fail.
    async fn close(&self) -> Result<(), StoreError>;
}
