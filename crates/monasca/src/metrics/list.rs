//! `GET /v2.0/metrics`.

use super::{
    Paging, TimeArg, dimension_setter, paging_setters, push_dimensions, push_opt, time_param,
};
use crate::{
    Endpoint,
    types::{DimensionFilter, Envelope, MetricDefinition},
};

/// Lists metric definitions (name + dimensions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListMetrics {
    name: Option<String>,
    dimensions: Vec<DimensionFilter>,
    start_time: Option<String>,
    end_time: Option<String>,
    paging: Paging,
}

impl ListMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.name = Some(n.into());
        self
    }

    /// Only metrics with measurements at or after this time.
    pub fn start_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.start_time = Some(time_param(t));
        self
    }

    pub fn end_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.end_time = Some(time_param(t));
        self
    }

    dimension_setter!();
    paging_setters!();
}

impl Endpoint for ListMetrics {
    type Output = Envelope<MetricDefinition>;

    fn path(&self) -> String {
        "metrics".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        push_opt(&mut q, "name", &self.name);
        push_dimensions(&mut q, &self.dimensions);
        push_opt(&mut q, "limit", &self.paging.limit);
        push_opt(&mut q, "offset", &self.paging.offset);
        push_opt(&mut q, "start_time", &self.start_time);
        push_opt(&mut q, "end_time", &self.end_time);
        push_opt(&mut q, "tenant_id", &self.paging.tenant_id);
        q
    }
}
