//! The server's own Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format.
//!
//! Request counts and latency histograms per route (the matched route pattern, never the raw
//! path, so ids and names cannot blow up the label set), points ingested, and the store's own
//! figures, read when scraped.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::app::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    method: String,
    route: String,
    status: u16,
}

/// What the server counts; cheap to update from every request (atomics, no locks once a
/// label set exists).
pub struct Telemetry {
    registry: Registry,
    requests: Family<StatusLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    points: Counter,
    store: StoreGauges,
}

/// Copies of [`metric_store::StoreStats`], refreshed at each scrape. The store's running totals
/// are exposed as gauges: they restart from zero with the process, as the store's do.
#[derive(Default)]
struct StoreGauges {
    series: Gauge,
    head_series: Gauge,
    head_points: Gauge,
    blocks: Gauge,
    block_points: Gauge,
    wal_bytes: Gauge,
    disk_bytes: Gauge,
    merge_backlog: Gauge,
    seals: Gauge,
    merges: Gauge,
    dropped_by_retention: Gauge,
    quarantined: Gauge,
    wal_fsyncs: Gauge,
    wal_fsync_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    index_bytes: Gauge,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vigil");
        let requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern and status",
            requests.clone(),
        );
        // 0.1 ms .. ~13 s: reads of one series take well under a millisecond.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.0001, 2.0, 18,
            ))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response headers, by route pattern",
            latency.clone(),
        );
        let points = Counter::default();
        registry.register(
            "ingested_points",
            "Measurements acknowledged by POST /v2.0/metrics",
            points.clone(),
        );
        let store = StoreGauges::default();
        let sub = registry.sub_registry_with_prefix("store");
        for (name, help, g) in [
            ("series", "Series known to the store", &store.series),
            (
                "head_series",
                "Series with points in memory",
                &store.head_series,
            ),
            (
                "head_points",
                "Points in memory, not yet sealed into blocks",
                &store.head_points,
            ),
            (
                "blocks",
                "Immutable compressed blocks on disk",
                &store.blocks,
            ),
            ("block_points", "Points in blocks", &store.block_points),
            (
                "wal_bytes",
                "Bytes of write-ahead log on disk",
                &store.wal_bytes,
            ),
            (
                "disk_bytes",
                "Bytes of every file of the store",
                &store.disk_bytes,
            ),
            (
                "merge_backlog",
                "Partitions waiting for a merge",
                &store.merge_backlog,
            ),
            (
                "seals",
                "Heads sealed into blocks since start",
                &store.seals,
            ),
            ("merges", "Block merges since start", &store.merges),
            (
                "blocks_dropped_by_retention",
                "Blocks deleted by the retention period since start",
                &store.dropped_by_retention,
            ),
            (
                "blocks_quarantined",
                "Damaged blocks set aside since start",
                &store.quarantined,
            ),
            (
                "wal_fsyncs",
                "Write-ahead log fsyncs (one per group commit) since start",
                &store.wal_fsyncs,
            ),
            (
                "index_bytes",
                "Estimated memory of the series index",
                &store.index_bytes,
            ),
        ] {
            sub.register(name, help, g.clone());
        }
        sub.register(
            "wal_fsync_seconds",
            "Time spent in write-ahead log fsyncs since start",
            store.wal_fsync_seconds.clone(),
        );
        Self {
            registry,
            store,
            requests,
            latency,
            points,
        }
    }

    pub fn ingested(&self, points: usize) {
        self.points.inc_by(points as u64);
    }

    fn refresh(&self, st: &metric_store::StoreStats) {
        let g = &self.store;
        for (gauge, v) in [
            (&g.series, st.series),
            (&g.head_series, st.head_series),
            (&g.head_points, st.head_points),
            (&g.blocks, st.blocks),
            (&g.block_points, st.block_points),
            (&g.wal_bytes, st.wal_bytes),
            (&g.disk_bytes, st.disk_bytes),
            (&g.merge_backlog, st.merge_backlog),
            (&g.seals, st.seals),
            (&g.merges, st.merges),
            (&g.dropped_by_retention, st.blocks_dropped_by_retention),
            (&g.quarantined, st.blocks_quarantined),
            (&g.wal_fsyncs, st.wal_fsyncs),
            (&g.index_bytes, st.index_bytes),
        ] {
            gauge.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        g.wal_fsync_seconds.set(st.wal_fsync_seconds_sum);
    }

    fn observe(&self, method: &str, route: &str, status: StatusCode, started: Instant) {
        let labels = RouteLabels {
            method: method.to_string(),
            route: route.to_string(),
        };
        self.latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        self.requests
            .get_or_create(&StatusLabels {
                method: labels.method,
                route: labels.route,
                status: status.as_u16(),
            })
            .inc();
    }
}

/// Middleware: counts and times every request under its route pattern.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    // Unmatched paths share one label so a scan of random URLs adds one series, not many.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    state
        .telemetry
        .observe(&method, &route, res.status(), started);
    res
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let t: &Arc<Telemetry> = &state.telemetry;
    if let Some(stats) = state.store.stats() {
        t.refresh(&stats);
    }
    let mut out = String::new();
    match encode(&mut out, &t.registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            out,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
