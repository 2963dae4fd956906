//! Evaluates the enabled alerts of the Sysdig teams mapped to a Monasca tenant (`[sysdig]
//! alert_tenants`) on that tenant's metrics, and records an ACTIVE notification when a segment
//! starts firing and an OK one when it stops:
//!
//! * MANUAL alerts (`avg(timeAvg(cpu.used.percent)) > 80`, `AND`/`OR`/`NOT` of such) on the
//!   metric store's aggregates over the alert's `timespan`, within its `filter` (the scope
//!   grammar), one state per `segmentBy` segment (`segmentCondition` ANY), or one for the
//!   alert that fires when every segment does (ALL); no data keeps the previous state
//!   (`manual`, `segments`);
//! * PROMETHEUS alerts on the PromQL engine, as Prometheus alerting rules (`promql`).
//!
//! `condition` reads an alert's document, `record` keeps the states and records the
//! notifications (whose deliveries are queued in the same write). An alert that cannot be
//! parsed is skipped with one warning (again only once its text changes).
//!
//! The threshold engine and this evaluator share the metric store; they differ in what they
//! evaluate (Sysdig: one aggregate over the alert's timespan, or a PromQL query; Monasca:
//! sliding windows of sub-expressions) and where they write (the Sysdig repository's
//! notifications; Monasca's alarm state and history).

mod condition;
mod manual;
mod promql;
mod record;
mod segments;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use config_repo::{
    RepoResult, now_ms,
    sysdig::{SysdigRepo, TeamObject, kinds},
};
use metric_store::MetricStore;
use serde_json::Value;
use sysdig::alerts::AlertKind;

/// Why an alert was not evaluated this round.
#[derive(Debug)]
enum Skip {
    /// Its text cannot be evaluated: warned about once.
    Invalid(String),
    /// Something failed that may work next round: warned about every time.
    Failed(String),
}

/// The evaluator: what it reads, and the alerts it has already warned about.
pub struct SysdigAlerts {
    repo: Arc<dyn SysdigRepo>,
    store: Arc<dyn MetricStore>,
    promql: promql_engine::Engine,
    /// Team name → Monasca tenant.
    tenants: BTreeMap<String, String>,
    /// (alert id, message) of the unparseable alerts warned about.
    warned: Mutex<HashSet<(i64, String)>>,
}

/// An alert due for evaluation, with its team's tenant and its states.
struct Due {
    tenant: String,
    alert: TeamObject,
    states: record::States,
}

impl SysdigAlerts {
    /// An evaluator of the alerts of the teams mapped in `tenants` (team name → tenant).
    pub fn new(
        repo: Arc<dyn SysdigRepo>,
        store: Arc<dyn MetricStore>,
        promql: promql_engine::Engine,
        tenants: BTreeMap<String, String>,
    ) -> Self {
        Self {
            repo,
            store,
            promql,
            tenants,
            warned: Mutex::default(),
        }
    }

    /// Starts evaluating every `interval`; nothing runs when no team is mapped. `wake` is
    /// called after a round that recorded notifications (their deliveries are queued).
    pub fn spawn(
        self,
        interval: Duration,
        wake: config_repo::outbox::Wake,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.tenants.is_empty() {
            return None;
        }
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if self.evaluate_once(now_ms()).await > 0 {
                    wake();
                }
            }
        }))
    }

    /// One evaluation round at `now_ms`; how many notifications it recorded.
    pub async fn evaluate_once(&self, now_ms: i64) -> usize {
        let due = match self.due().await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "sysdig alert evaluation: cannot read alerts");
                return 0;
            }
        };
        let mut recorded = 0;
        for d in due {
            let round = match self.evaluate(&d, now_ms).await {
                Ok(round) => round,
                Err(Skip::Invalid(why)) => {
                    self.warn_once(d.alert.id, why);
                    continue;
                }
                Err(Skip::Failed(why)) => {
                    tracing::warn!(alert = d.alert.id, error = %why, "sysdig alert evaluation failed");
                    continue;
                }
            };
            let Some(plan) = record::plan(&d.states, round, now_ms) else {
                continue;
            };
            match record::apply(self.repo.as_ref(), d.alert, d.states, plan, now_ms).await {
                Ok(n) => recorded += n,
                Err(e) => {
                    tracing::warn!(error = %e, "sysdig alert evaluation: cannot record a notification");
                }
            }
        }
        recorded
    }

    /// The enabled MANUAL and PROMETHEUS alerts of the mapped teams.
    async fn due(&self) -> RepoResult<Vec<Due>> {
        let tenants = self.tenants.clone();
        self.repo
            .tx(move |c| -> RepoResult<_> {
                let mut out = Vec::new();
                for t in c.teams()? {
                    let Some(tenant) = tenants.get(&t.name) else {
                        continue;
                    };
                    for alert in c.obj_list(kinds::ALERT, t.id)? {
                        let enabled =
                            alert.doc.get("enabled").and_then(Value::as_bool) == Some(true);
                        if enabled && evaluated(&alert).is_some() {
                            let states = record::read(c, alert.id)?;
                            out.push(Due {
                                tenant: tenant.clone(),
                                alert,
                                states,
                            });
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn evaluate(&self, d: &Due, now_ms: i64) -> Result<record::Round, Skip> {
        match evaluated(&d.alert) {
            Some(AlertKind::Prometheus) => {
                let alert = condition::promql(&d.alert.doc).map_err(Skip::Invalid)?;
                promql::evaluate(&self.promql, &d.tenant, &alert, now_ms).await
            }
            _ => {
                let alert = condition::manual(&d.alert.doc).map_err(Skip::Invalid)?;
                manual::evaluate(self.store.as_ref(), &d.tenant, &alert, now_ms)
                    .await
                    .map_err(|e| Skip::Failed(e.to_string()))
            }
        }
    }

    fn warn_once(&self, alert: i64, why: String) {
        let first = self
            .warned
            .lock()
            .map(|mut w| w.insert((alert, why.clone())))
            .unwrap_or(true);
        if first {
            tracing::warn!(alert, error = %why, "sysdig alert evaluation: alert skipped");
        }
    }
}

/// The kind of `alert` when this evaluator evaluates it.
fn evaluated(alert: &TeamObject) -> Option<AlertKind> {
    let kind = AlertKind::from(alert.doc.get("type").and_then(Value::as_str)?);
    matches!(kind, AlertKind::Manual | AlertKind::Prometheus).then_some(kind)
}

/// Starts the evaluator (see [`SysdigAlerts::spawn`]).
pub fn spawn(
    repo: Arc<dyn SysdigRepo>,
    store: Arc<dyn MetricStore>,
    promql: promql_engine::Engine,
    tenants: BTreeMap<String, String>,
    interval: Duration,
    wake: config_repo::outbox::Wake,
) -> Option<tokio::task::JoinHandle<()>> {
    SysdigAlerts::new(repo, store, promql, tenants).spawn(interval, wake)
}
