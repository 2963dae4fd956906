//! Dev-only test kit for suites that drive Vigil from outside: a real `vigil serve` process on
//! `127.0.0.1` with a throwaway data directory and its settings in a written config file
//! ([`process`]), our own clients pointed at a URL ([`clients`]), raw HTTP for what a typed
//! client will not send, a runner for the CLI binaries ([`cli`]) and a reader of their
//! `--plot` charts ([`chart`]).
//!
//! It does not link the server: a change to a handler relinks `vigil` and the server's own
//! tests, not every suite that uses this kit. The server's tests keep their in-process kit
//! (`crates/vigil-server/tests/kit.rs`).
//!
//! ```no_run
//! # async fn demo() {
//! use vigil_testkit::process::{Config, VigilProcess};
//! // In a CLI crate's tests: `vigil_next_to(env!("CARGO_BIN_EXE_monasca"))`.
//! let bin = vigil_testkit::process::vigil_next_to("target/debug/monasca");
//! let server = VigilProcess::start(&bin, &Config::default().sysdig_creds()).await;
//! let monasca = server.monasca("my-project");
//! let sdc = server.sysdig(vigil_testkit::sysdig_creds::ADMIN_TOKEN);
//! # let _ = (monasca, sdc);
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod backends;
pub mod chart;
pub mod cli;
pub mod clients;
mod http;
pub mod process;
pub mod receiver;

use std::collections::BTreeMap;

pub use http::raw;
use monasca::types::Metric;

/// 2026-01-01T00:00:00Z in epoch milliseconds.
pub const T0: i64 = 1_767_225_600_000;

/// Fixed Sysdig credentials a test server can be given.
pub mod sysdig_creds {
    /// The admin user (team "Monitor Operations").
    pub const ADMIN: &str = "admin@vigil.local";
    /// The admin's Monitor API token.
    pub const ADMIN_TOKEN: &str = "6f1c1a3e-8d0b-4a53-9b43-1d3c1d1f0a01";
    /// An IBM IAM API key of the admin.
    pub const IBM_KEY: &str = "ibm-api-key-for-tests";
    /// The IBM instance id (`IBMInstanceID`).
    pub const INSTANCE: &str = "vigil-local";
}

/// A metric with `dims` at `ts` (epoch ms).
pub fn metric(name: &str, dims: &[(&str, &str)], ts: i64, value: f64) -> Metric {
    Metric {
        name: name.into(),
        dimensions: dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        timestamp: ts as f64,
        value,
        value_meta: None,
    }
}
