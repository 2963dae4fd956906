//! The in-process half of the test kit, for this suite only: the real server in a task on
//! `127.0.0.1:0` (`Running`) with a throwaway data directory, settings changed in code, and a
//! manual clock for the threshold engine. What suites outside the server also use (clients,
//! raw HTTP, the CLI runner, fixed Sysdig credentials) comes from `vigil-testkit`, which
//! starts `vigil serve` as a process instead.

use std::{path::Path, sync::Arc, time::Duration};

pub use alarm_engine::{Clock, EngineConfig, ManualClock};
pub use vigil_server::{app::Running, config::Settings};
pub use vigil_testkit::{T0, clients, metric, raw, sysdig_creds};

/// Settings for a server on an ephemeral loopback port over `dir`. With
/// `VIGIL_TEST_CONFIG_DB=postgres` the configuration lives in a PostgreSQL database of a
/// throwaway server (one database per data directory, so a restart finds its data): the whole
/// suite then runs against that backend.
pub fn settings(dir: &Path) -> Settings {
    let mut s = Settings::with_data_dir(dir);
    s.bind = "127.0.0.1:0".parse().unwrap();
    use_clickhouse_if_asked(&mut s, dir);
    if on_postgres() {
        s.config_db = postgres_for(dir);
    }
    // An SMTP server, so EMAIL methods are accepted; nobody listens on the discard port, so
    // mail is tried and retried but never leaves the machine.
    s.notifications.email = Some(notification_engine::EmailSettings {
        server: "127.0.0.1".into(),
        port: 9,
        security: Default::default(),
        user: None,
        password: None,
        from_addr: "vigil@localhost".into(),
        timeout_ms: 1000,
        grafana_url: None,
    });
    s
}

/// With `VIGIL_TEST_CLICKHOUSE_URL` set (`.ci/run` starts a throwaway ClickHouse and runs
/// the suite again), measurements go to ClickHouse instead of the embedded store: a database
/// of the test's own, named in `dir` so that a restart over `dir` finds its data again. The
/// variable may list several servers (comma-separated), the shards of the cluster
/// `VIGIL_TEST_CLICKHOUSE_CLUSTER`.
fn use_clickhouse_if_asked(s: &mut Settings, dir: &Path) {
    let Ok(url) = std::env::var("VIGIL_TEST_CLICKHOUSE_URL") else {
        return;
    };
    let name_file = dir.join("clickhouse-database");
    let database = std::fs::read_to_string(&name_file).unwrap_or_else(|_| {
        let name = format!("vigil_test_{}", uuid::Uuid::new_v4().simple());
        std::fs::write(&name_file, &name).unwrap();
        name
    });
    s.metric_store = vigil_server::config::MetricStoreKind::ClickHouse;
    s.clickhouse.urls = url.split(',').map(str::to_string).collect();
    s.clickhouse.database = database;
    s.clickhouse.cluster = std::env::var("VIGIL_TEST_CLICKHOUSE_CLUSTER").ok();
}

/// Whether this run keeps measurements in the embedded store (not ClickHouse).
pub fn embedded_store() -> bool {
    std::env::var_os("VIGIL_TEST_CLICKHOUSE_URL").is_none()
}

/// Whether this run keeps the configuration in PostgreSQL (`VIGIL_TEST_CONFIG_DB=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("VIGIL_TEST_CONFIG_DB").is_ok_and(|v| v == "postgres")
}

/// The PostgreSQL database of data directory `dir`, created on first use.
fn postgres_for(dir: &Path) -> vigil_server::config::ConfigDb {
    static DATABASES: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    let mut known = DATABASES.lock().unwrap();
    let url = match known.iter().find(|(d, _)| d == dir) {
        Some((_, url)) => url.clone(),
        None => {
            let url = config_repo_postgres::testing::fresh_database();
            known.push((dir.to_path_buf(), url.clone()));
            url
        }
    };
    vigil_server::config::ConfigDb::Postgres(Box::new(
        config_repo_postgres::PgSettings::parse(&url).unwrap(),
    ))
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

/// The real server, running until its `running` is stopped (or dropped with the test).
pub struct TestServer {
    pub running: Running,
    pub dir: tempfile::TempDir,
}

impl TestServer {
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
        clients::monasca(&self.url(), tenant)
    }

    /// Graceful stop; the data directory goes with the returned value.
    pub async fn stop(self) -> tempfile::TempDir {
        self.running.stop().await.unwrap();
        self.dir
    }

    /// A Monasca client for `tenant` of the server at `url`.
    pub fn monasca_at(url: &str, tenant: &str) -> monasca::Client {
        clients::monasca(url, tenant)
    }

    /// A Sysdig client with `token`; the process environment is not consulted, no retries.
    pub fn sysdig(&self, token: &str) -> sysdig::Client {
        clients::sysdig(&self.url(), token)
    }

    /// An IBM Cloud Monitoring client whose IAM is the server itself.
    pub fn ibm(&self, team: Option<u64>) -> sysdig::Client {
        clients::ibm(&self.url(), team)
    }
}
