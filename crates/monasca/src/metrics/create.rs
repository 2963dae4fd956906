//! `POST /v2.0/metrics`.

use http::Method;
use serde_json::Value;

use crate::{Endpoint, Error, Result, types::Metric};

/// Posts one metric (sent as an object, as the real CLI does) or a batch (an array).
#[derive(Clone, Debug, PartialEq)]
pub struct CreateMetrics {
    body: Value,
    tenant_id: Option<String>,
}

impl CreateMetrics {
    /// # Errors
    /// A metric that does not serialize (a non-finite value).
    pub fn one(m: &Metric) -> Result<Self> {
        Ok(Self::raw(to_value(m)?))
    }

    /// # Errors
    /// As [`CreateMetrics::one`].
    pub fn batch(ms: &[Metric]) -> Result<Self> {
        Ok(Self::raw(to_value(ms)?))
    }

    /// Any JSON body, sent unchanged (`metric-create-raw`).
    pub fn raw(body: Value) -> Self {
        Self {
            body,
            tenant_id: None,
        }
    }

    /// Post on behalf of another project (needs the delegate role).
    #[must_use]
    pub fn tenant_id(mut self, t: impl Into<String>) -> Self {
        self.tenant_id = Some(t.into());
        self
    }
}

fn to_value<T: serde::Serialize + ?Sized>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::InvalidRequest(e.to_string()))
}

impl Endpoint for CreateMetrics {
    type Output = ();

    fn method(&self) -> Method {
        Method::POST
    }

    fn path(&self) -> String {
        "metrics".into()
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        self.tenant_id
            .iter()
            .map(|t| ("tenant_id", t.clone()))
            .collect()
    }

    fn body(&self) -> client_core::Result<Option<Vec<u8>>> {
        client_core::json_body(&self.body)
    }

    fn ignores_body(&self) -> bool {
        true
    }
}
