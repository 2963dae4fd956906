//! Dev-only test kit: the real `vigil` server in-process on `127.0.0.1:0` with a throwaway
//! data directory, our own clients pointed at it, a manual clock for the alarm engine, raw
//! HTTP for what a typed client will not send, and a runner for the CLI binaries.
//!
//! ```no_run
//! # async fn demo() {
//! let server = vigil_testkit::TestServer::start().await;
//! let monasca = server.monasca("my-project");
//! let sdc = server.sysdig(vigil_testkit::sysdig_creds::ADMIN_TOKEN);
//! # let _ = (monasca, sdc);
//! server.stop().await;
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;
mod http;

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

pub use alarm_engine::{Clock, EngineConfig, ManualClock};
pub use http::raw;
use monasca::types::Metric;
pub use vigil_server::{app::Running, config::Settings, identity::AuthMode};

/// 2026-01-01T00:00:00Z in epoch milliseconds.
pub const T0: i64 = 1_767_225_600_000;

/// Fixed Sysdig credentials every test server knows (`with_sysdig_creds`).
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

/// Settings for a server on an ephemeral loopback port over `dir`.
pub fn settings(dir: &Path) -> Settings {
    let mut s = Settings::with_data_dir(dir);
    s.bind = "127.0.0.1:0".parse().unwrap();
    s
}

/// Gives the server the fixed admin token and IBM API key of [`sysdig_creds`].
pub fn with_sysdig_creds(s: &mut Settings) {
    use sysdig_creds::{ADMIN, ADMIN_TOKEN, IBM_KEY};
    s.sysdig.admin_token = Some(secrecy::SecretString::from(ADMIN_TOKEN));
    s.sysdig.iam_api_keys = vec![sysdig_api::settings::IamApiKey {
        api_key: secrecy::SecretString::from(IBM_KEY),
        user: ADMIN.into(),
    }];
}

/// An alarm engine that decides on arrival (metrics reach it before the request returns, so
/// tests need not poll) and ticks every `tick`.
pub fn inline_engine(tick: Duration) -> EngineConfig {
    EngineConfig {
        delay_s: 30,
        tick,
        inline: true,
    }
}

/// The real server, running until [`TestServer::stop`] (or dropped with the test).
pub struct TestServer {
    pub running: Running,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// Default settings on a fresh directory.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Settings changed by `tweak` on a fresh directory.
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), tweak).await
    }

    /// Settings changed by `tweak` over `dir` (a restart passes the previous directory).
    pub async fn start_in(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut s = settings(dir.path());
        tweak(&mut s);
        let running = Running::start(s).await.unwrap();
        Self { running, dir }
    }

    /// [`TestServer::start_in`] with the alarm engine reading `clock`.
    pub async fn start_with_clock(
        dir: tempfile::TempDir,
        clock: Arc<dyn Clock>,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut s = settings(dir.path());
        tweak(&mut s);
        let running = Running::start_with_clock(s, clock).await.unwrap();
        Self { running, dir }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// A Monasca client for `tenant` (without Keystone the token names the project).
    pub fn monasca(&self, tenant: &str) -> monasca::Client {
        Self::monasca_at(&self.url(), tenant)
    }

    /// A Monasca client for `tenant` of the server at `url`.
    pub fn monasca_at(url: &str, tenant: &str) -> monasca::Client {
        monasca::Client::builder(format!("{url}/v2.0"))
            .token(tenant)
            .build()
            .unwrap()
    }

    /// A Sysdig client with `token`; the process environment is not consulted, no retries.
    pub fn sysdig(&self, token: &str) -> sysdig::Client {
        sysdig::Client::builder()
            .use_env(false)
            .url(self.url())
            .token(token)
            .retry(sysdig::RetryPolicy::none())
            .timeout(Some(Duration::from_secs(30)))
            .build()
            .unwrap()
    }

    /// An IBM Cloud Monitoring client whose IAM is the server itself.
    pub fn ibm(&self, team: Option<u64>) -> sysdig::Client {
        let mut b = sysdig::Client::builder()
            .use_env(false)
            .url(format!("{}/api", self.url()))
            .ibm_iam(sysdig_creds::IBM_KEY, sysdig_creds::INSTANCE)
            .ibm_iam_url(self.url());
        if let Some(t) = team {
            b = b.team_id(t);
        }
        b.build().unwrap()
    }

    /// Graceful stop; the data directory stays for a restart.
    pub async fn stop(self) -> tempfile::TempDir {
        self.running.stop().await.unwrap();
        self.dir
    }
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
