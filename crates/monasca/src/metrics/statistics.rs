//! `GET /v2.0/metrics/statistics`.

use super::{
    Paging, TimeArg, dimension_setter, paging_setters, push_dimensions, push_opt, time_param,
};
use crate::{
    Endpoint,
    types::{DimensionFilter, Envelope, Statistics},
};

/// Lists statistics (`avg,min,max,sum,count`) of a metric per period.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ListStatistics {
    name: String,
    statistics: String,
    dimensions: Vec<DimensionFilter>,
    start_time: String,
    end_time: Option<String>,
    period: Option<String>,
    merge_metrics: bool,
    group_by: Option<String>,
    paging: Paging,
}

impl ListStatistics {
    /// `statistics` is the comma-separated list the API takes, e.g. `avg,max`.
    pub fn new(
        name: impl Into<String>,
        statistics: impl Into<String>,
        start_time: impl Into<TimeArg>,
    ) -> Self {
        Self {
            name: name.into(),
            statistics: statistics.into(),
            dimensions: Vec::new(),
            start_time: time_param(start_time),
            end_time: None,
            period: None,
            merge_metrics: false,
            group_by: None,
            paging: Paging::default(),
        }
    }

    pub fn end_time(mut self, t: impl Into<TimeArg>) -> Self {
        self.end_time = Some(time_param(t));
        self
    }

    /// Seconds per bucket; the server's default is 300.
    pub fn period(mut self, p: impl ToString) -> Self {
        self.period = Some(p.to_string());
        self
    }

    pub fn merge_metrics(mut self, yes: bool) -> Self {
        self.merge_metrics = yes;
        self
    }

    pub fn group_by(mut self, keys: impl Into<String>) -> Self {
        self.group_by = Some(keys.into());
        self
    }

    dimension_setter!();
    paging_setters!();
}

impl Endpoint for ListStatistics {
    type Output = Envelope<Statistics>;

    fn path(&self) -> String {
        "metrics/statistics".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("name", self.name.clone())];
        push_dimensions(&mut q, &self.dimensions);
        q.push(("start_time", self.start_time.clone()));
        push_opt(&mut q, "end_time", &self.end_time);
        push_opt(&mut q, "period", &self.period);
        q.push(("statistics", self.statistics.clone()));
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
