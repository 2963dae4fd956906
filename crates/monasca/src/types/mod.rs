//! Monasca v2.0 wire types, shared by the client and the server so they cannot drift.

mod alarming;
mod enums;
mod events;

pub use alarming::*;
pub use enums::{AlarmState, NotificationType, Severity};
pub use events::{AlarmTransitionedEvent, DeliveryAttempt, NotificationTest};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A metric as posted to `POST /v2.0/metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// Milliseconds since the epoch; Monasca accepts fractions.
    pub timestamp: f64,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_meta: Option<Map<String, Value>>,
}

/// A link in a Monasca envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub rel: String,
    pub href: String,
}

/// The paged list envelope: `{"links": [...], "elements": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub links: Vec<Link>,
    pub elements: Vec<T>,
}

impl<T> Envelope<T> {
    /// The `rel: next` link, if the server has more.
    pub fn next_href(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == "next")
            .map(|l| l.href.as_str())
    }
}

/// An element of `GET /v2.0/metrics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDefinition {
    pub id: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// One row of `measurements`: `[timestamp, value, value_meta]`.
pub type MeasurementRow = (String, f64, Map<String, Value>);

/// An element of `GET /v2.0/metrics/measurements`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub id: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    pub columns: Vec<String>,
    pub measurements: Vec<MeasurementRow>,
}

/// An element of `GET /v2.0/metrics/statistics`. Each row starts with the timestamp string,
/// followed by one number per requested statistic, as `columns` names them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    pub id: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    pub columns: Vec<String>,
    pub statistics: Vec<Vec<Value>>,
}

/// An element of `GET /v2.0/metrics/names`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricName {
    pub name: String,
}

/// An element of `GET /v2.0/metrics/dimensions/names`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionName {
    pub dimension_name: String,
}

/// An element of `GET /v2.0/metrics/dimensions/names/values`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionValue {
    pub dimension_value: String,
}

/// An API version, as `GET /` lists and `GET /v2.0` returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    pub links: Vec<Link>,
    pub status: String,
    pub updated: String,
}

/// The error body of the Monasca API (falcon's `HTTPError`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A dimension condition in a query: `key` alone matches any value, `key:v1|v2` any of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimensionFilter {
    pub key: String,
    pub values: Vec<String>,
}

impl DimensionFilter {
    /// Formats filters as Monasca's `dimensions` query parameter: `k:v,k2:v1|v2,k3`.
    pub fn to_query(filters: &[DimensionFilter]) -> String {
        filters
            .iter()
            .map(|f| {
                if f.values.is_empty() {
                    f.key.clone()
                } else {
                    format!("{}:{}", f.key, f.values.join("|"))
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}
