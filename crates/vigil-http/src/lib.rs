//! What every Vigil HTTP API shares, whatever API it emulates: request telemetry, the
//! `GET /metrics` endpoint (with `process_*` figures) and the access log. Error shapes stay in each API crate (each emulates its own).
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use vigil_http::telemetry::{Telemetry, scrape, track};
//!
//! let mut telemetry = Telemetry::new();
//! let points = telemetry.counter("ingested_points", "Measurements acknowledged");
//! points.inc();
//! let telemetry = Arc::new(telemetry);
//! let app: Router = Router::new()
//!     .route("/metrics", get(scrape))
//!     .route_layer(axum::middleware::from_fn_with_state(telemetry.clone(), track))
//!     .with_state(telemetry);
//! ```

pub mod access_log;
pub mod process_metrics;
pub mod telemetry;

/// Compares two secrets (tokens, passwords, API keys) without stopping at the first differing
/// byte, so the time taken says nothing about how much of a guess was right.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn compares_whole_secrets() {
        assert!(same_secret("key-1", "key-1"));
        assert!(!same_secret("key-1", "key-2"));
        assert!(!same_secret("key-1", "key-10"));
        assert!(!same_secret("", "x"));
    }
}
