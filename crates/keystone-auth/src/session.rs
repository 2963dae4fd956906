//! A logged-in Keystone session: discovery, login, token renewal before expiry and after a 401,
//! the optional disk cache, and the [`monasca::auth::TokenSource`] the Monasca client uses.

use std::{
    fmt,
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use client_core::{HttpOptions, RequestObserver};
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::{
    Error, Result,
    cache::TokenCache,
    catalog::EndpointFilter,
    credentials::{Credentials, tokens_url},
    discovery,
    error::redact_url,
    token::{AuthToken, Clock, EXPIRY_MARGIN, SystemClock, TokenBody},
};

/// TLS settings for Keystone (and for the service that the catalog points to).
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// A PEM bundle of CA certificates to trust besides the system's (`--os-cacert`).
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate (`--os-cert`); may hold the key as well.
    pub client_cert: Option<PathBuf>,
    /// The PEM private key of the client certificate (`--os-key`).
    pub client_key: Option<PathBuf>,
    /// Do not verify server certificates (`--insecure`).
    pub insecure: bool,
}

impl TlsOptions {
    /// The CA bundle's contents, if one is set.
    ///
    /// # Errors
    /// [`Error::Tls`] if the file cannot be read.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>> {
        self.ca_file
            .as_ref()
            .map(|p| {
                std::fs::read(p).map_err(|e| {
                    Error::Tls(format!("cannot read the CA bundle {}: {e}", p.display()))
                })
            })
            .transpose()
    }

    /// The client certificate and key as one PEM, if a certificate is set.
    ///
    /// # Errors
    /// [`Error::Tls`] if a file cannot be read, or a key is given without a certificate.
    pub fn identity_pem(&self) -> Result<Option<Vec<u8>>> {
        let read = |p: &PathBuf, what: &str| {
            std::fs::read(p)
                .map_err(|e| Error::Tls(format!("cannot read the {what} {}: {e}", p.display())))
        };
        match (&self.client_cert, &self.client_key) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(Error::Tls(
                "a client key (--os-key) needs a client certificate (--os-cert)".into(),
            )),
            (Some(cert), key) => {
                let mut pem = read(cert, "client certificate")?;
                if let Some(key) = key {
                    pem.push(b'\n');
                    pem.extend(read(key, "client key")?);
                }
                Ok(Some(pem))
            }
        }
    }

    /// The kit's HTTP options with these TLS settings.
    ///
    /// # Errors
    /// [`Error::Tls`] for unreadable PEM files.
    pub fn http_options(&self, timeout: Option<Duration>, user_agent: &str) -> Result<HttpOptions> {
        Ok(HttpOptions {
            insecure: self.insecure,
            ca_pems: self.ca_pem()?.into_iter().collect(),
            identity_pem: self.identity_pem()?,
            timeout,
            user_agent: user_agent.to_string(),
        })
    }

    /// A reqwest client with these settings (ring as the process's crypto provider).
    ///
    /// # Errors
    /// [`Error::Tls`] for unreadable or invalid PEM files.
    pub fn http_client(
        &self,
        timeout: Option<Duration>,
        user_agent: &str,
    ) -> Result<reqwest::Client> {
        self.http_options(timeout, user_agent)?
            .build()
            .map_err(|e| Error::Tls(e.to_string()))
    }
}

/// Builds a [`KeystoneSession`].
#[must_use]
pub struct SessionBuilder {
    auth_url: String,
    credentials: Credentials,
    tls: TlsOptions,
    timeout: Option<Duration>,
    user_agent: String,
    clock: Arc<dyn Clock>,
    margin: Duration,
    cache: Option<TokenCache>,
    http: Option<reqwest::Client>,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl SessionBuilder {
    /// Tell `observer` about every request to Keystone (the CLIs' `-v`, `--debug`, `--timing`).
    pub fn observer(mut self, observer: Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Timeout of each request to Keystone.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The clock that decides when a token is about to expire.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long before its expiry a token is renewed ([`EXPIRY_MARGIN`] by default).
    pub fn expiry_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Keep tokens in this directory between processes (see [`TokenCache`]).
    pub fn token_cache(mut self, cache: Option<TokenCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Use this HTTP client instead of one built from the TLS options.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// # Errors
    /// An auth URL that is not http(s), or TLS settings that cannot be used.
    pub fn build(self) -> Result<KeystoneSession> {
        let auth_url = discovery::parse_auth_url(&self.auth_url).map_err(|reason| {
            Error::Invalid(format!(
                "invalid auth URL {:?}: {reason}",
                redact_str(&self.auth_url)
            ))
        })?;
        let http = match self.http {
            Some(h) => h,
            None => self.tls.http_client(self.timeout, &self.user_agent)?,
        };
        Ok(KeystoneSession {
            http,
            auth_url,
            credentials: self.credentials,
            clock: self.clock,
            margin: self.margin,
            cache: self.cache,
            identity: OnceCell::new(),
            current: Mutex::new(None),
            login_lock: tokio::sync::Mutex::new(()),
            logins: AtomicUsize::new(0),
            observer: self.observer,
        })
    }
}

fn redact_str(s: &str) -> String {
    Url::parse(s)
        .map(|u| redact_url(&u))
        .unwrap_or_else(|_| "<unparsable URL>".into())
}

/// A Keystone v3 session: logs in on first use, renews the token a minute before it expires and
/// once after the service refuses it, and finds endpoints in the token's catalog.
///
/// ```no_run
/// # async fn demo() -> keystone_auth::Result<()> {
/// use keystone_auth::{AuthMethod, Credentials, DomainRef, EndpointFilter, KeystoneSession, ProjectRef, Scope, UserRef};
/// let d = DomainRef::Name("Default".into());
/// let creds = Credentials::new(
///     AuthMethod::password(UserRef::name("mini-mon", d.clone()), "password"),
///     Scope::Project(ProjectRef::name("mini-mon", d)),
/// );
/// let session = std::sync::Arc::new(KeystoneSession::builder("http://127.0.0.1:8070/identity", creds).build()?);
/// let endpoint = session.endpoint(&EndpointFilter::monitoring()).await?;
/// let client = monasca::Client::builder(endpoint.as_str()).token_source(session).build();
/// # Ok(()) }
/// ```
pub struct KeystoneSession {
    http: reqwest::Client,
    auth_url: Url,
    credentials: Credentials,
    clock: Arc<dyn Clock>,
    margin: Duration,
    cache: Option<TokenCache>,
    identity: OnceCell<Url>,
    current: Mutex<Option<Arc<AuthToken>>>,
    login_lock: tokio::sync::Mutex<()>,
    logins: AtomicUsize,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl fmt::Debug for KeystoneSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneSession")
            .field("auth_url", &redact_url(&self.auth_url))
            .field("credentials", &self.credentials)
            .field("margin", &self.margin)
            .field("cache", &self.cache)
            .field("identity", &self.identity.get().map(redact_url))
            .field("token", &self.current_token())
            .finish_non_exhaustive()
    }
}

impl KeystoneSession {
    pub fn builder(auth_url: impl Into<String>, credentials: Credentials) -> SessionBuilder {
        SessionBuilder {
            auth_url: auth_url.into(),
            credentials,
            tls: TlsOptions::default(),
            timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("vigil-keystone-auth/", env!("CARGO_PKG_VERSION")).to_string(),
            clock: Arc::new(SystemClock),
            margin: EXPIRY_MARGIN,
            cache: None,
            http: None,
            observer: None,
        }
    }

    /// The auth URL as given (without a trailing slash).
    pub fn auth_url(&self) -> &Url {
        &self.auth_url
    }

    /// How many times this session has posted credentials to Keystone.
    pub fn login_count(&self) -> usize {
        self.logins.load(Ordering::Relaxed)
    }

    /// The token currently held, fresh or not, without any I/O.
    pub fn current_token(&self) -> Option<Arc<AuthToken>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn fresh_token(&self) -> Option<Arc<AuthToken>> {
        self.current_token()
            .filter(|t| t.is_fresh(self.clock.now(), self.margin))
    }

    fn cache_key(&self) -> String {
        self.credentials.cache_identity(&self.auth_url)
    }

    /// A token valid for at least the expiry margin: the one held, one from the disk cache, or
    /// a new one from Keystone.
    ///
    /// # Errors
    /// [`Error::Unreachable`], [`Error::NotKeystone`], [`Error::Unauthorized`] (wrong
    /// credentials), [`Error::Keystone`] or [`Error::Decode`].
    pub async fn authenticate(&self) -> Result<Arc<AuthToken>> {
        if let Some(t) = self.fresh_token() {
            return Ok(t);
        }
        // One login at a time; whoever waited finds the token the first one got.
        let _guard = self.login_lock.lock().await;
        if let Some(t) = self.fresh_token() {
            return Ok(t);
        }
        if let Some(t) = self.cached_token() {
            return Ok(self.hold(t));
        }
        let identity = self.identity_url().await?;
        let (token, body) = self.login(&identity).await?;
        if let Some(cache) = &self.cache {
            // Best effort: a cache that cannot be written only costs a login next time.
            let _ = cache.store(&self.cache_key(), token.expose(), &body);
        }
        Ok(self.hold(token))
    }

    fn hold(&self, t: AuthToken) -> Arc<AuthToken> {
        let t = Arc::new(t);
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(t.clone());
        t
    }

    fn cached_token(&self) -> Option<AuthToken> {
        let (value, body) = self.cache.as_ref()?.load(&self.cache_key())?;
        let b: TokenBody = serde_json::from_slice(&body).ok()?;
        let t = AuthToken::new(value, b.token);
        t.is_fresh(self.clock.now(), self.margin).then_some(t)
    }

    /// Forgets the token (in memory and in the disk cache): the next request logs in again.
    pub fn invalidate(&self) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(cache) = &self.cache {
            cache.remove(&self.cache_key());
        }
    }

    /// The URL of an endpoint from the token's catalog.
    ///
    /// # Errors
    /// As [`KeystoneSession::authenticate`], and [`Error::NoEndpoint`].
    pub async fn endpoint(&self, filter: &EndpointFilter) -> Result<Url> {
        self.authenticate().await?.catalog().endpoint(filter)
    }

    /// The Keystone v3 base URL, found once by `GET {auth_url}`.
    ///
    /// # Errors
    /// [`Error::Unreachable`] or [`Error::NotKeystone`].
    pub async fn identity_url(&self) -> Result<Url> {
        self.identity
            .get_or_try_init(|| self.discover())
            .await
            .cloned()
    }

    /// Tells the observer, if any, about one exchange (the URL without a password).
    fn observed(&self, method: &http::Method, url: &Url, status: Option<u16>, started: Instant) {
        if let Some(o) = &self.observer {
            let mut shown = url.clone();
            if shown.password().is_some() {
                let _ = shown.set_password(Some("***"));
            }
            o.exchange(method, &shown, status, started.elapsed());
        }
    }

    async fn discover(&self) -> Result<Url> {
        let shown = redact_url(&self.auth_url);
        let started = Instant::now();
        let sent = self
            .http
            .get(self.auth_url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await;
        let status = sent.as_ref().ok().map(|r| r.status().as_u16());
        self.observed(&http::Method::GET, &self.auth_url, status, started);
        let resp = sent.map_err(|e| Error::Unreachable {
            url: shown.clone(),
            source: e.without_url(),
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| Error::Unreachable {
            url: shown.clone(),
            source: e.without_url(),
        })?;
        if !(status.is_success() || status == http::StatusCode::MULTIPLE_CHOICES) {
            return Err(Error::NotKeystone {
                url: shown,
                reason: format!("GET answered HTTP {}", status.as_u16()),
            });
        }
        discovery::v3_from_discovery(&self.auth_url, &body)
            .map_err(|reason| Error::NotKeystone { url: shown, reason })
    }

    async fn login(&self, identity: &Url) -> Result<(AuthToken, Vec<u8>)> {
        let url = tokens_url(identity);
        let shown = redact_url(&url);
        let req = self
            .credentials
            .token_request(identity)
            .map_err(|e| Error::Invalid(format!("cannot build the token request: {e}")))?;
        let req = reqwest::Request::try_from(req)
            .map_err(|e| Error::Invalid(format!("cannot build the token request: {e}")))?;
        self.logins.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let sent = self.http.execute(req).await;
        let status = sent.as_ref().ok().map(|r| r.status().as_u16());
        self.observed(&http::Method::POST, &url, status, started);
        let resp = sent.map_err(|e| Error::Unreachable {
            url: shown.clone(),
            source: e.without_url(),
        })?;
        let status = resp.status();
        let subject = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request_id = resp
            .headers()
            .get("x-openstack-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.bytes().await.map_err(|e| Error::Unreachable {
            url: shown.clone(),
            source: e.without_url(),
        })?;
        if !status.is_success() {
            return Err(error_from_response(status, shown, request_id, &body));
        }
        let Some(subject) = subject.filter(|s| !s.is_empty()) else {
            return Err(Error::Decode {
                url: shown,
                reason: "no X-Subject-Token header in the answer".into(),
            });
        };
        let parsed: TokenBody = client_core::decode::json(&shown, &body).map_err(|e| match e {
            client_core::Error::Decode { path, source, .. } => Error::Decode {
                url: shown.clone(),
                reason: format!("at {path}: {source}"),
            },
            other => Error::Decode {
                url: shown.clone(),
                reason: other.to_string(),
            },
        })?;
        Ok((AuthToken::new(subject, parsed.token), body.to_vec()))
    }
}

/// Reads Keystone's `{"error": {"code", "title", "message"}}`.
fn error_from_response(
    status: http::StatusCode,
    url: String,
    request_id: Option<String>,
    body: &[u8],
) -> Error {
    let reason = status.canonical_reason().unwrap_or("Error").to_string();
    let (title, message) = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let e = v.get("error");
            let s = |k: &str| {
                e.and_then(|e| e.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            (s("title"), s("message"))
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(200)
                .collect::<String>();
            (None, (!text.is_empty()).then_some(text))
        }
    };
    let title = title.unwrap_or(reason);
    if status == http::StatusCode::UNAUTHORIZED {
        Error::Unauthorized {
            url,
            title,
            message: message
                .unwrap_or_else(|| "The request you have made requires authentication.".into()),
            request_id,
        }
    } else {
        Error::Keystone {
            status: status.as_u16(),
            url,
            title,
            message,
            request_id,
        }
    }
}

/// The text of a [`monasca::Error::Auth`] (which already says "authentication failed").
fn token_error(e: &Error) -> String {
    match e {
        Error::Unauthorized {
            url,
            title,
            message,
            ..
        } => format!("{message} (HTTP 401 {title} from {url})"),
        other => other.to_string(),
    }
}

impl monasca::auth::TokenSource for KeystoneSession {
    fn token(&self) -> BoxFuture<'_, monasca::Result<String>> {
        Box::pin(async move {
            self.authenticate()
                .await
                .map(|t| t.expose().to_string())
                .map_err(|e| monasca::Error::Auth(token_error(&e)))
        })
    }

    fn invalidate(&self) {
        KeystoneSession::invalidate(self);
    }

    fn can_refresh(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::{AuthMethod, Scope, UserRef};

    #[test]
    fn keystone_error_bodies() {
        let e = error_from_response(
            http::StatusCode::UNAUTHORIZED,
            "http://h/v3/auth/tokens".into(),
            None,
            br#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#,
        );
        assert!(e.is_unauthorized());
        assert_eq!(
            e.to_string(),
            "authentication failed (HTTP 401 Unauthorized from http://h/v3/auth/tokens): The \
             request you have made requires authentication."
        );
        let e = error_from_response(
            http::StatusCode::NOT_FOUND,
            "u".into(),
            None,
            br#"{"error": {"code": 404, "title": "Not Found", "message": "Could not find project: x."}}"#,
        );
        assert_eq!(
            e.to_string(),
            "Keystone error (HTTP 404 Not Found from u): Could not find project: x."
        );
        assert_eq!(
            monasca::Error::Auth(token_error(&error_from_response(
                http::StatusCode::UNAUTHORIZED,
                "u".into(),
                None,
                b"",
            )))
            .to_string(),
            "authentication failed: The request you have made requires authentication. (HTTP 401 \
             Unauthorized from u)"
        );
        let e = error_from_response(http::StatusCode::BAD_GATEWAY, "u".into(), None, b"");
        assert_eq!(
            e.to_string(),
            "Keystone error (HTTP 502 Bad Gateway from u)"
        );
    }

    #[test]
    fn debug_of_a_session_hides_secrets() {
        let s = KeystoneSession::builder(
            "http://admin:url-password@h/identity",
            Credentials::new(
                AuthMethod::password(UserRef::id("u"), "pw-s3cr3t"),
                Scope::Unscoped,
            ),
        )
        .build()
        .unwrap();
        let d = format!("{s:?}");
        assert!(
            !d.contains("pw-s3cr3t") && !d.contains("url-password"),
            "{d}"
        );
    }

    #[test]
    fn tls_files_are_checked() {
        let missing = TlsOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        assert!(
            missing
                .http_client(None, "t")
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/ca.pem")
        );
        let key_only = TlsOptions {
            client_key: Some("/nonexistent/key.pem".into()),
            ..Default::default()
        };
        assert!(key_only.http_client(None, "t").is_err());
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("ca.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let bad = TlsOptions {
            ca_file: Some(junk),
            ..Default::default()
        };
        assert!(bad.http_client(None, "t").is_err());
        assert!(
            TlsOptions {
                insecure: true,
                ..Default::default()
            }
            .http_client(None, "t")
            .is_ok()
        );
    }
}
