//! Sysdig's legacy data API: `POST /api/data` (sdcclient 0.17/0.18's `get_data`) and
//! `GET /api/data/metrics` (`get_metrics`).
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::data::{DataMetric, DataRequest};
//! let req = DataRequest::last(
//!     600,
//!     vec![DataMetric::key("host.hostName"), DataMetric::metric("cpu.used.percent", "timeAvg", "avg")],
//! );
//! for row in client.data().query(&req).await?.data {
//!     println!("{} {:?}", row.t, row.d);
//! }
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Client, Result, request::Op};

/// How a metric is aggregated over time and across the entities of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregations {
    pub time: String,
    pub group: String,
}

/// A requested column: a grouping key (no aggregations) or a metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataMetric {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregations: Option<Aggregations>,
}

impl DataMetric {
    /// A grouping key, e.g. `host.hostName`.
    pub fn key(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            aggregations: None,
        }
    }

    /// A metric with its time and group aggregations.
    pub fn metric(id: impl Into<String>, time: &str, group: &str) -> Self {
        Self {
            id: id.into(),
            aggregations: Some(Aggregations {
                time: time.into(),
                group: group.into(),
            }),
        }
    }
}

/// Which entities (groups) a response holds: `from..=to` in the server's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    pub from: u64,
    pub to: u64,
}

/// The body of `POST /api/data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRequest {
    pub metrics: Vec<DataMetric>,
    pub data_source_type: String,
    /// Seconds back from now (instead of `start`/`end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    /// Seconds per sample; unset: the whole window is one sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

impl DataRequest {
    /// The last `seconds`, host data, whole window as one sample.
    pub fn last(seconds: i64, metrics: Vec<DataMetric>) -> Self {
        Self {
            metrics,
            data_source_type: "host".into(),
            last: Some(seconds),
            start: None,
            end: None,
            sampling: None,
            filter: None,
            paging: None,
        }
    }
}

/// One sample of one group: its time (seconds) and one value per requested column, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRow {
    pub t: i64,
    pub d: Vec<Value>,
}

/// What `POST /api/data` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataResponse {
    pub data: Vec<DataRow>,
    pub start: i64,
    pub end: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /api/data`.
///
/// # Errors
/// A body that does not serialize.
pub fn query(req: &DataRequest) -> Result<Op<DataResponse>> {
    Op::new(Method::POST, "/api/data").json(req)
}

/// `GET /api/data/metrics`: metric and key ids to their descriptions.
pub fn metrics() -> Op<Map<String, Value>> {
    Op::get("/api/data/metrics")
}

/// Data calls: `client.data()`.
#[derive(Clone, Copy, Debug)]
pub struct Data<'a>(&'a Client);

impl Data<'_> {
    crate::request::send_ops! {
        fn query(req: &DataRequest) -> DataResponse = query(req)?;
        fn metrics() -> Map<String, Value> = metrics();
    }
}

impl Client {
    /// Sysdig's legacy data API.
    pub fn data(&self) -> Data<'_> {
        Data(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bodies_are_sysdigs() {
        let mut req = DataRequest::last(
            600,
            vec![
                DataMetric::key("host.hostName"),
                DataMetric::metric("cpu.used.percent", "timeAvg", "avg"),
            ],
        );
        req.paging = Some(Paging { from: 0, to: 9 });
        let op = query(&req).unwrap();
        assert_eq!(op.path, "/api/data");
        assert_eq!(
            op.body.unwrap(),
            serde_json::json!({"metrics": [{"id": "host.hostName"},
                {"id": "cpu.used.percent", "aggregations": {"time": "timeAvg", "group": "avg"}}],
                "dataSourceType": "host", "last": 600, "paging": {"from": 0, "to": 9}})
        );
    }
}
