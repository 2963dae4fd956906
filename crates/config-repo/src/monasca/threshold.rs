//! What the threshold engine keeps in the alarms database: the definitions it watches, the
//! alarms it created with their metrics and sub-alarm states, and the transitions it records.
//!
//! The engine loads everything once, then writes each batch of changes (one ingest batch or
//! one evaluation tick) through [`ThresholdStore::write_batch`] in a single transaction.

use std::collections::{BTreeMap, HashMap};

use monasca::types::{AlarmMetric, SubAlarmRecord};

use crate::RepoResult;

/// An alarm's (or sub-alarm's) state, stored as its upper-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlarmState {
    Undetermined,
    Ok,
    Alarm,
}

impl AlarmState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Undetermined => "UNDETERMINED",
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
        }
    }

    /// The state named `s` (upper case), if any.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "UNDETERMINED" => Some(AlarmState::Undetermined),
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            _ => None,
        }
    }
}

/// A definition as the engine reads it: the API's model.
pub type ThresholdDefinition = super::AlarmDefinition;

/// A sub-alarm's state and the values that decided it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubAlarmState {
    pub state: AlarmState,
    pub values: Vec<f64>,
}

/// An alarm as stored, with everything the engine rebuilds its runtime state from.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAlarm {
    pub id: String,
    pub definition_id: String,
    pub tenant: String,
    /// The `match_by` dimensions of the group, `k=v` sorted and comma-joined.
    pub group_key: String,
    pub state: AlarmState,
    pub link: Option<String>,
    pub lifecycle_state: Option<String>,
    pub metrics: Vec<AlarmMetric>,
    /// By sub-expression index; a missing index was never saved.
    pub sub_alarms: HashMap<usize, SubAlarmState>,
}

/// A new alarm: its row and one sub-alarm row per sub-expression, in order.
#[derive(Clone, Copy, Debug)]
pub struct NewAlarm<'a> {
    pub id: &'a str,
    pub definition_id: &'a str,
    pub tenant: &'a str,
    pub group_key: &'a str,
    pub state: AlarmState,
    pub created_ms: i64,
    pub sub_alarm_states: &'a [AlarmState],
}

/// One state-history entry.
#[derive(Clone, Copy, Debug)]
pub struct HistoryEntry<'a> {
    pub tenant: &'a str,
    pub alarm_id: &'a str,
    pub time_ms: i64,
    pub metrics: &'a [AlarmMetric],
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: &'a str,
    pub sub_alarms: &'a [SubAlarmRecord],
}

/// The writes of one batch, all inside the transaction [`ThresholdStore::write_batch`] opened.
/// A failed write leaves the others of the batch in place: the engine logs it and goes on.
pub trait ThresholdWrites {
    /// Whether this node may write the alarms of definition `definition_id` in this batch:
    /// always on a single node; with shared evaluation, only while it holds the definition's
    /// lease (checked once when the batch began, and held until it commits).
    fn holds(&self, definition_id: &str) -> bool {
        let _ = definition_id;
        true
    }
    /// Creates an alarm and its sub-alarms.
    ///
    /// # Errors
    /// The definition is gone (a foreign key fails), or storage fails.
    fn create_alarm(&self, alarm: &NewAlarm<'_>) -> RepoResult<()>;

    /// Records a metric of the alarm; a metric already recorded is kept as it is.
    ///
    /// # Errors
    /// Storage fails.
    fn add_alarm_metric(
        &self,
        alarm_id: &str,
        name: &str,
        dimensions: &BTreeMap<String, String>,
    ) -> RepoResult<()>;

    /// Saves sub-alarm `index` of the alarm.
    ///
    /// # Errors
    /// Storage fails.
    fn save_sub_alarm(&self, alarm_id: &str, index: usize, sub: &SubAlarmState) -> RepoResult<()>;

    /// Sets the alarm's state, stamping its state and update times with `time_ms`.
    ///
    /// # Errors
    /// Storage fails.
    fn set_alarm_state(&self, alarm_id: &str, state: AlarmState, time_ms: i64) -> RepoResult<()>;

    /// Appends a state-history entry.
    ///
    /// # Errors
    /// Storage fails.
    fn append_history(&self, entry: &HistoryEntry<'_>) -> RepoResult<()>;

    /// Queues `event`'s notifications: one delivery to each of `method_ids` the tenant still
    /// has; how many were queued.
    ///
    /// # Errors
    /// Storage fails.
    fn enqueue_notifications(
        &self,
        method_ids: &[String],
        event: &monasca::types::AlarmTransitionedEvent,
        now_ms: i64,
    ) -> RepoResult<usize>;
}

/// The threshold engine's repository. Calls block: the engine runs on blocking threads.
pub trait ThresholdStore: Send + Sync + 'static {
    /// Every definition of every tenant.
    ///
    /// # Errors
    /// Storage fails.
    fn definitions(&self) -> RepoResult<Vec<ThresholdDefinition>>;

    /// Every alarm of every tenant, with its metrics and sub-alarm states.
    ///
    /// # Errors
    /// Storage fails.
    fn alarms(&self) -> RepoResult<Vec<StoredAlarm>>;

    /// The alarms of definition `definition_id`, as [`ThresholdStore::alarms`] gives them.
    ///
    /// # Errors
    /// Storage fails.
    fn alarms_of(&self, definition_id: &str) -> RepoResult<Vec<StoredAlarm>> {
        let mut all = self.alarms()?;
        all.retain(|a| a.definition_id == definition_id);
        Ok(all)
    }
    /// Alarm `id` of whichever tenant; `None` once deleted.
    ///
    /// # Errors
    /// Storage fails.
    fn alarm(&self, id: &str) -> RepoResult<Option<StoredAlarm>> {
        Ok(self.alarms()?.into_iter().find(|a| a.id == id))
    }
    /// Definition `id` of whichever tenant; `None` once deleted.
    ///
    /// # Errors
    /// Storage fails.
    fn definition(&self, id: &str) -> RepoResult<Option<ThresholdDefinition>>;

    /// Runs `work` once inside one transaction and commits what it wrote (one fsync per batch).
    ///
    /// # Errors
    /// The transaction cannot start (then `work` does not run) or cannot commit.
    fn write_batch(&self, work: &mut dyn FnMut(&dyn ThresholdWrites)) -> RepoResult<()>;
}
