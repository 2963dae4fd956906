//! Operations as plain values: each knows its method, path, query and body, and turns into an
//! `http::Request` without any I/O, so request building is unit-tested without a server.
//! [`Endpoint`] is the kit's (`client_core`); paths are absolute under the base URL
//! (`/api/alerts/7`). Authentication headers are added by the [`Client`](crate::Client) when
//! it sends.

use std::marker::PhantomData;

use http::Method;
use serde::{Serialize, de::DeserializeOwned};
use url::Url;

use crate::{Error, Result};

pub use client_core::Endpoint;

/// An operation's request as the client sends it, before credentials: sdcclient sends
/// `Content-Type: application/json` on every request, body or not.
pub trait ToRequest: Endpoint {
    /// # Errors
    /// A URL that does not build or a body that does not serialize.
    fn to_request(&self, base: &Url) -> Result<http::Request<Vec<u8>>> {
        let mut req = self.http_request(base)?;
        req.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(req)
    }
}

impl<E: Endpoint + ?Sized> ToRequest for E {}

/// A simple operation: method, path, optional query and body, and the envelope key of the
/// answer. Most calls of this crate are one of these, made by a function of their module
/// (`sysdig::alerts::get(7)`).
#[derive(Clone, PartialEq)]
#[must_use]
pub struct Op<T> {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub envelope: Option<&'static str>,
    pub ignores_body: bool,
    _out: PhantomData<fn() -> T>,
}

/// Bodies may carry passwords (user provisioning): `Debug` shows only their size.
impl<T> std::fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Op")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field(
                "body",
                &self
                    .body
                    .as_ref()
                    .map(|b| format!("<{} bytes of JSON>", b.to_string().len())),
            )
            .field("envelope", &self.envelope)
            .finish()
    }
}

impl<T> Op<T> {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            envelope: None,
            ignores_body: false,
            _out: PhantomData,
        }
    }
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// The answer is `{"<key>": T}`.
    pub fn envelope(mut self, key: &'static str) -> Self {
        self.envelope = Some(key);
        self
    }
    pub fn query(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.query.push((k, v.into()));
        self
    }
    /// A JSON body.
    ///
    /// # Errors
    /// A value that does not serialize to JSON.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self> {
        self.body = Some(
            serde_json::to_value(body)
                .map_err(|e| Error::Config(format!("cannot serialize the request body: {e}")))?,
        );
        Ok(self)
    }
    /// A body `{"<key>": body}`, the envelope every Sysdig object travels in.
    ///
    /// # Errors
    /// A value that does not serialize to JSON.
    pub fn wrapped(self, key: &'static str, body: &impl Serialize) -> Result<Self> {
        let v = serde_json::to_value(body)
            .map_err(|e| Error::Config(format!("cannot serialize the request body: {e}")))?;
        self.json(&serde_json::json!({ key: v }))
    }
}

// Builders the resource modules share: their list/get/create/update/delete ops differ only
// in path, envelope key and the name in sdcclient's error messages.
impl<T> Op<T> {
    /// `body` sent as `{"<key>": body}` and answered the same way.
    ///
    /// # Errors
    /// A value that does not serialize to JSON.
    pub(crate) fn enveloped(self, key: &'static str, body: &impl Serialize) -> Result<Self> {
        Ok(self.wrapped(key, body)?.envelope(key))
    }
    /// A new object sent and answered as `{"<key>": …}`, without the fields the server
    /// assigns (`server_fields`; sdcclient nulls them, here they are left out).
    ///
    /// # Errors
    /// A value that does not serialize to JSON.
    pub(crate) fn enveloped_new(
        self,
        key: &'static str,
        body: &impl Serialize,
        server_fields: &[&str],
    ) -> Result<Self> {
        let mut v = serde_json::to_value(body)
            .map_err(|e| Error::Config(format!("cannot serialize the request body: {e}")))?;
        if let Some(m) = v.as_object_mut() {
            for k in server_fields {
                m.remove(*k);
            }
        }
        self.enveloped(key, &v)
    }
    /// `PUT {collection}/{id}` of an object read from the server.
    ///
    /// # Errors
    /// sdcclient's `Invalid <what> format` without an id.
    pub(crate) fn put_existing(collection: &str, id: Option<u64>, what: &str) -> Result<Self> {
        let id = id.ok_or_else(|| Error::Invalid(format!("Invalid {what} format")))?;
        Ok(Self::new(Method::PUT, format!("{collection}/{id}")))
    }
}

/// Handle methods (`client.alerts().get(7)`) that only send the op their module builds:
/// `fn name(args) -> Output = op_expression;`. An entry without docs gets the usual
/// "# Errors / As [`Client::send`]." ones.
macro_rules! send_ops {
    () => {};
    (fn $name:ident $args:tt -> $out:ty = $op:expr; $($rest:tt)*) => {
        $crate::request::send_ops! {
            /// # Errors
            /// As [`Client::send`].
            fn $name $args -> $out = $op;
            $($rest)*
        }
    };
    ($(#[$doc:meta])+ fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $op:expr; $($rest:tt)*) => {
        $(#[$doc])+
        pub async fn $name(&self, $($arg: $ty),*) -> $crate::Result<$out> {
            self.0.send(&$op).await
        }
        $crate::request::send_ops! { $($rest)* }
    };
}
pub(crate) use send_ops;

impl Op<()> {
    /// `DELETE {path}`, whatever the answer's body.
    pub(crate) fn delete(path: impl Into<String>) -> Self {
        Self::ignoring_body(Method::DELETE, path)
    }
    /// An operation whose success body does not matter.
    pub fn ignoring_body(method: Method, path: impl Into<String>) -> Self {
        let mut op = Self::new(method, path);
        op.ignores_body = true;
        op
    }
}

impl<T: DeserializeOwned> Endpoint for Op<T> {
    type Output = T;
    fn method(&self) -> Method {
        self.method.clone()
    }
    fn path(&self) -> String {
        self.path.clone()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        self.query.clone()
    }
    fn body(&self) -> client_core::Result<Option<Vec<u8>>> {
        match &self.body {
            Some(b) => client_core::json_body(b),
            None => Ok(None),
        }
    }
    fn envelope(&self) -> Option<&'static str> {
        self.envelope
    }
    fn ignores_body(&self) -> bool {
        self.ignores_body
    }
}

/// Percent-encodes one path segment (names such as a team name go into paths).
pub(crate) fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_requests_without_io() {
        let base = Url::parse("https://app.sysdigcloud.com").unwrap_or_else(|_| unreachable!());
        let op: Op<serde_json::Value> = Op::get("/api/v3/dashboards").query("light", "true");
        let req = op.to_request(&base).unwrap_or_else(|_| unreachable!());
        assert_eq!(
            req.uri(),
            "https://app.sysdigcloud.com/api/v3/dashboards?light=true"
        );
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(segment("Ops team/x"), "Ops%20team%2Fx");
    }
}
