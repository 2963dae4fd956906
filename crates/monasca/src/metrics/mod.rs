//! Operations on `/v2.0/metrics` and its sub-resources, one type per operation.
//!
//! ```
//! use monasca::{Endpoint, metrics::ListMeasurements};
//! let op = ListMeasurements::new("cpu.idle_perc", "2026-01-01T00:00:00Z")
//!     .dimension("hostname", Some("web1"))
//!     .merge_metrics(true);
//! let url = op.url(&"http://127.0.0.1:8070/v2.0".parse().unwrap()).unwrap();
//! assert_eq!(
//!     url.as_str(),
//!     "http://127.0.0.1:8070/v2.0/metrics/measurements?name=cpu.idle_perc&dimensions=hostname%3Aweb1&start_time=2026-01-01T00%3A00%3A00Z&merge_metrics=True"
//! );
//! ```

mod create;
mod dimensions;
mod list;
mod measurements;
mod names;
mod statistics;

pub use create::CreateMetrics;
pub use dimensions::{ListDimensionNames, ListDimensionValues};
pub use list::ListMetrics;
pub use measurements::ListMeasurements;
pub use names::ListMetricNames;
pub use statistics::ListStatistics;

use crate::types::DimensionFilter;

/// Query fields shared by several operations, pushed in python-monascaclient's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Paging {
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub tenant_id: Option<String>,
}

pub(crate) fn push_dimensions(q: &mut Vec<(&'static str, String)>, dims: &[DimensionFilter]) {
    if !dims.is_empty() {
        q.push(("dimensions", DimensionFilter::to_query(dims)));
    }
}

pub(crate) fn push_opt(q: &mut Vec<(&'static str, String)>, key: &'static str, v: &Option<String>) {
    if let Some(v) = v {
        q.push((key, v.clone()));
    }
}

pub(crate) fn dim(key: impl Into<String>, value: Option<&str>) -> DimensionFilter {
    DimensionFilter {
        key: key.into(),
        values: value
            .map(|v| v.split('|').map(str::to_string).collect())
            .unwrap_or_default(),
    }
}

/// Setters shared by the list operations.
macro_rules! paging_setters {
    () => {
        /// Page size; the server caps it.
        pub fn limit(mut self, n: usize) -> Self {
            self.paging.limit = Some(n.to_string());
            self
        }

        /// The opaque offset from a previous page's `next` link.
        pub fn offset(mut self, o: impl Into<String>) -> Self {
            self.paging.offset = Some(o.into());
            self
        }

        /// Act for another project (needs the delegate role).
        pub fn tenant_id(mut self, t: impl Into<String>) -> Self {
            self.paging.tenant_id = Some(t.into());
            self
        }
    };
}
pub(crate) use paging_setters;

/// The `dimension` setter: `None` matches any value, `Some("a|b")` either value.
macro_rules! dimension_setter {
    () => {
        pub fn dimension(mut self, key: impl Into<String>, value: Option<&str>) -> Self {
            self.dimensions.push(super::dim(key, value));
            self
        }
    };
}
pub(crate) use dimension_setter;

/// A time parameter: a timestamp or the text to send verbatim.
pub(crate) fn time_param(t: impl Into<TimeArg>) -> String {
    match t.into() {
        TimeArg::At(ts) => crate::time::format_query(ts),
        TimeArg::Text(s) => s,
    }
}

/// A `start_time`/`end_time` value.
pub enum TimeArg {
    At(jiff::Timestamp),
    /// Sent as given, e.g. `2026-01-01T00:00:00Z`.
    Text(String),
}

impl From<jiff::Timestamp> for TimeArg {
    fn from(t: jiff::Timestamp) -> Self {
        TimeArg::At(t)
    }
}

impl From<&str> for TimeArg {
    fn from(s: &str) -> Self {
        TimeArg::Text(s.to_string())
    }
}

impl From<String> for TimeArg {
    fn from(s: String) -> Self {
        TimeArg::Text(s)
    }
}
