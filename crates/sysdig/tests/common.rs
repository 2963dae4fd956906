//! The harness: the real server in-process on 127.0.0.1:0 with a temporary data directory.

use std::time::Duration;

use secrecy::SecretString;
use sysdig::{Client, RetryPolicy};
use vigil_server::{app::Running, config::Settings, sysdig::settings::IamApiKey};

pub const ADMIN: &str = "admin@vigil.local";
pub const ADMIN_TOKEN: &str = "6f1c1a3e-8d0b-4a53-9b43-1d3c1d1f0a01";
pub const IBM_KEY: &str = "ibm-api-key-for-tests";
pub const INSTANCE: &str = "vigil-local";

pub struct Env {
    pub server: Running,
    _dir: tempfile::TempDir,
}

pub fn settings(dir: &tempfile::TempDir) -> Settings {
    let mut s = Settings::with_data_dir(dir.path());
    s.bind = "127.0.0.1:0".parse().unwrap();
    s.sysdig.admin_token = Some(SecretString::from(ADMIN_TOKEN));
    s.sysdig.iam_api_keys = vec![IamApiKey {
        api_key: SecretString::from(IBM_KEY),
        user: ADMIN.into(),
    }];
    s
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(&dir);
        f(&mut s);
        Self {
            server: Running::start(s).await.unwrap(),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A client with a Sysdig token; the process environment is not consulted.
    pub fn client(&self, token: &str) -> Client {
        Client::builder()
            .use_env(false)
            .url(self.url())
            .token(token)
            .retry(RetryPolicy::none())
            .timeout(Some(Duration::from_secs(30)))
            .build()
            .unwrap()
    }

    pub fn admin(&self) -> Client {
        self.client(ADMIN_TOKEN)
    }

    /// An IBM Cloud Monitoring client whose IAM is the server itself.
    pub fn ibm(&self, team: Option<u64>) -> Client {
        let mut b = Client::builder()
            .use_env(false)
            .url(format!("{}/api", self.url()))
            .ibm_iam(IBM_KEY, INSTANCE)
            .ibm_iam_url(self.url());
        if let Some(t) = team {
            b = b.team_id(t);
        }
        b.build().unwrap()
    }
}

/// The error's status and message.
pub fn err<T: std::fmt::Debug>(r: sysdig::Result<T>) -> (Option<u16>, String) {
    let e = r.expect_err("expected an error");
    (e.status(), e.to_string())
}
