//! The one error type of this crate.

use std::path::PathBuf;

/// Everything a Keystone login, a catalog look-up or a `clouds.yaml` can fail with.
///
/// No variant ever holds a password, token or secret: URLs are shown without their password
/// part, and Keystone's own messages never echo credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Keystone refused the credentials (HTTP 401).
    #[error("authentication failed (HTTP 401 {title} from {url}): {message}")]
    Unauthorized {
        url: String,
        /// Keystone's `error.title`, usually `Unauthorized`.
        title: String,
        /// Keystone's `error.message`.
        message: String,
        request_id: Option<String>,
    },
    /// Keystone answered another error status.
    #[error("Keystone error (HTTP {status} {title} from {url}){}", detail(.message))]
    Keystone {
        status: u16,
        url: String,
        title: String,
        message: Option<String>,
        request_id: Option<String>,
    },
    /// The auth URL never answered (connection refused, DNS, TLS, time-out).
    #[error("unable to establish connection to the auth URL {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The auth URL answered, but not as a Keystone v3 (no versions document listing v3).
    #[error("{url} is not a Keystone v3 identity service: {reason}")]
    NotKeystone { url: String, reason: String },
    /// Keystone's answer to a login is not what the v3 API defines.
    #[error("unexpected answer from {url}: {reason}")]
    Decode { url: String, reason: String },
    /// The service catalog has no endpoint of that type, interface and region.
    #[error(
        "no {service_type} endpoint with interface {interface}{} in the service catalog{}",
        region_suffix(.region),
        available_suffix(.available)
    )]
    NoEndpoint {
        service_type: String,
        interface: String,
        region: Option<String>,
        /// What the catalog does offer for that service type, as `interface region url`.
        available: Vec<String>,
    },
    /// A `clouds.yaml`/`secure.yaml` that cannot be read or does not have the expected shape.
    #[error("malformed {}: {problem}", .path.display())]
    Config { path: PathBuf, problem: String },
    /// `OS_CLOUD`/`--os-cloud` names a cloud that no file defines.
    #[error("cloud {name:?} not found: {reason}")]
    CloudNotFound { name: String, reason: String },
    /// A setting needed for the chosen auth method is missing.
    #[error("missing {what}: set {hint}")]
    Missing {
        what: &'static str,
        /// Where to set it, e.g. `--os-auth-url or OS_AUTH_URL`.
        hint: &'static str,
    },
    /// A setting has a value that cannot work (an unknown interface or auth type, say).
    #[error("{0}")]
    Invalid(String),
    /// The TLS settings (CA bundle, client certificate) cannot be used.
    #[error("TLS setup: {0}")]
    Tls(String),
}

fn detail(m: &Option<String>) -> String {
    m.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
}

fn region_suffix(r: &Option<String>) -> String {
    r.as_ref()
        .map(|r| format!(" in region {r}"))
        .unwrap_or_default()
}

fn available_suffix(a: &[String]) -> String {
    if a.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", a.join("; "))
    }
}

impl Error {
    /// Whether this is Keystone refusing the credentials.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Unauthorized { .. })
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A URL as text without its password (`http://user:***@host/`), for messages.
pub fn redact_url(url: &url::Url) -> String {
    if url.password().is_some() {
        let mut u = url.clone();
        let _ = u.set_password(Some("***"));
        u.to_string()
    } else {
        url.to_string()
    }
}
