//! The client's error type.

use serde_json::Value;

/// Everything a Monasca call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status.
    #[error("{title} (HTTP {status}){}", detail_suffix(.message))]
    Api {
        status: u16,
        method: String,
        url: String,
        /// The error's title (falcon `title`, Keystone `error.title`), or the status reason.
        title: String,
        /// The server's explanation (`description`, `error.message`), if any.
        message: Option<String>,
        request_id: Option<String>,
    },
    /// The request never got an answer.
    #[error("unable to establish connection to {url}: {source}")]
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
    /// The token source could not produce a token.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A request that cannot be sent as built (a body that does not serialize, say).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

fn detail_suffix(m: &Option<String>) -> String {
    m.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
}

impl Error {
    /// The HTTP status of an [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Builds an [`Error::Api`] from an error response, reading the Monasca (`title` /
    /// `description`) and Keystone (`error.title` / `error.message`) body shapes, and falling
    /// back to the status reason and the raw text.
    pub(crate) fn from_response(
        status: u16,
        method: &str,
        url: &str,
        request_id: Option<String>,
        body: &[u8],
    ) -> Self {
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or(if status >= 500 {
                "HTTP Server Error"
            } else {
                "HTTP Client Error"
            })
            .to_string();
        let (title, message) = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => {
                if let Some(Value::Object(e)) = m.get("error") {
                    let t = e.get("title").and_then(Value::as_str).map(str::to_string);
                    let msg = e.get("message").and_then(Value::as_str).map(str::to_string);
                    (t.unwrap_or(reason), msg)
                } else {
                    let t = m.get("title").and_then(Value::as_str).map(str::to_string);
                    let d = m
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    (t.unwrap_or(reason), d)
                }
            }
            _ => {
                let text = String::from_utf8_lossy(body).trim().to_string();
                (reason, (!text.is_empty()).then_some(text))
            }
        };
        Error::Api {
            status,
            method: method.to_string(),
            url: url.to_string(),
            title,
            message,
            request_id,
        }
    }
}

/// The kit's failures in this crate's variants and wording.
impl From<client_core::Error> for Error {
    fn from(e: client_core::Error) -> Self {
        use client_core::{Error as Kit, TlsError};
        match e {
            Kit::InvalidUrl { url, reason } => Error::InvalidUrl { url, reason },
            Kit::Body(e) => Error::InvalidRequest(e.to_string()),
            Kit::Request(e) => Error::InvalidRequest(e.to_string()),
            Kit::Invalid(m) => Error::InvalidRequest(m),
            Kit::Transport { url, source } => Error::Transport { url, source },
            Kit::Decode { url, path, source } => Error::Decode { url, path, source },
            Kit::Tls(TlsError::InvalidIdentity(e)) => {
                Error::InvalidRequest(format!("invalid client certificate: {e}"))
            }
            Kit::Tls(e) => Error::InvalidRequest(e.to_string()),
        }
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_error_shapes() {
        let e = Error::from_response(
            422,
            "GET",
            "u",
            None,
            br#"{"title":"Unprocessable Entity","description":"Missing name"}"#,
        );
        assert_eq!(
            e.to_string(),
            "Unprocessable Entity (HTTP 422): Missing name"
        );
        let e = Error::from_response(401, "GET", "u", None, br#"{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}"#);
        assert_eq!(
            e.to_string(),
            "Unauthorized (HTTP 401): The request you have made requires authentication."
        );
        let e = Error::from_response(409, "GET", "u", None, b"");
        assert_eq!(e.to_string(), "Conflict (HTTP 409)");
        let e = Error::from_response(500, "GET", "u", None, b"boom");
        assert_eq!(e.to_string(), "Internal Server Error (HTTP 500): boom");
    }
}
