//! `GET /v2.0/metrics/dimensions/names` and `.../names/values`.

use super::{Paging, TimeArg, paging_setters, push_opt, time_param};
use crate::{
    Endpoint,
    types::{DimensionName, DimensionValue, Envelope},
};

/// Lists dimension names, of some metrics or of all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListDimensionNames {
    metric_names: Vec<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    paging: Paging,
}

impl ListDimensionNames {
    pub fn new() -> Self {
        Self::default()
    }

    /// Restrict to a metric; may be given several times.
    pub fn metric_name(mut self, n: impl Into<String>) -> Self {
        self.metric_names.push(n.into());
        self
    }

    /// Only series with measurements at or after this time.
    pub fn start_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.start_time = Some(time_param(t));
        self
    }

    /// Only series with measurements before this time.
    pub fn end_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.end_time = Some(time_param(t));
        self
    }

    paging_setters!();
}

impl Endpoint for ListDimensionNames {
    type Output = Envelope<DimensionName>;

    fn path(&self) -> String {
        "metrics/dimensions/names".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> = self
            .metric_names
            .iter()
            .map(|n| ("metric_name", n.clone()))
            .collect();
        push_opt(&mut q, "start_time", &self.start_time);
        push_opt(&mut q, "end_time", &self.end_time);
        push_opt(&mut q, "limit", &self.paging.limit);
        push_opt(&mut q, "offset", &self.paging.offset);
        push_opt(&mut q, "tenant_id", &self.paging.tenant_id);
        q
    }
}

/// Lists the values of one dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ListDimensionValues {
    dimension_name: String,
    metric_names: Vec<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    paging: Paging,
}

impl ListDimensionValues {
    pub fn new(dimension_name: impl Into<String>) -> Self {
        Self {
            dimension_name: dimension_name.into(),
            metric_names: Vec::new(),
            start_time: None,
            end_time: None,
            paging: Paging::default(),
        }
    }

    pub fn metric_name(mut self, n: impl Into<String>) -> Self {
        self.metric_names.push(n.into());
        self
    }

    /// Only series with measurements at or after this time.
    pub fn start_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.start_time = Some(time_param(t));
        self
    }

    /// Only series with measurements before this time.
    pub fn end_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.end_time = Some(time_param(t));
        self
    }

    paging_setters!();
}

impl Endpoint for ListDimensionValues {
    type Output = Envelope<DimensionValue>;

    fn path(&self) -> String {
        "metrics/dimensions/names/values".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("dimension_name", self.dimension_name.clone())];
        q.extend(self.metric_names.iter().map(|n| ("metric_name", n.clone())));
        push_opt(&mut q, "start_time", &self.start_time);
        push_opt(&mut q, "end_time", &self.end_time);
        push_opt(&mut q, "limit", &self.paging.limit);
        push_opt(&mut q, "offset", &self.paging.offset);
        push_opt(&mut q, "tenant_id", &self.paging.tenant_id);
        q
    }
}
