//! Alarm state history: one entry per transition, kept after the alarm goes.

use async_trait::async_trait;
use monasca::types::{AlarmMetric, AlarmState, SubAlarmRecord};

use crate::RepoResult;

/// A transition to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewHistoryEntry {
    pub tenant: String,
    pub alarm_id: String,
    pub time_ms: i64,
    pub metrics: Vec<AlarmMetric>,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
    pub sub_alarms: Vec<SubAlarmRecord>,
}

/// A stored transition with its position (`(time_ms, seq)` orders entries).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRecord {
    pub seq: i64,
    pub alarm_id: String,
    pub time_ms: i64,
    pub metrics: Vec<AlarmMetric>,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
    pub reason_data: String,
    pub sub_alarms: Vec<SubAlarmRecord>,
}

/// Which entries a history page holds.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryQuery {
    pub tenant: String,
    /// Entries of these alarms only (none: an empty page).
    pub alarm_ids: Vec<String>,
    /// Inclusive bounds on the time, epoch ms.
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// Strictly after this `(time_ms, seq)`.
    pub after: Option<(i64, i64)>,
    pub limit: usize,
}

/// The state history of every tenant.
#[async_trait]
pub trait StateHistoryRepo: Send + Sync {
    /// Appends one entry.
    async fn append(&self, entry: NewHistoryEntry) -> RepoResult<()>;

    /// Entries in `(time_ms, seq)` order.
    async fn list(&self, query: HistoryQuery) -> RepoResult<Vec<HistoryRecord>>;
}
