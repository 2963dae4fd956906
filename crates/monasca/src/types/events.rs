//! The event an alarm state change publishes (monasca-thresh's `alarm-transitioned` message,
//! camelCase as on its Kafka topic): what notification plugins read their fields from.

use serde::{Deserialize, Serialize};

use super::{AlarmMetric, AlarmState, Severity, SubAlarmRecord};

/// One alarm state transition, as the notification engine receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmTransitionedEvent {
    pub tenant_id: String,
    pub alarm_id: String,
    pub alarm_definition_id: String,
    pub alarm_name: String,
    pub alarm_description: String,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub actions_enabled: bool,
    pub state_change_reason: String,
    pub severity: Severity,
    pub link: Option<String>,
    pub lifecycle_state: Option<String>,
    pub metrics: Vec<AlarmMetric>,
    #[serde(default)]
    pub sub_alarms: Vec<SubAlarmRecord>,
    /// Epoch milliseconds of the transition.
    pub timestamp: i64,
}
