//! The server's own Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format.
//!
//! Request counts and latency histograms per route (the matched route pattern, never the raw
//! path, so ids and names cannot blow up the label set). Other parts of the server register
//! their own figures in the same registry before serving, and may refresh them at each scrape.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{family::Family, histogram::Histogram},
};
pub use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    method: String,
    route: String,
    status: u16,
}

/// Brings `counter` up to `total`, a running total kept elsewhere and copied at each scrape
/// (a counter only goes up: what the total gained since the last scrape is added).
pub fn count_up_to(counter: &Counter, total: u64) {
    counter.inc_by(total.saturating_sub(counter.get()));
}

/// [`count_up_to`] for a total in seconds.
pub fn count_seconds_up_to(counter: &Counter<f64, std::sync::atomic::AtomicU64>, total: f64) {
    let gained = total - counter.get();
    if gained > 0.0 {
        counter.inc_by(gained);
    }
}

/// Work run before each scrape, to copy figures kept elsewhere into the registry.
type ScrapeHook = Box<dyn Fn() + Send + Sync>;

/// What the server counts; cheap to update from every request (atomics, no locks once a
/// label set exists). Built mutable, then shared behind an `Arc`.
pub struct Telemetry {
    /// Unprefixed: the `process_*` figures are named the same by every exporter.
    root: Registry,
    registry: Registry,
    requests: Family<StatusLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    before_scrape: Vec<ScrapeHook>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// A registry with the `vigil_` prefix and the request figures.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vigil");
        let info = Family::<BuildLabels, Gauge>::default();
        info.get_or_create(&BuildLabels {
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
        .set(1);
        registry.register("build_info", "The version of Vigil serving", info);
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
        Self {
            root: Registry::default(),
            registry,
            requests,
            latency,
            before_scrape: Vec::new(),
        }
    }

    /// The registry without the `vigil_` prefix (for conventional names such as `process_*`).
    pub fn root_registry_mut(&mut self) -> &mut Registry {
        &mut self.root
    }

    /// The registry, to add figures to before serving.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Registers a counter named `vigil_{name}` and returns a handle to it.
    pub fn counter(&mut self, name: &str, help: &str) -> Counter {
        let c = Counter::default();
        self.registry.register(name, help, c.clone());
        c
    }

    /// Runs `hook` before every scrape (figures read from elsewhere when asked for).
    pub fn before_scrape(&mut self, hook: impl Fn() + Send + Sync + 'static) {
        self.before_scrape.push(Box::new(hook));
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

    /// The registry in the OpenMetrics text format, after the scrape hooks ran.
    ///
    /// # Errors
    /// A metric cannot be encoded.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        for hook in &self.before_scrape {
            hook();
        }
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        // Both registries in one exposition: drop the first one's `# EOF` terminator.
        let mut rest = String::new();
        encode(&mut rest, &self.root)?;
        if let Some(body) = out.strip_suffix("# EOF\n") {
            out.truncate(body.len());
        }
        out.push_str(&rest);
        Ok(out)
    }
}

/// Middleware: counts and times every request under its route pattern, and writes its access
/// line ([`crate::access_log`]); one pass over the request for both.
pub async fn track(State(t): State<Arc<Telemetry>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // Unmatched paths share one label so a scan of random URLs adds one series, not many.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let slot = crate::access_log::enabled().then(|| crate::access_log::slot_for(&mut req));
    let res = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    t.observe(method.as_str(), route, res.status(), started);
    if let Some(slot) = slot {
        crate::access_log::line(
            method.as_str(),
            route,
            res.status().as_u16(),
            started,
            &slot,
        );
    }
    res
}

/// `GET /metrics`.
pub async fn scrape(State(t): State<Arc<Telemetry>>) -> Response {
    match t.encode() {
        Ok(out) => (
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicU64, Ordering};

    use axum::{Router, body::Body, routing::get};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn counts_requests_by_route_pattern_and_runs_hooks() {
        let mut t = Telemetry::new();
        let g = Gauge::<i64>::default();
        t.registry_mut().register("things", "Things", g.clone());
        let runs = Arc::new(AtomicU64::new(0));
        let r = runs.clone();
        t.before_scrape(move || {
            g.set(i64::try_from(r.fetch_add(1, Ordering::Relaxed) + 1).unwrap_or(0));
        });
        let t = Arc::new(t);
        let app = Router::new()
            .route("/items/{id}", get(|| async { "x" }))
            .route("/metrics", get(scrape))
            .route_layer(axum::middleware::from_fn_with_state(t.clone(), track))
            .with_state(t);
        for id in ["1", "2"] {
            let req = Request::get(format!("/items/{id}"))
                .body(Body::empty())
                .unwrap();
            assert_eq!(app.clone().oneshot(req).await.unwrap().status(), 200);
        }
        let req = Request::get("/metrics").body(Body::empty()).unwrap();
        let body = app.oneshot(req).await.unwrap().into_body();
        let text =
            String::from_utf8(axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(
            text.contains(
                r#"vigil_http_requests_total{method="GET",route="/items/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains("vigil_things 1"), "{text}");
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }
}
