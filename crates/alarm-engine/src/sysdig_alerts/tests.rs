//! The evaluator on a real SQLite repository in a temp dir and the in-memory metric store, at
//! times the tests choose.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use config_repo::{
    RepoResult,
    sqlite::sysdig::SqliteSysdigRepo,
    sysdig::{Document, SysdigRepo, kinds},
};
use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};
use serde_json::{Value, json};

use super::SysdigAlerts;

/// 2026-01-01T00:00:00Z in ms.
const T0: i64 = 1_767_225_600_000;

struct Env {
    _dir: tempfile::TempDir,
    repo: Arc<dyn SysdigRepo>,
    store: Arc<MemoryStore>,
    alerts: SysdigAlerts,
    team: i64,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo: Arc<dyn SysdigRepo> =
            Arc::new(SqliteSysdigRepo::open(&dir.path().join("sysdig.db")).unwrap());
        let team = repo
            .tx(|c| -> RepoResult<_> {
                c.customer_ensure("vigil")?;
                c.team_insert("Ops", &Document::new())
            })
            .await
            .unwrap();
        let store = Arc::new(MemoryStore::new());
        let promql = promql_engine::Engine::new(store.clone(), Default::default());
        let tenants = [("Ops".to_string(), "acme".to_string())].into();
        let alerts = SysdigAlerts::new(repo.clone(), store.clone(), promql, tenants);
        Self {
            _dir: dir,
            repo,
            store,
            alerts,
            team,
        }
    }

    async fn alert(&self, mut doc: Value) -> i64 {
        doc["enabled"] = json!(true);
        if doc.get("type").is_none() {
            doc["type"] = json!("MANUAL");
        }
        let Value::Object(doc) = doc else {
            unreachable!()
        };
        let team = self.team;
        self.repo
            .tx(move |c| -> RepoResult<_> { Ok(c.obj_insert(kinds::ALERT, team, doc)?.id) })
            .await
            .unwrap()
    }

    async fn write(&self, name: &str, host: &str, value: f64, at: i64) {
        let key = SeriesKey {
            tenant: "acme".into(),
            name: name.into(),
            dimensions: [("hostname".to_string(), host.to_string())].into(),
        };
        self.store
            .write(vec![Sample {
                series: Arc::new(key),
                timestamp: at,
                value,
                value_meta: None,
            }])
            .await
            .unwrap();
    }

    /// `(state, entity of the first entity)` of `alert`'s notifications, oldest first.
    async fn notes(&self, alert: i64) -> Vec<(String, String)> {
        let team = self.team;
        let all = self
            .repo
            .tx(move |c| c.obj_list(kinds::NOTIFICATION, team))
            .await
            .unwrap();
        all.iter()
            .filter(|n| n.doc.get("alert").and_then(Value::as_i64) == Some(alert))
            .map(|n| {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
                (
                    text(n.doc.get("state")),
                    text(n.doc.get("entities").and_then(|e| e.pointer("/0/entity"))),
                )
            })
            .collect()
    }
}

fn note(state: &str, entity: &str) -> (String, String) {
    (state.to_string(), entity.to_string())
}

#[tokio::test]
async fn bad_alerts_are_skipped_and_the_others_evaluated() {
    let env = Env::start().await;
    for doc in [
        json!({"condition": "p99(cpu) > 1"}),
        json!({"condition": "avg(cpu) > 1", "filter": "hostname != h1"}),
        json!({"type": "PROMETHEUS", "condition": "cpu >"}),
        json!({"type": "PROMETHEUS", "condition": "cpu[5m]"}),
    ] {
        env.alert(doc).await;
    }
    let good = env
        .alert(json!({"condition": "max(cpu) > 1", "segmentBy": ["host.hostName"]}))
        .await;
    env.write("cpu", "h1", 5.0, T0).await;
    for round in 0..2 {
        let recorded = env.alerts.evaluate_once(T0 + 1000 + round).await;
        assert_eq!(recorded, usize::from(round == 0));
    }
    assert_eq!(
        env.notes(good).await,
        [note("ACTIVE", "host.hostName = 'h1'")]
    );
    assert_eq!(env.alerts.warned.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn compound_conditions_read_every_metric_of_the_segment() {
    let env = Env::start().await;
    let id = env
        .alert(json!({
            "condition": "avg(timeAvg(cpu)) > 50 AND NOT sum(mem) <= 10",
            "segmentBy": ["hostname"], "timespan": 60_000_000,
        }))
        .await;
    env.write("cpu", "h1", 60.0, T0).await;
    env.write("cpu", "h2", 60.0, T0).await;
    env.write("mem", "h1", 8.0, T0).await;
    env.write("mem", "h1", 8.0, T0 + 1).await;
    env.write("mem", "h2", 8.0, T0).await;
    env.alerts.evaluate_once(T0 + 1000).await;
    // h1: mem sums to 16 over the window; h2's 8 keeps NOT (sum <= 10) false.
    assert_eq!(env.notes(id).await, [note("ACTIVE", "hostname = 'h1'")]);
    // Out of the one-minute window, there is no data: the state stays.
    env.alerts.evaluate_once(T0 + 120_000).await;
    assert_eq!(env.notes(id).await.len(), 1);
}

#[tokio::test]
async fn an_older_unsegmented_state_is_read() {
    let env = Env::start().await;
    let id = env.alert(json!({"condition": "avg(cpu) > 80"})).await;
    env.repo
        .tx(move |c| c.meta_set(&format!("alert_state:{id}"), "ACTIVE"))
        .await
        .unwrap();
    env.write("cpu", "h1", 95.0, T0).await;
    // Still firing: nothing to record.
    assert_eq!(env.alerts.evaluate_once(T0 + 1000).await, 0);
    env.write("cpu", "h1", 0.0, T0 + 2000).await;
    env.write("cpu", "h1", 0.0, T0 + 2001).await;
    assert_eq!(env.alerts.evaluate_once(T0 + 3000).await, 1);
    assert_eq!(env.notes(id).await, [note("OK", "")]);
}

#[tokio::test]
async fn promql_alerts_hold_for_their_timespan() {
    let env = Env::start().await;
    let id = env
        .alert(json!({"type": "PROMETHEUS", "condition": "sum by (hostname) (cpu) > 80", "timespan": 60_000_000}))
        .await;
    env.write("cpu", "h1", 95.0, T0).await;
    env.write("cpu", "h2", 10.0, T0).await;
    assert_eq!(env.alerts.evaluate_once(T0).await, 0);
    assert_eq!(env.alerts.evaluate_once(T0 + 59_999).await, 0);
    assert_eq!(env.alerts.evaluate_once(T0 + 60_000).await, 1);
    assert_eq!(env.notes(id).await, [note("ACTIVE", "hostname = 'h1'")]);
    // Five minutes on, the lookback finds no point: the series is gone, resolved.
    assert_eq!(env.alerts.evaluate_once(T0 + 400_000).await, 1);
    assert_eq!(
        env.notes(id).await,
        [
            note("ACTIVE", "hostname = 'h1'"),
            note("OK", "hostname = 'h1'")
        ]
    );
}

#[tokio::test]
async fn nodes_evaluating_the_same_round_record_it_once() {
    let env = Env::start().await;
    let id = env
        .alert(json!({"condition": "max(cpu) > 1", "segmentBy": ["hostname"]}))
        .await;
    env.write("cpu", "h1", 5.0, T0).await;
    // Two nodes sharing the database read the alert's states before either records.
    let now = T0 + 1000;
    let first = env.alerts.due().await.unwrap();
    let second = env.alerts.due().await.unwrap();
    let mut recorded = 0;
    for d in first.into_iter().chain(second) {
        let round = env.alerts.evaluate(&d, now).await.unwrap();
        let plan = super::record::plan(&d.states, round, now).unwrap();
        recorded += super::record::apply(env.repo.as_ref(), d.alert, d.states, plan, now)
            .await
            .unwrap();
    }
    assert_eq!(recorded, 1);
    assert_eq!(env.notes(id).await, [note("ACTIVE", "hostname = 'h1'")]);
}
