//! PromQL through Sysdig's Prometheus API (`/prometheus/api/v1/...`, what sdcclient 0.19's
//! `get_data_promql*`, `get_series`, `get_labels` and `get_label_values` call), with typed
//! results.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::promql::QueryData;
//! if let QueryData::Vector(v) = client.promql().query("sum(cpu_used_percent)", None).await? {
//!     for s in v {
//!         println!("{:?} {}", s.metric, s.value.value);
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};

use crate::{Client, request::Op};

/// One point: seconds since the epoch and the value (Prometheus sends it as a string so that
/// `NaN` and `±Inf` survive JSON).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    pub time: f64,
    pub value: f64,
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (time, text): (f64, String) = Deserialize::deserialize(d)?;
        let value = match text.as_str() {
            "+Inf" | "Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            t => t
                .parse::<f64>()
                .map_err(|_| D::Error::custom(format!("not a sample value: {t:?}")))?,
        };
        Ok(Self { time, value })
    }
}

/// A series' labels (`__name__` included).
pub type Labels = BTreeMap<String, String>;

/// An element of an instant vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstantSample {
    pub metric: Labels,
    pub value: Point,
}

/// An element of a range vector (a matrix).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RangeSeries {
    pub metric: Labels,
    pub values: Vec<Point>,
}

/// A query's result, by `resultType`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum QueryData {
    Vector(Vec<InstantSample>),
    Matrix(Vec<RangeSeries>),
    Scalar(Point),
    String((f64, String)),
}

/// `GET /prometheus/api/v1/query`: `query` at `time` (seconds; now when `None`).
pub fn query(q: &str, time: Option<i64>) -> Op<QueryData> {
    let mut op = Op::get("/prometheus/api/v1/query")
        .envelope("data")
        .query("query", q);
    if let Some(t) = time {
        op = op.query("time", t.to_string());
    }
    op
}

/// `GET /prometheus/api/v1/query_range`: `query` from `start` to `end` every `step` seconds.
pub fn query_range(q: &str, start: i64, end: i64, step: u64) -> Op<QueryData> {
    Op::get("/prometheus/api/v1/query_range")
        .envelope("data")
        .query("query", q)
        .query("start", start.to_string())
        .query("end", end.to_string())
        .query("step", step.to_string())
}

/// `GET /prometheus/api/v1/series`: the label sets of the series `matchers` select.
pub fn series(matchers: &[String]) -> Op<Vec<Labels>> {
    matchers.iter().fold(
        Op::get("/prometheus/api/v1/series").envelope("data"),
        |op, m| op.query("match[]", m.clone()),
    )
}

/// `GET /prometheus/api/v1/labels`: every label name.
pub fn labels() -> Op<Vec<String>> {
    Op::get("/prometheus/api/v1/labels").envelope("data")
}

/// `GET /prometheus/api/v1/label/{name}/values`.
pub fn label_values(name: &str) -> Op<Vec<String>> {
    Op::get(format!("/prometheus/api/v1/label/{name}/values")).envelope("data")
}

/// PromQL calls: `client.promql()`.
#[derive(Clone, Copy, Debug)]
pub struct Promql<'a>(&'a Client);

impl Promql<'_> {
    crate::request::send_ops! {
        fn query(q: &str, time: Option<i64>) -> QueryData = query(q, time);
        fn query_range(q: &str, start: i64, end: i64, step: u64) -> QueryData =
            query_range(q, start, end, step);
        fn series(matchers: &[String]) -> Vec<Labels> = series(matchers);
        fn labels() -> Vec<String> = labels();
        fn label_values(name: &str) -> Vec<String> = label_values(name);
    }
}

impl Client {
    /// PromQL over the Prometheus API of Sysdig (or of `vigil serve`).
    pub fn promql(&self) -> Promql<'_> {
        Promql(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn results_read_by_type() {
        let v: QueryData = serde_json::from_str(
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up"},"value":[1.5,"+Inf"]}]}"#,
        )
        .unwrap();
        let QueryData::Vector(v) = v else { panic!() };
        assert_eq!(v[0].metric["__name__"], "up");
        assert_eq!(
            v[0].value,
            Point {
                time: 1.5,
                value: f64::INFINITY
            }
        );
        let m: QueryData = serde_json::from_str(
            r#"{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"],[2,"NaN"]]}]}"#,
        )
        .unwrap();
        let QueryData::Matrix(m) = m else { panic!() };
        assert!(m[0].values[1].value.is_nan());
        let s: QueryData =
            serde_json::from_str(r#"{"resultType":"scalar","result":[3,"4.5"]}"#).unwrap();
        assert_eq!(
            s,
            QueryData::Scalar(Point {
                time: 3.0,
                value: 4.5
            })
        );
        assert!(
            serde_json::from_str::<QueryData>(r#"{"resultType":"scalar","result":[3,"x"]}"#)
                .is_err()
        );
    }

    #[test]
    fn requests_carry_the_query() {
        let op = series(&["up".to_string(), "cpu".to_string()]);
        assert_eq!(
            op.query,
            vec![
                ("match[]", "up".to_string()),
                ("match[]", "cpu".to_string())
            ]
        );
        let op = query_range("sum(up)", 10, 70, 30);
        assert_eq!(op.path, "/prometheus/api/v1/query_range");
        assert_eq!(op.query[3], ("step", "30".to_string()));
    }
}
