//! Vigil's [`MetricStore`] over ClickHouse (`vigil serve --metric-store clickhouse`), spoken
//! to over its HTTP interface with `reqwest` (rustls on ring).
//!
//! ```no_run
//! # async fn demo() -> Result<(), metric_store::StoreError> {
//! use metric_store::{MetricStore, SeriesFilter, TimeRange};
//! use metric_store_clickhouse::{ClickHouseOptions, ClickHouseStore};
//! let store = ClickHouseStore::open(ClickHouseOptions::default()).await?;
//! let series = store.find_series(&SeriesFilter::tenant("acme"), TimeRange::ALL).await?;
//! # Ok(()) }
//! ```
//!
//! # Schema
//! - `series (tenant, name, dim_keys Array(String), dim_values Array(String), sid, ver)`:
//!   one row per series (dimensions as key-sorted parallel arrays: 18.16 has no `Map`),
//!   `ReplacingMergeTree(ver)` ordered by `(tenant, name, sid)`, so a lookup by tenant and
//!   metric name reads a key range and dimension filters (`has`, `indexOf`) run on it.
//!   `sid` is a SHA-256 prefix of the series key, the same on every node.
//! - `points (tenant, sid, ts Int64 ms, value, value_meta, ver)`: `ReplacingMergeTree(ver)`
//!   ordered by `(tenant, sid, ts)`, partitioned by UTC month of `ts`. A point written twice
//!   is kept once (the higher `ver`, a write-time nanosecond clock, wins): readers take
//!   `argMax(value, ver)` grouped by `(sid, ts)`, so the answer does not depend on whether
//!   ClickHouse has merged the duplicates yet. `value_meta` is the JSON text, `''` for none.
//! - Statistics are computed by ClickHouse: points deduplicated, bucketed by
//!   `ts - ((ts % period) + period) % period` (epoch-aligned, as InfluxDB did for Monasca) and
//!   grouped by bucket, and for `group_by` pages by bucket and group (an external table maps
//!   series to groups); Vigil receives one row per bucket.
//! - With `cluster`, those are `series_local`/`points_local` on every shard
//!   (`ReplicatedReplacingMergeTree` when `replicated`) under `Distributed` tables sharded by
//!   `sid`, so one series' rows and points share a shard and the subqueries that join them
//!   read the local tables. Vigil creates them on every server of `urls` (which must list the
//!   whole cluster) rather than `ON CLUSTER`, which would need ZooKeeper even without replicas.
//! - Every statement filters on the tenant: series by their `tenant` column, points by
//!   `(tenant, sid)` pairs (the store remembers the tenant of every id it handed out).
//!
//! # What 18.16 lacks, and what was chosen instead
//! No `Map` (dimensions are two sorted arrays), no query parameters (external tables, below),
//! no `DateTime64` (timestamps are `Int64` milliseconds; the partition key derives the UTC
//! month), no table `TTL` (retention drops partitions), no `LowCardinality` in this schema.
//! Settings newer releases need (`max_partitions_per_insert_block`, which would refuse one
//! write spread over more than 100 months) are sent only when `system.settings` lists them.
//! NaN and infinities are stored as such (binary) and read back as `"nan"`/`"inf"` strings
//! (`output_format_json_quote_denormals`, which both versions have).
//!
//! # Values never in SQL text
//! 18.16 has no query parameters. Strings reach ClickHouse only as rows: `RowBinary` (points,
//! length-prefixed, the cheapest to parse) and `JSONEachRow` (series) bodies for inserts and
//! `TabSeparated` external tables for queries (see [`http`](self)); the SQL
//! text holds only identifiers checked at start-up and Vigil's own integers.
//!
//! # Durability
//! [`MetricStore::write`] returns once ClickHouse answered 200 to the INSERT carrying the
//! samples: the rows are in a part on the server's disk (with a cluster, inserts are
//! synchronous to the shards; with `replicated` and `insert_quorum`, to that many replicas).
//! ClickHouse writes a part without `fsync` (18.16 has no `fsync_after_insert`), so an
//! acknowledged write survives a crash of the ClickHouse process (tested: `kill -9` and
//! restart) and of Vigil, but on one server not a power loss of its host in the seconds after;
//! replicas with `insert_quorum` cover that. Concurrent writes are gathered into one INSERT
//! (group commit). Rows of one INSERT are atomic per month partition; the series rows are
//! inserted before the points. A request that got no answer is sent again (to the next URL):
//! every statement is idempotent. While no server answers, requests fail (the APIs answer
//! 503) and [`MetricStore::is_healthy`] is false (`/healthcheck` answers 503); the store
//! recovers by itself when a server answers again.
//!
//! # Retention
//! 18.16 has no table `TTL`, so with a retention the store drops whole month partitions that
//! lie wholly before it, hourly.

mod http;
mod options;
mod read;
mod schema;
pub mod testkit;
mod writer;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use metric_store::{
    Accumulator, Bucket, DimensionGroups, MetricStore, Point, Sample, SeriesFilter, SeriesId,
    SeriesInfo, SeriesKey, Stat, StoreError, TimeRange,
};
pub use options::ClickHouseOptions;
use tokio::sync::{mpsc, oneshot};
pub use writer::series_id;

use crate::{
    http::{External, Http},
    read::{BucketRow, GroupRow, PointRow, SeriesQuery, SeriesRow, SidTenant, Text, rows},
    schema::Tables,
    writer::{Job, Tenants},
};

/// The store: an HTTP client, the writer task and the tenant of each series id seen.
pub struct ClickHouseStore {
    http: Arc<Http>,
    tables: Tables,
    tenants: Tenants,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    retention_task: Option<tokio::task::JoinHandle<()>>,
    ping_task: tokio::task::JoinHandle<()>,
}

/// Series a query of [`MetricStore::each_series_points`] reads at once.
const EACH_SERIES_CHUNK: usize = 1000;

/// How often an idle store checks that a server answers (for `/healthcheck`).
const PING_EVERY: Duration = Duration::from_secs(3);

impl ClickHouseStore {
    /// Connects, creates the database and tables when missing and starts the writer (and,
    /// with a retention, the hourly partition drop).
    ///
    /// # Errors
    /// Invalid options, or ClickHouse unreachable or refusing the schema.
    pub async fn open(opts: ClickHouseOptions) -> Result<Self, StoreError> {
        let tables = Tables::new(&opts)?;
        let mut http = Http::new(&opts)?;
        http.adopt_newer_settings().await?;
        let http = Arc::new(http);
        tables.create(&http, &opts).await?;
        let tenants = Tenants::default();
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(writer::run(
            http.clone(),
            tables.clone(),
            tenants.clone(),
            opts.max_batch_rows.max(1),
            rx,
        ));
        let retention_task = opts.retention.map(|keep| {
            let (http, tables) = (http.clone(), tables.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    tick.tick().await;
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    let cutoff = now.saturating_sub(keep).as_millis() as i64;
                    match tables.drop_old_partitions(&http, cutoff).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(partitions = n, "dropped expired measurements"),
                        Err(e) => tracing::warn!(error = %e, "retention: cannot drop partitions"),
                    }
                }
            })
        });
        let ping_task = {
            let http = http.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(PING_EVERY).await;
                    http.ping().await;
                }
            })
        };
        Ok(Self {
            http,
            tables,
            tenants,
            writer: Mutex::new(Some(tx)),
            retention_task,
            ping_task,
        })
    }

    /// Drops the month partitions wholly before `cutoff_ms` now; how many.
    ///
    /// # Errors
    /// ClickHouse refused.
    pub async fn drop_expired(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        self.tables.drop_old_partitions(&self.http, cutoff_ms).await
    }

    fn remember(&self, tenant: &str, ids: impl Iterator<Item = SeriesId>) {
        let mut t = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let shared: Arc<str> = Arc::from(tenant);
        for id in ids {
            t.entry(id).or_insert_with(|| shared.clone());
        }
    }

    /// `(tenant, sid)` rows for `ids` (ids of no series are left out); from memory, asking
    /// ClickHouse only for ids this process has not seen (another node handed them out).
    async fn with_tenants(
        &self,
        ids: impl Iterator<Item = SeriesId>,
    ) -> Result<Vec<(Arc<str>, SeriesId)>, StoreError> {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        {
            let t = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                match t.get(&id) {
                    Some(tenant) => out.push((tenant.clone(), id)),
                    None => missing.push(id),
                }
            }
        }
        if !missing.is_empty() {
            let mut ext = External::new("ids", "sid UInt64");
            for id in &missing {
                ext.row([id.to_string().as_str()]);
            }
            let sql = format!(
                "SELECT sid, any(tenant) AS t FROM {} WHERE sid IN (SELECT sid FROM ids) \
                 GROUP BY sid FORMAT JSONEachRow",
                self.tables.series
            );
            let found: Vec<SidTenant> = rows(&self.http.query(&sql, &[ext]).await?)?;
            for r in found {
                self.remember(&r.tenant, std::iter::once(r.sid));
                out.push((Arc::from(r.tenant.as_str()), r.sid));
            }
        }
        Ok(out)
    }

    /// Deduplicated points of `ids` in `range` after `after`, ordered by `order`.
    async fn points(
        &self,
        ids: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        order: &str,
        limit: usize,
    ) -> Result<Vec<PointRow>, StoreError> {
        let pairs = self.with_tenants(ids.iter().copied()).await?;
        if pairs.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut ext = External::new("ids", "tenant String, sid UInt64");
        for (tenant, id) in &pairs {
            ext.row([tenant.as_ref(), id.to_string().as_str()]);
        }
        let limit = if limit as u64 >= 1 << 62 {
            String::new()
        } else {
            format!(" LIMIT {limit}")
        };
        let sql = format!(
            "SELECT sid, ts, argMax(value, ver) AS v, argMax(value_meta, ver) AS m FROM {} WHERE (tenant, sid) IN (SELECT tenant, sid FROM ids){} GROUP BY sid, ts \
             ORDER BY {order}{limit} FORMAT JSONEachRow",
            self.tables.points,
            read::time_cond(range, after)
        );
        rows(&self.http.query(&sql, &[ext]).await?)
    }
}

fn to_point(r: PointRow) -> Point {
    Point {
        timestamp: r.ts,
        value: r.value,
        value_meta: (!r.value_meta.is_empty()).then(|| Arc::from(r.value_meta.as_str())),
    }
}

impl Drop for ClickHouseStore {
    fn drop(&mut self) {
        if let Some(t) = &self.retention_task {
            t.abort();
        }
        self.ping_task.abort();
    }
}

#[async_trait]
impl MetricStore for ClickHouseStore {
    async fn write(&self, samples: Vec<Sample>) -> Result<(), StoreError> {
        self.write_shared(Arc::new(samples)).await
    }

    async fn write_shared(&self, samples: Arc<Vec<Sample>>) -> Result<(), StoreError> {
        let tx = self
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::Closed)?;
        if samples.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        tx.send(Job { samples, done })
            .await
            .map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    async fn find_series(
        &self,
        filter: &SeriesFilter,
        range: TimeRange,
    ) -> Result<Vec<SeriesInfo>, StoreError> {
        let mut q = SeriesQuery::new(filter, true);
        q.with_points_in(range, &self.tables);
        let sql = format!(
            "SELECT sid, any(name) AS n, any(dim_keys) AS dk, any(dim_values) AS dv FROM {} WHERE {} GROUP BY sid FORMAT JSONEachRow",
            self.tables.series, q.cond
        );
        let found: Vec<SeriesRow> = rows(&self.http.query(&sql, &[q.f]).await?)?;
        self.remember(&filter.tenant, found.iter().map(|r| r.sid));
        let mut out: Vec<SeriesInfo> = found
            .into_iter()
            .map(|r| SeriesInfo {
                id: r.sid,
                key: SeriesKey {
                    tenant: filter.tenant.clone(),
                    name: r.name,
                    dimensions: r.dim_keys.into_iter().zip(r.dim_values).collect(),
                },
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
        let found = self.points(series, range, after, "ts, sid", limit).await?;
        Ok(found.into_iter().map(to_point).collect())
    }

    async fn each_series_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        f: &mut (dyn FnMut(SeriesId, Vec<Point>) -> bool + Send),
    ) -> Result<(), StoreError> {
        // A bounded number of series a query, so that memory holds one slice of them.
        for ids in series.chunks(EACH_SERIES_CHUNK) {
            let found = self.points(ids, range, None, "sid, ts", usize::MAX).await?;
            let mut iter = found.into_iter().peekable();
            while let Some(first) = iter.next() {
                let sid = first.sid;
                let mut pts = vec![to_point(first)];
                while let Some(p) = iter.next_if(|p| p.sid == sid) {
                    pts.push(to_point(p));
                }
                if !f(sid, pts) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    async fn aggregate_each(
        &self,
        groups: &[&[SeriesId]],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Vec<Bucket>>, StoreError> {
        let mut out = vec![Vec::new(); groups.len()];
        let distinct: HashSet<SeriesId> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        let pairs = self.with_tenants(distinct.into_iter()).await?;
        if pairs.is_empty() {
            return Ok(out);
        }
        let tenant_of: std::collections::HashMap<SeriesId, &str> =
            pairs.iter().map(|(t, id)| (*id, t.as_ref())).collect();
        let mut ext = External::new("g", "grp UInt32, tenant String, sid UInt64");
        for (i, g) in groups.iter().enumerate() {
            for id in g.iter() {
                if let Some(t) = tenant_of.get(id) {
                    ext.row([i.to_string().as_str(), t, id.to_string().as_str()]);
                }
            }
        }
        // As an Int64 literal: 18.16 types `Int64 % 60000` as the divisor's width (Int16),
        // which wraps remainders of periods of 128..255 and 32,768..65,535 ms (60 s!).
        let p = format!("toInt64({})", period_ms.max(1));
        let sql = format!(
            "SELECT grp, b, count() AS c, sum(v) AS s, min(v) AS mn, max(v) AS mx FROM (\
             SELECT sid, ts - (((ts % {p}) + {p}) % {p}) AS b, argMax(value, ver) AS v FROM {} \
             WHERE (tenant, sid) IN (SELECT tenant, sid FROM g){} GROUP BY sid, ts) \
             ALL INNER JOIN (SELECT grp, sid FROM g) USING sid \
             GROUP BY grp, b ORDER BY grp, b FORMAT JSONEachRow",
            self.tables.points,
            read::time_cond(range, None)
        );
        let found: Vec<BucketRow> = rows(&self.http.query(&sql, &[ext]).await?)?;
        for r in found {
            let acc = Accumulator {
                count: r.c,
                sum: r.s,
                min: r.mn,
                max: r.mx,
            };
            if let Some(g) = out.get_mut(r.grp as usize) {
                g.push(Bucket {
                    start: r.b,
                    values: stats.iter().map(|s| acc.get(*s)).collect(),
                });
            }
        }
        Ok(out)
    }

    async fn metric_names(&self, filter: &SeriesFilter) -> Result<Vec<String>, StoreError> {
        let q = SeriesQuery::new(filter, false);
        let sql = format!(
            "SELECT DISTINCT name AS v FROM {} WHERE {} FORMAT JSONEachRow",
            self.tables.series, q.cond
        );
        texts(rows(&self.http.query(&sql, &[q.f]).await?)?)
    }

    async fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let mut q = SeriesQuery::tenant(tenant, metric);
        q.with_points_in(range, &self.tables);
        let sql = format!(
            "SELECT DISTINCT arrayJoin(dim_keys) AS v FROM {} WHERE {} FORMAT JSONEachRow",
            self.tables.series, q.cond
        );
        texts(rows(&self.http.query(&sql, &[q.f]).await?)?)
    }

    async fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let mut q = SeriesQuery::tenant(tenant, metric);
        let (_, key_set) = q.key_and_set(key);
        q.with_points_in(range, &self.tables);
        let sql = format!(
            "SELECT DISTINCT v FROM {} ARRAY JOIN dim_keys AS k, dim_values AS v \
             WHERE {} AND k IN {key_set} FORMAT JSONEachRow",
            self.tables.series, q.cond
        );
        texts(rows(&self.http.query(&sql, &[q.f]).await?)?)
    }

    async fn group_by_dimension(
        &self,
        filter: &SeriesFilter,
        key: &str,
    ) -> Result<Option<DimensionGroups>, StoreError> {
        let mut q = SeriesQuery::new(filter, true);
        let (key, key_set) = q.key_and_set(key);
        // The series with the dimension, grouped by its value; then those without it (one
        // row, maybe with no ids).
        let sql = format!(
            "SELECT toUInt8(1) AS present, v AS value, arraySort(groupUniqArray(sid)) AS ids \
             FROM {series} ARRAY JOIN dim_keys AS k, dim_values AS v \
             WHERE {cond} AND k IN {key_set} GROUP BY v \
             UNION ALL \
             SELECT toUInt8(0) AS present, '' AS value, arraySort(groupUniqArray(sid)) AS ids \
             FROM {series} WHERE {cond} AND NOT has(dim_keys, {key}) FORMAT JSONEachRow",
            series = self.tables.series,
            cond = q.cond
        );
        let found: Vec<GroupRow> = rows(&self.http.query(&sql, &[q.f]).await?)?;
        self.remember(
            &filter.tenant,
            found.iter().flat_map(|g| g.ids.iter().copied()),
        );
        let mut groups = DimensionGroups::default();
        for g in found {
            groups.push((g.present != 0).then(|| Arc::from(g.value)), g.ids);
        }
        // ClickHouse compares strings bytewise, as Rust does; sorted again to be sure.
        groups.sort_by_value();
        Ok(Some(groups))
    }

    /// False while no ClickHouse server answers (checked by every request and every few
    /// seconds when idle): `/healthcheck` then says so, and a load balancer moves on.
    fn is_healthy(&self) -> bool {
        self.http.is_reachable()
    }

    async fn close(&self) -> Result<(), StoreError> {
        // Queued writes still go: the writer ends once its queue is empty.
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        Ok(())
    }
}

fn texts(found: Vec<Text>) -> Result<Vec<String>, StoreError> {
    let mut v: Vec<String> = found.into_iter().map(|t| t.v).collect();
    v.sort();
    v.dedup();
    Ok(v)
}
