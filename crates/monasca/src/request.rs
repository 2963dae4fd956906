//! Operations as plain values: each knows its method, path, query and body, and turns into an
//! `http::Request` without any I/O, so request building is unit-tested without a server.
//! [`Endpoint`] is the kit's (`client_core`); paths are relative to the API endpoint, which
//! already ends in `/v2.0` (`metrics/names`).

use url::Url;

pub use client_core::Endpoint;
pub(crate) use client_core::json_body;

/// The `X-Auth-Token` header of a request.
pub(crate) const AUTH_TOKEN: &str = "x-auth-token";

/// `token` as the value of [`AUTH_TOKEN`].
pub(crate) fn token_header(token: &str) -> crate::Result<http::HeaderValue> {
    let mut value = http::HeaderValue::from_str(token).map_err(|_| {
        crate::Error::Auth("the token contains characters not allowed in a header".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// An operation's request as the client sends it, with `token` as `X-Auth-Token`.
pub trait ToRequest: Endpoint {
    /// # Errors
    /// A URL that does not build, a body that does not serialize, or a token that cannot be a
    /// header.
    fn to_request(&self, endpoint: &Url, token: &str) -> crate::Result<http::Request<Vec<u8>>> {
        let mut req = self.http_request(endpoint)?;
        req.headers_mut().insert(AUTH_TOKEN, token_header(token)?);
        Ok(req)
    }
}

impl<E: Endpoint + ?Sized> ToRequest for E {}

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
            fn body(&self) -> client_core::Result<Option<Vec<u8>>> {
                $crate::request::json_body(&self.body)
            }
        }
    };
}
pub(crate) use update_endpoint;
