//! What the tests share: a Monasca database with its outbox, a recording HTTP receiver, a
//! started notifier, and waiting with a deadline.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use config_repo::{
    outbox::{Attempt, Outbox},
    sqlite::{monasca::SqliteMonasca, outbox::enqueue_for_methods},
};
use monasca::types::{AlarmMetric, AlarmState, AlarmTransitionedEvent, Severity};
use notification_engine::{Notifier, NotifySettings};
use serde_json::Value;
use tokio::sync::mpsc;

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// How the receiver answers each path: `/ok` 200, `/flaky` 500 the first time and 200
/// after, `/hang` never; `/slack` and `/slack-refuses` as Slack does for good and bad
/// tokens; `/pagerduty` as PagerDuty's Events v1; `/jira/rest/api/2/…` as a Jira with no
/// issue yet; `/accept/…` 202 as OpsGenie and VictorOps answer; anything else 404.
#[derive(Clone, Default)]
struct ReceiverState {
    sent: Arc<Mutex<Option<mpsc::UnboundedSender<Received>>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

pub struct HttpReceiver {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub port: u16,
    rx: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    State(s): State<ReceiverState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let hit = {
        let mut hits = s.hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let got = Received {
        path: path.clone(),
        query: uri.query().unwrap_or("").to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    };
    if let Some(tx) = s.sent.lock().unwrap().as_ref() {
        let _ = tx.send(got);
    }
    match path.as_str() {
        "/ok" => (StatusCode::OK, "thanks").into_response(),
        "/flaky" if hit == 1 => {
            (StatusCode::INTERNAL_SERVER_ERROR, "boom, try later").into_response()
        }
        "/flaky" => (StatusCode::OK, "ok now").into_response(),
        "/slack" => (StatusCode::OK, "ok").into_response(),
        "/slack-refuses" => (StatusCode::OK, "invalid_token").into_response(),
        "/pagerduty" => (
            StatusCode::OK,
            [("content-type", "application/json")],
            r#"{"status":"success","message":"Event processed","incident_key":"a-1"}"#,
        )
            .into_response(),
        "/jira/rest/api/2/search" => (
            StatusCode::OK,
            [("content-type", "application/json")],
            r#"{"issues":[]}"#,
        )
            .into_response(),
        "/jira/rest/api/2/issue" => (
            StatusCode::CREATED,
            [("content-type", "application/json")],
            r#"{"id":"10001","key":"OPS-7"}"#,
        )
            .into_response(),
        "/jira/rest/api/2/issue/OPS-7/comment" => (StatusCode::CREATED, "{}").into_response(),
        p if p.starts_with("/accept/") => (
            StatusCode::ACCEPTED,
            [("content-type", "application/json")],
            r#"{"result":"Request will be processed"}"#,
        )
            .into_response(),
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn http_receiver() -> HttpReceiver {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = ReceiverState::default();
    *state.sent.lock().unwrap() = Some(tx);
    let app = Router::new().fallback(answer).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    HttpReceiver {
        base: format!("http://127.0.0.1:{port}"),
        port,
        rx,
        task,
    }
}

impl HttpReceiver {
    /// The next request, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Received> {
        tokio::time::timeout(within, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every request that arrives within `within`.
    pub async fn all_within(&mut self, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        let mut got = Vec::new();
        while let Ok(Some(r)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            got.push(r);
        }
        got
    }
}

/// A Monasca database (alarms.db) on a temporary file, with its outbox.
pub struct MonascaDb {
    _dir: tempfile::TempDir,
    pub repo: SqliteMonasca,
    pub outbox: Arc<dyn Outbox>,
}

pub fn monasca_db() -> MonascaDb {
    let dir = tempfile::tempdir().unwrap();
    let repo = SqliteMonasca::open(&dir.path().join("alarms.db")).unwrap();
    let outbox: Arc<dyn Outbox> = Arc::new(repo.outbox());
    MonascaDb {
        _dir: dir,
        repo,
        outbox,
    }
}

pub const TENANT: &str = "tenant-1";

impl MonascaDb {
    pub fn add_method(&self, id: &str, kind: &str, address: &str, period: i64) {
        let sql = format!(
            "INSERT INTO notification_method (id, tenant_id, name, type, address, period, \
             created_at, updated_at) VALUES ('{id}', '{TENANT}', 'm {id}', '{kind}', \
             '{address}', {period}, 0, 0)"
        );
        self.repo.db().blocking(|c| c.execute_batch(&sql)).unwrap();
    }

    /// An alarm (and its definition) in `state`.
    pub fn add_alarm(&self, id: &str, state: &str) {
        let sql = format!(
            "INSERT OR IGNORE INTO alarm_definition (id, tenant_id, name, expression, severity, \
             created_at, updated_at) VALUES ('def-1', '{TENANT}', 'cpu high', \
             'avg(cpu) > 90', 'HIGH', 0, 0);
             INSERT INTO alarm (id, alarm_definition_id, tenant_id, group_key, state, \
             created_at, state_updated_at, updated_at) VALUES ('{id}', 'def-1', '{TENANT}', \
             '', '{state}', 0, 0, 0)"
        );
        self.repo.db().blocking(|c| c.execute_batch(&sql)).unwrap();
    }

    pub fn set_alarm_state(&self, id: &str, state: &str) {
        let sql = format!("UPDATE alarm SET state = '{state}' WHERE id = '{id}'");
        self.repo.db().blocking(|c| c.execute_batch(&sql)).unwrap();
    }

    /// Queues `event` to `methods` as the threshold engine does, in a transaction.
    pub fn queue(&self, methods: &[&str], event: &AlarmTransitionedEvent) -> usize {
        let ids: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
        self.repo.db().blocking(|c| {
            let tx = c.transaction().unwrap();
            let n = enqueue_for_methods(&tx, &ids, event, now_ms()).unwrap();
            tx.commit().unwrap();
            n
        })
    }

    /// Queues one transition per alarm id to `method`, all in one transaction.
    pub fn queue_many(&self, method: &str, alarm_ids: &[String]) {
        let ids = vec![method.to_string()];
        self.repo.db().blocking(|c| {
            let tx = c.transaction().unwrap();
            for a in alarm_ids {
                enqueue_for_methods(&tx, &ids, &transition(a, AlarmState::Alarm), now_ms())
                    .unwrap();
            }
            tx.commit().unwrap();
        });
    }

    pub async fn attempts(&self, method: &str) -> Vec<Attempt> {
        self.outbox.attempts(TENANT, method, 50).await.unwrap()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn transition(alarm_id: &str, new_state: AlarmState) -> AlarmTransitionedEvent {
    AlarmTransitionedEvent {
        tenant_id: TENANT.into(),
        alarm_id: alarm_id.into(),
        alarm_definition_id: "def-1".into(),
        alarm_name: "cpu high".into(),
        alarm_description: "CPU above 90".into(),
        old_state: AlarmState::Ok,
        new_state,
        actions_enabled: true,
        state_change_reason: "Thresholds were exceeded".into(),
        severity: Severity::High,
        link: None,
        lifecycle_state: None,
        metrics: vec![AlarmMetric {
            name: "cpu.idle_perc".into(),
            dimensions: [("hostname".to_string(), "h1".to_string())].into(),
        }],
        sub_alarms: Vec::new(),
        timestamp: now_ms(),
    }
}

/// Settings fast enough for tests.
pub fn quick() -> NotifySettings {
    NotifySettings {
        timeout_ms: 300,
        backoff_base_ms: 50,
        backoff_max_ms: 100,
        poll_interval_ms: 200,
        ..Default::default()
    }
}

pub fn start(outboxes: Vec<Arc<dyn Outbox>>, settings: NotifySettings) -> Arc<Notifier> {
    let mut registry = prometheus_client::registry::Registry::with_prefix("vigil");
    Notifier::start(outboxes, settings, &mut registry).unwrap()
}

/// Polls `check` until it holds or `within` passes; whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
