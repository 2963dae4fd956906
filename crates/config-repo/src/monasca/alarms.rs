//! Alarms: one per definition and `match_by` group, created by the threshold engine; the API
//! reads, filters, updates and deletes them.

use async_trait::async_trait;
use monasca::types::{AlarmMetric, AlarmState, Severity};

use crate::RepoResult;

/// An alarm with what the API shows of its definition.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmRecord {
    pub id: String,
    pub definition_id: String,
    pub definition_name: String,
    pub severity: Severity,
    pub state: AlarmState,
    pub lifecycle_state: Option<String>,
    pub link: Option<String>,
    pub created_at: i64,
    pub state_updated_at: i64,
    pub updated_at: i64,
    /// In `(name, dimensions)` order.
    pub metrics: Vec<AlarmMetric>,
}

/// How a dimension of a metric filter matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimensionMatch {
    /// The metric has the dimension, any value.
    Exists,
    /// The dimension has one of these values.
    AnyOf(Vec<String>),
}

/// Which alarms a list or count takes; unset fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlarmFilter {
    pub definition_id: Option<String>,
    pub metric_name: Option<String>,
    /// One metric of the alarm must match all of them.
    pub metric_dimensions: Vec<(String, DimensionMatch)>,
    pub state: Option<AlarmState>,
    /// Any of these (none: all).
    pub severities: Vec<Severity>,
    pub lifecycle_state: Option<String>,
    pub link: Option<String>,
    /// State changed at or after (epoch ms).
    pub state_updated_start: Option<i64>,
}

impl AlarmFilter {
    /// Whether `a` passes every filter.
    pub fn matches(&self, a: &AlarmRecord) -> bool {
        self.definition_id
            .as_ref()
            .is_none_or(|d| *d == a.definition_id)
            && self.state.as_ref().is_none_or(|s| *s == a.state)
            && (self.severities.is_empty() || self.severities.contains(&a.severity))
            && self
                .lifecycle_state
                .as_ref()
                .is_none_or(|l| a.lifecycle_state.as_ref() == Some(l))
            && self
                .link
                .as_ref()
                .is_none_or(|l| a.link.as_ref() == Some(l))
            && self
                .state_updated_start
                .is_none_or(|t| a.state_updated_at >= t)
            && self
                .metric_name
                .as_ref()
                .is_none_or(|n| a.metrics.iter().any(|m| m.name == *n))
            && (self.metric_dimensions.is_empty()
                || a.metrics.iter().any(|m| {
                    self.metric_dimensions.iter().all(|(k, want)| {
                        match (m.dimensions.get(k), want) {
                            (None, _) => false,
                            (Some(_), DimensionMatch::Exists) => true,
                            (Some(v), DimensionMatch::AnyOf(vs)) => vs.contains(v),
                        }
                    })
                }))
    }
}

/// A new alarm as the threshold engine opens it (and the conformance suite seeds it).
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlarm {
    pub id: String,
    pub definition_id: String,
    pub tenant: String,
    /// The `match_by` group the alarm stands for.
    pub group_key: String,
    pub state: AlarmState,
    pub metrics: Vec<AlarmMetric>,
    pub now: i64,
}

/// What an API update sets on an alarm: lifecycle state and link as given (`None` clears
/// them), the state only if given.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmChange {
    pub state: Option<AlarmState>,
    pub lifecycle_state: Option<String>,
    pub link: Option<String>,
}

/// The alarms of every tenant. Updates run in a [`MonascaUnit`](super::MonascaUnit) so the
/// history entry and the engine's notice go with them.
#[async_trait]
pub trait AlarmRepo: Send + Sync {
    /// Stores a new alarm with its metrics.
    ///
    /// # Errors
    /// `Conflict` if the id is taken, `NotFound` if the definition does not exist.
    async fn create(&self, alarm: NewAlarm) -> RepoResult<()>;

    /// The tenant's alarms that pass `filter`, by id.
    async fn list(&self, tenant: &str, filter: AlarmFilter) -> RepoResult<Vec<AlarmRecord>>;

    /// The tenant's alarm `id`.
    ///
    /// # Errors
    /// `NotFound` if the tenant has none such.
    async fn get(&self, tenant: &str, id: &str) -> RepoResult<AlarmRecord>;

    /// Deletes the alarm with its metrics, sub-alarms and nothing else (history stays).
    ///
    /// # Errors
    /// `NotFound` if the tenant has no such alarm.
    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()>;
}
