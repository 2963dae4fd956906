//! `GET /v2.0/metrics/names`.

use super::{Paging, dimension_setter, paging_setters, push_dimensions, push_opt};
use crate::{
    Endpoint,
    types::{DimensionFilter, Envelope, MetricName},
};

/// Lists distinct metric names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListMetricNames {
    dimensions: Vec<DimensionFilter>,
    paging: Paging,
}

impl ListMetricNames {
    pub fn new() -> Self {
        Self::default()
    }

    dimension_setter!();
    paging_setters!();
}

impl Endpoint for ListMetricNames {
    type Output = Envelope<MetricName>;

    fn path(&self) -> String {
        "metrics/names".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        push_dimensions(&mut q, &self.dimensions);
        push_opt(&mut q, "limit", &self.paging.limit);
        push_opt(&mut q, "offset", &self.paging.offset);
        push_opt(&mut q, "tenant_id", &self.paging.tenant_id);
        q
    }
}
