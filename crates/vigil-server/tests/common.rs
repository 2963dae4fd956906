//! This suite's defaults over the shared test kit: a 1 MiB body limit, clients by tenant.

use crate::kit::{Running, TestServer};
pub use crate::kit::{T0, metric, raw};
use monasca::Client;

pub struct Server {
    pub running: Running,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_in(tempfile::tempdir().unwrap()).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        let TestServer { running, dir } =
            TestServer::start_in(dir, |s| s.max_body_bytes = 1 << 20).await;
        Self { running, dir }
    }

    pub fn url(&self) -> String {
        self.running.url()
    }

    pub fn client(&self, tenant: &str) -> Client {
        TestServer::monasca_at(&self.url(), tenant)
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.running.stop().await.unwrap();
        self.dir
    }
}
