//! Alarm definitions, alarms, state history and notification methods.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AlarmState, NotificationType, Severity};

/// A link on a resource (`href` first, as monasca-api writes resource links).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfLink {
    pub href: String,
    pub rel: String,
}

/// A notification method, as `GET /v2.0/notification-methods/{id}` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationMethod {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub address: String,
    pub period: i64,
    pub links: Vec<SelfLink>,
}

/// The body of a notification-method create or full update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationMethodRequest {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
}

/// An element of `GET /v2.0/notification-methods/types`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationMethodType {
    #[serde(rename = "type")]
    pub kind: NotificationType,
}

/// An alarm definition, as `GET /v2.0/alarm-definitions/{id}` returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmDefinition {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub expression: String,
    pub deterministic: bool,
    pub match_by: Vec<String>,
    pub severity: Severity,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub undetermined_actions: Vec<String>,
    pub links: Vec<SelfLink>,
}

/// The body of an alarm-definition create (`POST`) or full update (`PUT`). Unset options are
/// left out, as the real CLI sends them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmDefinitionRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_actions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_actions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undetermined_actions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_by: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

/// A metric an alarm watches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmMetric {
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// The definition an alarm belongs to, as embedded in the alarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmDefinitionRef {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    pub links: Vec<SelfLink>,
}

/// An alarm, as `GET /v2.0/alarms/{id}` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: String,
    pub metrics: Vec<AlarmMetric>,
    pub state: AlarmState,
    pub lifecycle_state: Option<String>,
    pub link: Option<String>,
    pub state_updated_timestamp: String,
    pub updated_timestamp: String,
    pub created_timestamp: String,
    pub alarm_definition: AlarmDefinitionRef,
    pub links: Vec<SelfLink>,
}

/// The body of an alarm update (`PUT` needs all three; `PATCH` any).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AlarmState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `GET /v2.0/alarms/count`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmCounts {
    pub links: Vec<crate::types::Link>,
    pub columns: Vec<String>,
    pub counts: Vec<Vec<Value>>,
}

/// A sub-alarm as a state-history entry records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubAlarmRecord {
    pub sub_alarm_expression: SubAlarmExpression,
    pub sub_alarm_state: String,
    pub current_values: Vec<f64>,
}

/// One sub-expression of a definition, as history records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubAlarmExpression {
    pub function: String,
    pub operator: String,
    pub threshold: f64,
    pub period: u32,
    pub periods: u32,
    pub deterministic: bool,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// One state transition of an alarm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateHistoryEntry {
    pub timestamp: String,
    pub alarm_id: String,
    pub metrics: Vec<AlarmMetric>,
    pub new_state: AlarmState,
    pub old_state: AlarmState,
    pub reason: String,
    pub reason_data: String,
    pub sub_alarms: Vec<SubAlarmRecord>,
    pub id: String,
}
