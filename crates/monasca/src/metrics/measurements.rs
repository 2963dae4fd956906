//! `GET /v2.0/metrics/measurements`.

use super::{
    Paging, TimeArg, dimension_setter, paging_setters, push_dimensions, push_opt, time_param,
};
use crate::{
    Endpoint,
    types::{DimensionFilter, Envelope, Measurements},
};

/// Lists the measurements of a metric from a start time.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ListMeasurements {
    name: String,
    dimensions: Vec<DimensionFilter>,
    start_time: String,
    end_time: Option<String>,
    merge_metrics: bool,
    group_by: Option<String>,
    paging: Paging,
}

impl ListMeasurements {
    pub fn new(name: impl Into<String>, start_time: impl Into<TimeArg>) -> Self {
        Self {
            name: name.into(),
            dimensions: Vec::new(),
            start_time: time_param(start_time),
            end_time: None,
            merge_metrics: false,
            group_by: None,
            paging: Paging::default(),
        }
    }

    pub fn end_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.end_time = Some(time_param(t));
        self
    }

    /// Merge every matching series into one.
    pub fn merge_metrics(mut self, yes: bool) -> Self {
        self.merge_metrics = yes;
        self
    }

    /// Group by these dimension keys (`*` for every series on its own).
    pub fn group_by(mut self, keys: impl Into<String>) -> Self {
        self.group_by = Some(keys.into());
        self
    }

    dimension_setter!();
    paging_setters!();
}

impl Endpoint for ListMeasurements {
    type Output = Envelope<Measurements>;

    fn path(&self) -> String {
        "metrics/measurements".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("name", self.name.clone())];
        push_dimensions(&mut q, &self.dimensions);
        q.push(("start_time", self.start_time.clone()));
        push_opt(&mut q, "end_time", &self.end_time);
        push_opt(&mut q, "limit", &self.paging.limit);
        push_opt(&mut q, "offset", &self.paging.offset);
        if self.merge_metrics {
            q.push(("merge_metrics", "True".into()));
        }
        push_opt(&mut q, "group_by", &self.group_by);
        push_opt(&mut q, "tenant_id", &self.paging.tenant_id);
        q
    }
}
