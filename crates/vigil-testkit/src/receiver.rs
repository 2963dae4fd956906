//! A real HTTP receiver on 127.0.0.1:0 that records every request and answers as scripted per
//! path: a status, or never (a hanging receiver). Paths under `/slack` answer `ok`, as
//! Slack does.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

/// How the receiver answers the next request to a path.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct Inner {
    got: Vec<Received>,
    script: HashMap<String, VecDeque<Answer>>,
}

/// Stops listening when dropped.
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await
    }

    pub async fn start_on(listener: tokio::net::TcpListener) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(record).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner, task }
    }

    /// The next requests to `path` are answered with `answers`, in turn (then 200).
    pub fn script(&self, path: &str, answers: &[Answer]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .insert(path.into(), answers.iter().copied().collect());
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        let inner = self.inner.lock().unwrap();
        inner
            .got
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The requests to `path` once there are at least `n`; panics after 15 s.
    pub async fn wait(&self, path: &str, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.received(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{n} request(s) to {path} expected, got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let path = uri.path().to_string();
    // Slack's incoming webhooks answer a plain `ok`, which senders check.
    let answer_body = if path.starts_with("/slack") { "ok" } else { "" };
    let answer = {
        let mut i = inner.lock().unwrap();
        i.got.push(Received {
            path: path.clone(),
            headers,
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        });
        i.script
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Answer::Status(200))
    };
    match answer {
        Answer::Status(s) => (StatusCode::from_u16(s).unwrap(), answer_body),
        Answer::Hang => std::future::pending().await,
    }
}
