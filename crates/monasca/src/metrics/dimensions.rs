//! `GET /v2.0/metrics/dimensions/names` and `.../names/values`.

use super::{Paging, paging_setters, push_opt};
use crate::{
    Endpoint,
    types::{DimensionName, DimensionValue, Envelope},
};

/// Lists dimension names, of some metrics or of all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListDimensionNames {
    metric_names: Vec<String>,
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
    paging: Paging,
}

impl ListDimensionValues {
    pub fn new(dimension_name: impl Into<String>) -> Self {
        Self {
            dimension_name: dimension_name.into(),
            metric_names: Vec::new(),
            paging: Paging::default(),
        }
    }

    pub fn metric_name(mut self, n: impl Into<String>) -> Self {
        self.metric_names.push(n.into());
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
        push_opt(&mut q, "limit", &self.paging.limit);
        push_opt(&mut q, "offset", &self.paging.offset);
        push_opt(&mut q, "tenant_id", &self.paging.tenant_id);
        q
    }
}
