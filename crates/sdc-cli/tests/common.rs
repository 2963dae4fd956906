//! The harness: the real server in-process on 127.0.0.1:0, the real `sdc` binary against it.

use std::process::Command;

use secrecy::SecretString;
use vigil_server::{app::Running, config::Settings, sysdig::settings::IamApiKey};

pub const ADMIN: &str = "admin@vigil.local";
pub const ADMIN_TOKEN: &str = "6f1c1a3e-8d0b-4a53-9b43-1d3c1d1f0a01";
pub const IBM_KEY: &str = "ibm-api-key-for-cli-tests";

pub struct Env {
    pub server: Running,
    _dir: tempfile::TempDir,
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::with_data_dir(dir.path());
        s.bind = "127.0.0.1:0".parse().unwrap();
        s.sysdig.admin_token = Some(SecretString::from(ADMIN_TOKEN));
        s.sysdig.iam_api_keys = vec![IamApiKey {
            api_key: SecretString::from(IBM_KEY),
            user: ADMIN.into(),
        }];
        Self {
            server: Running::start(s).await.unwrap(),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Runs `sdc` with only the given environment.
    pub async fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Out {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let o = Command::new(env!("CARGO_BIN_EXE_sdc"))
                .args(&args)
                .env_clear()
                .envs(env)
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

    /// Runs `sdc` as the admin (`SDC_URL`, `SDC_TOKEN`).
    pub async fn run(&self, args: &[&str]) -> Out {
        let url = self.url();
        self.run_env(&[("SDC_URL", &url), ("SDC_TOKEN", ADMIN_TOKEN)], args)
            .await
    }

    /// A command that must succeed silently on stderr; its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args).await;
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        assert!(o.stderr.is_empty(), "{args:?}: {}", o.stderr);
        o.stdout
    }

    /// `--json` output, parsed.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a).await).unwrap()
    }

    /// A command that must fail with `code` and one line on stderr; that line.
    pub async fn fails(&self, code: i32, args: &[&str]) -> String {
        let o = self.run(args).await;
        check_failure(&o, code, args);
        o.stderr.trim_end().to_string()
    }
}

pub fn check_failure(o: &Out, code: i32, args: &[&str]) {
    assert_eq!(o.code, code, "{args:?}: {} {}", o.stdout, o.stderr);
    if code == 1 {
        assert_eq!(o.stderr.lines().count(), 1, "{args:?}: {}", o.stderr);
        assert!(o.stderr.starts_with("sdc: "), "{}", o.stderr);
        assert!(o.stdout.is_empty(), "{args:?}: {}", o.stdout);
    }
}

/// Replaces numbers of 10 digits or more (timestamps) and uuid-shaped words with fixed text
/// of the same width, so tables keep their shape.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut String| {
        let digits = w.chars().all(|c| c.is_ascii_digit());
        let uuid = w.len() == 36 && w.chars().filter(|c| *c == '-').count() == 4;
        if (digits && w.len() >= 10) || uuid {
            out.push_str(&"X".repeat(w.len()));
        } else {
            out.push_str(w);
        }
        w.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}
