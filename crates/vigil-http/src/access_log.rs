//! One INFO line per answered request under the `access` log target: method, route pattern,
//! status, duration and, when the API resolved one, the tenant. Never the token, the query
//! string or the raw path (ids and names stay out of the log, as in the metrics).
//!
//! Turned off with the log filter, e.g. `VIGIL_LOG=info,access=off`.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request},
    http::request::Parts,
    middleware::Next,
    response::Response,
};

/// Where an API's authentication records whose request this is, for the access log.
#[derive(Clone, Default)]
pub struct TenantSlot(Arc<OnceLock<String>>);

/// Records the tenant (project, team) a request acts for, if the access log asked for it.
pub fn record_tenant(parts: &Parts, tenant: &str) {
    if let Some(slot) = parts.extensions.get::<TenantSlot>() {
        let _ = slot.0.set(tenant.to_string());
    }
}

/// Middleware: logs each request once its response headers are ready.
pub async fn access_log(mut req: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "access", tracing::Level::INFO) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let slot = TenantSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "access",
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        duration_ms = micros as f64 / 1000.0,
        tenant = slot.0.get().map(String::as_str).unwrap_or("-"),
        "request"
    );
    res
}
