//! The real `monasca` binary against a real `vigil serve` process of the shared test kit.

pub use vigil_testkit::cli::Out;
use vigil_testkit::process::{Config, VigilProcess, vigil_next_to};

pub struct Env {
    pub server: VigilProcess,
}

impl Env {
    async fn with(config: Config) -> Self {
        let bin = vigil_next_to(env!("CARGO_BIN_EXE_monasca"));
        Self {
            server: VigilProcess::start(&bin, &config).await,
        }
    }

    pub async fn start() -> Self {
        Self::with(Config::default()).await
    }

    /// A server whose requests are authenticated by its built-in Keystone v3 subset
    /// (`vigil serve --auth identity`, at `/identity`, with the default users `mini-mon` and
    /// `monasca-agent`, password `password`).
    pub async fn start_identity() -> Self {
        Self::with(Config::default().identity()).await
    }

    /// A server whose threshold engine reads a clock that stands still at `ms`, so that alarm
    /// timestamps are fixed and no period ever closes during a test. Incoming metrics still
    /// create alarms and decide what they can at once (`max(x) > 90` with 95 is ALARM); the
    /// periodic re-evaluation, which would also undo a state set with alarm-update within a
    /// tick, does not run during a test.
    pub async fn start_at(ms: i64) -> Self {
        Self::with(Config::default().frozen_clock(ms)).await
    }

    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn run_as(&self, tenant: &str, args: &[&str]) -> Out {
        let url = format!("{}/v2.0", self.server.url());
        let env = [("MONASCA_API_URL", url.as_str()), ("OS_AUTH_TOKEN", tenant)];
        vigil_testkit::cli::run(env!("CARGO_BIN_EXE_monasca"), &env, args).await
    }

    pub async fn run(&self, args: &[&str]) -> Out {
        self.run_as("acme", args).await
    }

    /// Runs a command that must succeed silently on stderr; returns its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        self.run(args).await.ok(args)
    }

    /// Runs a command that must fail with `code` and exactly one line on stderr; returns it.
    pub async fn fails(&self, code: i32, args: &[&str]) -> String {
        let o = self.run(args).await;
        o.failed(code, args);
        o.stderr
    }

    /// Runs a command and parses its stdout as JSON.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }
}
