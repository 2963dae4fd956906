//! Operations as plain values: each knows its method, path, query and body, and turns into an
//! `http::Request` without any I/O, so request building is unit-tested without a server.

use http::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::{Error, Result};

/// One API operation.
pub trait Endpoint {
    /// What a successful answer decodes into.
    type Output: DeserializeOwned;

    fn method(&self) -> Method {
        Method::GET
    }

    /// Path relative to the API endpoint (which already ends in `/v2.0`), e.g. `metrics/names`.
    fn path(&self) -> String;

    /// Query parameters, in the order they are sent.
    fn query(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// A JSON body, if the operation has one.
    fn body(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Whether a 204 (or any empty success) is the expected answer.
    fn expects_empty(&self) -> bool {
        false
    }

    /// The full URL of this operation under `endpoint`.
    ///
    /// # Errors
    /// An endpoint that cannot be joined with the path.
    fn url(&self, endpoint: &Url) -> Result<Url> {
        let mut base = endpoint.clone();
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut url = base.join(&self.path()).map_err(|e| Error::InvalidUrl {
            url: endpoint.to_string(),
            reason: e.to_string(),
        })?;
        let q = self.query();
        if !q.is_empty() {
            url.query_pairs_mut().extend_pairs(q);
        }
        Ok(url)
    }

    /// The request this operation sends, with `token` as `X-Auth-Token`.
    ///
    /// # Errors
    /// A URL that does not build or a body that does not serialize.
    fn to_request(&self, endpoint: &Url, token: &str) -> Result<http::Request<Vec<u8>>> {
        let url = self.url(endpoint)?;
        let body = self.body()?;
        let mut b = http::Request::builder()
            .method(self.method())
            .uri(url.as_str())
            .header("X-Auth-Token", token)
            .header(http::header::ACCEPT, "application/json");
        if body.is_some() {
            b = b.header(http::header::CONTENT_TYPE, "application/json");
        }
        b.body(body.unwrap_or_default())
            .map_err(|e| Error::InvalidRequest(e.to_string()))
    }
}

/// Serializes an operation's JSON body.
pub(crate) fn json_body(v: &impl serde::Serialize) -> Result<Option<Vec<u8>>> {
    serde_json::to_vec(v)
        .map(Some)
        .map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// A `PUT` (every field) or `PATCH` (the fields given) of one resource, by id.
macro_rules! update_endpoint {
    ($(#[$m:meta])* $name:ident, $out:ty, $body:ty, $prefix:literal) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            pub id: String,
            pub body: $body,
            /// `PATCH` rather than `PUT`.
            pub partial: bool,
        }

        impl $crate::Endpoint for $name {
            type Output = $out;
            fn method(&self) -> http::Method {
                if self.partial {
                    http::Method::PATCH
                } else {
                    http::Method::PUT
                }
            }
            fn path(&self) -> String {
                format!(concat!($prefix, "/{}"), self.id)
            }
            fn body(&self) -> $crate::Result<Option<Vec<u8>>> {
                $crate::request::json_body(&self.body)
            }
        }
    };
}
pub(crate) use update_endpoint;
