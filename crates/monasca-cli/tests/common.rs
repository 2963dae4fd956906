//! The harness: the real server in-process on 127.0.0.1:0, the real `monasca` binary against it.

use std::{process::Command, sync::Arc, time::Duration};

use alarm_engine::{EngineConfig, ManualClock};
use vigil_server::{app::Running, config::Settings};

pub struct Env {
    pub server: Running,
    _dir: tempfile::TempDir,
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn settings(dir: &tempfile::TempDir) -> Settings {
    let mut s = Settings::with_data_dir(dir.path());
    s.bind = "127.0.0.1:0".parse().unwrap();
    s
}

impl Env {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            server: Running::start(settings(&dir)).await.unwrap(),
            _dir: dir,
        }
    }

    /// A server whose requests are authenticated by its built-in Keystone v3 subset
    /// (`vigil serve --auth identity`, at `/identity`, with the default users `mini-mon` and
    /// `monasca-agent`, password `password`).
    pub async fn start_identity() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(&dir);
        s.auth = vigil_server::identity::AuthMode::Identity;
        Self {
            server: Running::start(s).await.unwrap(),
            _dir: dir,
        }
    }

    /// A server whose threshold engine reads a clock that stands still at `ms`, so that alarm
    /// timestamps are fixed and no period ever closes during a test. Incoming metrics still
    /// create alarms and decide what they can at once (`max(x) > 90` with 95 is ALARM); the
    /// periodic re-evaluation, which would also undo a state set with alarm-update within a
    /// tick, does not run during a test.
    pub async fn start_at(ms: i64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(&dir);
        s.engine = EngineConfig {
            delay_s: 30,
            tick: Duration::from_secs(3600),
            // Metrics reach the engine before the CLI call returns, so tests need not poll.
            inline: true,
        };
        let clock = Arc::new(ManualClock::new(ms));
        Self {
            server: Running::start_with_clock(s, clock).await.unwrap(),
            _dir: dir,
        }
    }

    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn run_as(&self, tenant: &str, args: &[&str]) -> Out {
        let url = format!("{}/v2.0", self.server.url());
        let tenant = tenant.to_string();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let o = Command::new(env!("CARGO_BIN_EXE_monasca"))
                .args(&args)
                .env_clear()
                .env("MONASCA_API_URL", url)
                .env("OS_AUTH_TOKEN", tenant)
                .output()
                .unwrap();
            Out {
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8(o.stdout).unwrap(),
                stderr: String::from_utf8(o.stderr).unwrap(),
            }
        })
        .await
        .unwrap()
    }

    pub async fn run(&self, args: &[&str]) -> Out {
        self.run_as("acme", args).await
    }

    /// Runs a command that must succeed silently on stderr; returns its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args).await;
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        assert!(o.stderr.is_empty(), "{args:?}: {}", o.stderr);
        o.stdout
    }

    /// Runs a command that must fail with `code` and exactly one line on stderr; returns it.
    pub async fn fails(&self, code: i32, args: &[&str]) -> String {
        let o = self.run(args).await;
        assert_eq!(o.code, code, "{args:?}: {} {}", o.stdout, o.stderr);
        if code == 1 {
            assert_eq!(o.stderr.lines().count(), 1, "{args:?}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "{args:?}: {}", o.stdout);
        }
        o.stderr
    }

    /// Runs a command and parses its stdout as JSON.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }
}
