//! Operations on `/v2.0/alarm-definitions`, `/v2.0/alarms` and the state history.

use http::Method;
use serde_json::Value;

/// Fields `GET /v2.0/alarms` sorts by (`sort_by`), as monasca-api allows them.
pub const ALARM_SORT_FIELDS: [&str; 10] = [
    "alarm_id",
    "alarm_definition_id",
    "alarm_definition_name",
    "state",
    "severity",
    "lifecycle_state",
    "link",
    "state_updated_timestamp",
    "updated_timestamp",
    "created_timestamp",
];

/// Fields `GET /v2.0/alarms/count` groups by (`group_by`).
pub const ALARM_COUNT_GROUP_BY: [&str; 9] = [
    "alarm_definition_id",
    "name",
    "state",
    "severity",
    "link",
    "lifecycle_state",
    "metric_name",
    "dimension_name",
    "dimension_value",
];

/// Fields `GET /v2.0/alarm-definitions` sorts by.
pub const DEFINITION_SORT_FIELDS: [&str; 5] =
    ["id", "name", "severity", "updated_at", "created_at"];

use crate::{
    Endpoint,
    types::{
        Alarm, AlarmCounts, AlarmDefinition, AlarmDefinitionRequest, AlarmUpdate, Envelope,
        StateHistoryEntry,
    },
};

use client_core::{Result, json_body as json};

/// Query parameters in the order given; unset ones are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `key=value`.
    pub fn set(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.0.push((key, value.into()));
        self
    }
    /// Adds `key=value` when `value` is set.
    pub fn set_opt(self, key: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }
}

macro_rules! endpoint {
    ($(#[$m:meta])* $name:ident, $out:ty, $method:expr, |$s:ident| $path:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            pub id: String,
        }
        impl Endpoint for $name {
            type Output = $out;
            fn method(&self) -> Method {
                $method
            }
            fn path(&self) -> String {
                let $s = self;
                $path
            }
        }
    };
}

/// `POST /alarm-definitions`.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateAlarmDefinition(pub AlarmDefinitionRequest);

impl Endpoint for CreateAlarmDefinition {
    type Output = AlarmDefinition;
    fn method(&self) -> Method {
        Method::POST
    }
    fn path(&self) -> String {
        "alarm-definitions".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>> {
        json(&self.0)
    }
}

/// `GET /alarm-definitions` with `name`, `dimensions`, `severity`, `sort_by`, `limit`, `offset`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListAlarmDefinitions(pub Params);

impl Endpoint for ListAlarmDefinitions {
    type Output = Envelope<AlarmDefinition>;
    fn path(&self) -> String {
        "alarm-definitions".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        self.0.0.clone()
    }
}

endpoint!(
    /// `GET /alarm-definitions/{id}`.
    GetAlarmDefinition, AlarmDefinition, Method::GET, |s| format!("alarm-definitions/{}", s.id)
);
endpoint!(
    /// `DELETE /alarm-definitions/{id}`.
    DeleteAlarmDefinition, (), Method::DELETE, |s| format!("alarm-definitions/{}", s.id)
);

crate::request::update_endpoint!(
    /// `PUT /alarm-definitions/{id}` (every field) or `PATCH` (the fields given).
    UpdateAlarmDefinition,
    AlarmDefinition,
    Value,
    "alarm-definitions"
);

/// `GET /alarms` with every upstream filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListAlarms(pub Params);

impl Endpoint for ListAlarms {
    type Output = Envelope<Alarm>;
    fn path(&self) -> String {
        "alarms".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        self.0.0.clone()
    }
}

endpoint!(
    /// `GET /alarms/{id}`.
    GetAlarm, Alarm, Method::GET, |s| format!("alarms/{}", s.id)
);
endpoint!(
    /// `DELETE /alarms/{id}`.
    DeleteAlarm, (), Method::DELETE, |s| format!("alarms/{}", s.id)
);

crate::request::update_endpoint!(
    /// `PUT /alarms/{id}` (state, lifecycle_state and link) or `PATCH` (any of them).
    UpdateAlarm,
    Alarm,
    AlarmUpdate,
    "alarms"
);

/// `GET /alarms/count`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountAlarms(pub Params);

impl Endpoint for CountAlarms {
    type Output = AlarmCounts;
    fn path(&self) -> String {
        "alarms/count".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        self.0.0.clone()
    }
}

/// `GET /alarms/state-history` (filters: `dimensions`, `start_time`, `end_time`), or one
/// alarm's history when `alarm_id` is set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListStateHistory {
    pub alarm_id: Option<String>,
    pub params: Params,
}

impl Endpoint for ListStateHistory {
    type Output = Envelope<StateHistoryEntry>;
    fn path(&self) -> String {
        match &self.alarm_id {
            Some(id) => format!("alarms/{id}/state-history"),
            None => "alarms/state-history".into(),
        }
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        self.params.0.clone()
    }
}
