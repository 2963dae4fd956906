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

/// What `POST /v2.0/notification-methods/{id}/test` answers (a Vigil extension): the queued
/// test notification's event id, to find its attempts with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationTest {
    pub notification_method_id: String,
    pub event_id: String,
}

/// One delivery attempt of a notification method, as
/// `GET /v2.0/notification-methods/{id}/deliveries` lists them (a Vigil extension).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub event_id: String,
    /// When the attempt started, ISO 8601 UTC.
    pub timestamp: String,
    /// 1 for the first attempt of a send.
    pub attempt: u32,
    /// `DELIVERED`, `RETRYING`, `FAILED` or `DROPPED`.
    pub status: String,
    /// What the receiver answered, or why nothing was sent.
    pub answer: String,
    pub duration_ms: i64,
    /// Whether it was a test notification.
    pub test: bool,
}
