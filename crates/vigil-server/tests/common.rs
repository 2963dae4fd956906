use std::collections::BTreeMap;

use monasca::{Client, types::Metric};
use vigil_server::{app::Running, config::Settings};

pub struct Server {
    pub running: Running,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        let mut settings = Settings::with_data_dir(dir.path());
        settings.bind = "127.0.0.1:0".parse().unwrap();
        settings.max_body_bytes = 1 << 20;
        let running = Running::start(settings).await.unwrap();
        Self { running, dir }
    }

    pub fn url(&self) -> String {
        self.running.url()
    }

    pub fn client(&self, tenant: &str) -> Client {
        Client::builder(format!("{}/v2.0", self.url()))
            .token(tenant)
            .build()
            .unwrap()
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.running.stop().await.unwrap();
        self.dir
    }
}

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

/// 2026-01-01T00:00:00Z in epoch milliseconds.
pub const T0: i64 = 1_767_225_600_000;

/// Raw HTTP for what the typed client will not send.
pub async fn raw(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, serde_json::Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new().request(method, url).body(body);
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    if let Some(c) = content_type {
        req = req.header("Content-Type", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::String(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    };
    (status, json)
}
