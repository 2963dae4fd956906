//! The server's own Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format.
//!
//! Request counts and latency histograms per route (the matched route pattern, never the raw
//! path, so ids and names cannot blow up the label set), and points ingested.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
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
        Self {
            registry,
            requests,
            latency,
            points,
        }
    }

    pub fn ingested(&self, points: usize) {
        self.points.inc_by(points as u64);
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
