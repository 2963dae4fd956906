//! What the kit can fail with. Clients convert it into their own error types, so each keeps
//! its own messages.

/// A failure to build, send or decode a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A URL that does not parse or cannot carry a path.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// A request body that does not serialize to JSON.
    #[error("cannot serialize the request body: {0}")]
    Body(#[source] serde_json::Error),
    /// A check an operation makes before it is sent; the text is the whole message.
    #[error("{0}")]
    Invalid(String),
    /// Parts that do not make an HTTP request (a header value with a line break, say).
    #[error("invalid request: {0}")]
    Request(#[source] http::Error),
    /// The request never got an answer, or the answer's body could not be read.
    #[error("unable to connect to {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not what the API defines; `path` names where in the JSON.
    #[error("unexpected response from {url} at {path}: {source}")]
    Decode {
        url: String,
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The HTTP client cannot be set up with the TLS settings given.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Why [`HttpOptions::build`](crate::HttpOptions::build) failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("invalid CA bundle: {0}")]
    InvalidCa(#[source] reqwest::Error),
    /// A CA bundle without a single certificate: almost always the wrong file.
    #[error("the CA bundle holds no certificate")]
    EmptyCa,
    #[error("invalid client certificate or key: {0}")]
    InvalidIdentity(#[source] reqwest::Error),
    #[error("cannot set up HTTP: {0}")]
    Setup(#[source] reqwest::Error),
}

/// A `Result` with the kit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
