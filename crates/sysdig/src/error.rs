//! The client's error type. `Display` of an API error is exactly the message sdcclient
//! extracts (`_checkResponse`), so scripts and the CLI print familiar texts.

use serde_json::Value;

/// Everything a Sysdig call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status of 300 or more.
    #[error("{message}")]
    Api {
        status: u16,
        method: String,
        url: String,
        /// What sdcclient would report (see [`Error::message_of`]).
        message: String,
        /// The raw response body.
        body: String,
    },
    /// A check the client makes before sending, with sdcclient's wording
    /// (`Invalid category 'x'`, `invalid scope: ...`, `User not found`).
    #[error("{0}")]
    Invalid(String),
    /// The IBM IAM token exchange failed.
    #[error("IBM IAM token exchange failed: {message} (HTTP {status})")]
    Iam {
        status: u16,
        message: String,
        body: String,
    },
    /// The request never got an answer.
    #[error("unable to connect to {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not what the API defines.
    #[error("unexpected response from {url} at {path}: {source}")]
    Decode {
        url: String,
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// A URL given to the client does not parse.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The client cannot be set up as configured (TLS bundle, headers).
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// The HTTP status of an [`Error::Api`] or [`Error::Iam`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Iam { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the server said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The message sdcclient 0.19 derives from an error response: the `errors[]` elements as
    /// `message: reason` joined by newlines, else `message`, else `error`, else
    /// `status code N` (also for bodies that are not JSON).
    pub fn message_of(status: u16, body: &[u8]) -> String {
        let fallback = || format!("status code {status}");
        let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
            return fallback();
        };
        if let Some(errors) = m.get("errors") {
            let items = match errors {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                other => vec![other],
            };
            return items
                .into_iter()
                .map(|e| {
                    ["message", "reason"]
                        .iter()
                        .filter_map(|k| e.get(*k).map(py_str))
                        .collect::<Vec<_>>()
                        .join(": ")
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        for k in ["message", "error"] {
            if let Some(v) = m.get(k) {
                return py_str(v);
            }
        }
        fallback()
    }

    pub(crate) fn from_response(status: u16, method: &str, url: &str, body: &[u8]) -> Self {
        Error::Api {
            status,
            method: method.to_string(),
            url: url.to_string(),
            message: Self::message_of(status, body),
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }
}

/// The kit's failures in this crate's variants and wording.
impl From<client_core::Error> for Error {
    fn from(e: client_core::Error) -> Self {
        use client_core::Error as Kit;
        match e {
            Kit::InvalidUrl { url, reason } => Error::InvalidUrl { url, reason },
            Kit::Body(e) => Error::Config(format!("cannot serialize the request body: {e}")),
            Kit::Request(e) => Error::Config(format!("invalid request: {e}")),
            Kit::Invalid(m) => Error::Invalid(m),
            Kit::Transport { url, source } => Error::Transport { url, source },
            Kit::Decode { url, path, source } => Error::Decode { url, path, source },
            Kit::Tls(e) => Error::Config(e.to_string()),
        }
    }
}

/// A JSON value as Python's `str()` would print it inside a message.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_messages_like_sdcclient() {
        let m = |s, b: &str| Error::message_of(s, b.as_bytes());
        assert_eq!(
            m(
                422,
                r#"{"errors":[{"reason":"Invalid request","message":"Alert name already exists"},{"message":"second"}]}"#
            ),
            "Alert name already exists: Invalid request\nsecond"
        );
        assert_eq!(
            m(
                401,
                r#"{"timestamp":1,"status":401,"error":"Unauthorized","message":"Bad credentials","path":"/api/alerts"}"#
            ),
            "Bad credentials"
        );
        assert_eq!(m(403, r#"{"error":"forbidden"}"#), "forbidden");
        assert_eq!(m(404, ""), "status code 404");
        assert_eq!(m(404, "<html>"), "status code 404");
        assert_eq!(m(400, r#"{"foo":1}"#), "status code 400");
        let e = Error::from_response(
            409,
            "PUT",
            "http://h/api/alerts/1",
            b"{\"errors\":[{\"reason\":\"Conflict\",\"message\":\"stale\"}]}",
        );
        assert_eq!(e.to_string(), "stale: Conflict");
        assert_eq!(e.status(), Some(409));
    }
}
