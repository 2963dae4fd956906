//! The transitions the engine publishes once they are written to state history; the
//! notification engine subscribes to them.

use monasca::types::{
    AlarmMetric, AlarmState as WireState, AlarmTransitionedEvent, SubAlarmRecord,
};

use crate::{AlarmState, Engine};

/// A state change of one alarm.
#[derive(Clone, Debug)]
pub struct Transition {
    pub tenant: String,
    pub alarm_id: String,
    pub definition_id: String,
    pub definition_name: String,
    pub description: String,
    pub severity: monasca::types::Severity,
    pub actions_enabled: bool,
    /// The notification methods of the new state.
    pub actions: Vec<String>,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
    pub timestamp_ms: i64,
    pub metrics: Vec<AlarmMetric>,
    /// Every sub-alarm at the transition, as state history records them.
    pub sub_alarms: Vec<SubAlarmRecord>,
    pub link: Option<String>,
    pub lifecycle_state: Option<String>,
}

impl Transition {
    /// The event the notification engine reads (monasca-thresh's `alarm-transitioned`).
    pub fn event(&self) -> AlarmTransitionedEvent {
        let wire = |s: AlarmState| WireState::from(s.as_str().to_string());
        AlarmTransitionedEvent {
            tenant_id: self.tenant.clone(),
            alarm_id: self.alarm_id.clone(),
            alarm_definition_id: self.definition_id.clone(),
            alarm_name: self.definition_name.clone(),
            alarm_description: self.description.clone(),
            old_state: wire(self.old_state),
            new_state: wire(self.new_state),
            actions_enabled: self.actions_enabled,
            state_change_reason: self.reason.clone(),
            severity: self.severity.clone(),
            link: self.link.clone(),
            lifecycle_state: self.lifecycle_state.clone(),
            metrics: self.metrics.clone(),
            sub_alarms: self.sub_alarms.clone(),
            timestamp: self.timestamp_ms,
        }
    }
}

/// Published transitions kept for a subscriber that falls behind.
pub(crate) const EVENT_BACKLOG: usize = 1024;

impl Engine {
    pub(crate) fn publish(&self, transitions: Vec<Transition>) {
        self.counters.transitions.fetch_add(
            transitions.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        for t in transitions {
            // No subscriber is fine: the history row is already written.
            let _ = self.events.send(t);
        }
    }
}
