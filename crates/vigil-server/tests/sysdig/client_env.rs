//! The `sysdig` client crate against the real server: a server that knows the fixed Sysdig
//! credentials of the test kit.

pub use crate::kit::sysdig_creds::{ADMIN, ADMIN_TOKEN, IBM_KEY, INSTANCE};
use crate::kit::{Settings, TestServer, with_sysdig_creds};

pub struct Env {
    server: TestServer,
}

pub fn settings(dir: &tempfile::TempDir) -> Settings {
    let mut s = crate::kit::settings(dir.path());
    with_sysdig_creds(&mut s);
    s
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut Settings)) -> Self {
        let server = TestServer::start_with(|s| {
            with_sysdig_creds(s);
            f(s);
        })
        .await;
        Self { server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A client with a Sysdig token; the process environment is not consulted.
    pub fn client(&self, token: &str) -> sysdig::Client {
        self.server.sysdig(token)
    }

    pub fn admin(&self) -> sysdig::Client {
        self.client(ADMIN_TOKEN)
    }

    /// An IBM Cloud Monitoring client whose IAM is the server itself.
    pub fn ibm(&self, team: Option<u64>) -> sysdig::Client {
        self.server.ibm(team)
    }
}

/// The error's status and message.
pub fn err<T: std::fmt::Debug>(r: sysdig::Result<T>) -> (Option<u16>, String) {
    let e = r.expect_err("expected an error");
    (e.status(), e.to_string())
}
