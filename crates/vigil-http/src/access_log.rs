//! One INFO line per answered request under the `access` log target: method, route pattern,
//! status, duration and, when the API resolved one, the tenant. Never the token, the query
//! string or the raw path (ids and names stay out of the log, as in the metrics).
//!
//! Written by [`crate::telemetry::track`], which also counts the request. Turned off with the
//! log filter, e.g. `VIGIL_LOG=info,access=off`.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::{extract::Request, http::request::Parts};

/// Where an API's authentication records whose request this is, for the access log.
#[derive(Clone, Default)]
pub struct TenantSlot(Arc<OnceLock<String>>);

/// Records the tenant (project, team) a request acts for, if the access log asked for it.
pub fn record_tenant(parts: &Parts, tenant: &str) {
    if let Some(slot) = parts.extensions.get::<TenantSlot>() {
        let _ = slot.0.set(tenant.to_string());
    }
}

/// Whether access lines are wanted (the `access` target at INFO).
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "access", tracing::Level::INFO)
}

/// A fresh slot, put in the request's extensions for the API to fill.
pub(crate) fn slot_for(req: &mut Request) -> TenantSlot {
    let slot = TenantSlot::default();
    req.extensions_mut().insert(slot.clone());
    slot
}

/// Writes the access line of one answered request.
pub(crate) fn line(method: &str, route: &str, status: u16, started: Instant, slot: &TenantSlot) {
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "access",
        method = %method,
        route = %route,
        status,
        duration_ms = micros as f64 / 1000.0,
        tenant = slot.0.get().map(String::as_str).unwrap_or("-"),
        "request"
    );
}
