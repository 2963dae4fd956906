//! The async client: configuration (as sdcclient reads it, plus timeouts and retries), the
//! authenticated transport, and the generic `send` every operation goes through.

use std::{fmt, path::PathBuf, sync::Arc, time::Duration};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use url::Url;

use crate::{
    Error, Result,
    auth::{Authenticator, IbmIam, SysdigApiToken, default_iam_url},
    request::Endpoint,
};

/// Sysdig Monitor SaaS (US East), sdcclient's default.
pub const DEFAULT_URL: &str = "https://app.sysdigcloud.com";

/// How server certificates are checked (sdcclient's `ssl_verify`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsVerify {
    /// Against the system roots (the default).
    Yes,
    /// Not at all (self-signed on-prem installs).
    No,
    /// Against the system roots plus this PEM bundle.
    CaBundle(PathBuf),
}

impl TlsVerify {
    /// sdcclient's reading of `SDC_SSL_VERIFY`: `true`/`false` in any case, anything else a
    /// CA bundle path.
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "true" => TlsVerify::Yes,
            "false" => TlsVerify::No,
            _ => TlsVerify::CaBundle(PathBuf::from(s)),
        }
    }
}

/// Retries of idempotent requests (GET, PUT, HEAD, OPTIONS) answered 500, 502, 503 or 504,
/// as sdcclient's urllib3 `Retry` does, but with a configurable, shorter backoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (sdcclient: 3). 0 disables retries.
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// Upper bound of any delay, including one asked for by `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    fn backoff(&self, retry: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff)
    }
}

/// The IBM Cloud Monitoring part of a [`ClientBuilder`].
struct IbmConfig {
    apikey: SecretString,
    instance_id: String,
    iam_url: Option<String>,
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    url: Option<String>,
    token: Option<SecretString>,
    tls: TlsVerify,
    headers: Vec<(String, String)>,
    use_env: bool,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    ibm: Option<IbmConfig>,
    team_id: Option<u64>,
    authenticator: Option<Arc<dyn Authenticator>>,
    user_agent: String,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("use_env", &self.use_env)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("ibm", &self.ibm.as_ref().map(|i| &i.instance_id))
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            url: None,
            token: None,
            tls: TlsVerify::Yes,
            headers: Vec::new(),
            use_env: true,
            timeout: Some(Duration::from_secs(60)),
            retry: RetryPolicy::default(),
            ibm: None,
            team_id: None,
            authenticator: None,
            user_agent: concat!("vigil-sysdig/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl ClientBuilder {
    /// The Sysdig Monitor API token (a UUID per user and team).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// The base URL (default [`DEFAULT_URL`]). A trailing `/` and a trailing `/api` (as IBM's
    /// docs write the endpoints) are removed.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// TLS verification, or a CA bundle.
    pub fn tls(mut self, tls: TlsVerify) -> Self {
        self.tls = tls;
        self
    }

    /// A header sent on every request, after the defaults, so it may replace
    /// `Authorization` or `Content-Type` (sdcclient's `custom_headers`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether `SDC_TOKEN`, `SDC_URL` and `SDC_SSL_VERIFY` override the values given to the
    /// builder, as in sdcclient (default: yes).
    pub fn use_env(mut self, yes: bool) -> Self {
        self.use_env = yes;
        self
    }

    /// Timeout of each whole request (default 60 s; `None` waits forever, as sdcclient does).
    pub fn timeout(mut self, t: Option<Duration>) -> Self {
        self.timeout = t;
        self
    }

    pub fn retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }

    /// IBM Cloud Monitoring: exchange `apikey` at IAM and send the instance id.
    pub fn ibm_iam(mut self, apikey: impl Into<String>, instance_id: impl Into<String>) -> Self {
        self.ibm = Some(IbmConfig {
            apikey: SecretString::from(apikey.into()),
            instance_id: instance_id.into(),
            iam_url: None,
        });
        self
    }

    /// The IAM base URL (default: derived from the monitoring URL, see
    /// [`default_iam_url`]). Only used with [`ClientBuilder::ibm_iam`].
    pub fn ibm_iam_url(mut self, url: impl Into<String>) -> Self {
        if let Some(i) = &mut self.ibm {
            i.iam_url = Some(url.into());
        }
        self
    }

    /// IBM: act in this team (sends `TeamID` and `SysdigTeamID`). A Sysdig token already
    /// names its team, so this is ignored without IBM IAM.
    pub fn team_id(mut self, id: u64) -> Self {
        self.team_id = Some(id);
        self
    }

    /// Any authenticator, replacing token and IBM settings.
    pub fn authenticator(mut self, a: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(a);
        self
    }

    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(t) = get("SDC_TOKEN") {
            self.token = Some(SecretString::from(t));
        }
        if let Some(u) = get("SDC_URL") {
            self.url = Some(u);
        }
        if let Some(v) = get("SDC_SSL_VERIFY") {
            self.tls = TlsVerify::parse(&v);
        }
    }

    /// # Errors
    /// A base URL that is not http(s), a CA bundle that cannot be read, an invalid header, or
    /// no credentials.
    pub fn build(mut self) -> Result<Client> {
        if self.use_env {
            self.apply_env(|k| std::env::var(k).ok());
        }
        let raw = self.url.clone().unwrap_or_else(|| DEFAULT_URL.to_string());
        let base = normalize_url(&raw)?;
        let auth: Arc<dyn Authenticator> = match (self.authenticator, self.ibm) {
            (Some(a), _) => a,
            (None, Some(ibm)) => {
                let iam_url = ibm
                    .iam_url
                    .unwrap_or_else(|| default_iam_url(&raw).to_string());
                Arc::new(
                    IbmIam::new(ibm.apikey.expose_secret(), ibm.instance_id, iam_url)
                        .team_id(self.team_id),
                )
            }
            (None, None) => {
                // sdcclient sends `Bearer ` with an empty token; a missing token is almost
                // always a mistake, unless custom headers carry the credentials.
                let token = match self.token {
                    Some(t) => t,
                    None if self
                        .headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("authorization")) =>
                    {
                        SecretString::from(String::new())
                    }
                    None => {
                        return Err(Error::Config(
                            "no Sysdig API token (set SDC_TOKEN or pass a token)".into(),
                        ));
                    }
                };
                Arc::new(SysdigApiToken::new(token.expose_secret()))
            }
        };
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name {k:?}")))?;
            let mut value = HeaderValue::from_str(v)
                .map_err(|_| Error::Config(format!("invalid value for header {k}")))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        // One crypto provider for the process: ring, as in the monasca crate.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut http = reqwest::Client::builder().user_agent(self.user_agent);
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        match &self.tls {
            TlsVerify::Yes => {}
            TlsVerify::No => http = http.danger_accept_invalid_certs(true),
            TlsVerify::CaBundle(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Error::Config(format!("cannot read CA bundle {}: {e}", path.display()))
                })?;
                for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    Error::Config(format!("invalid CA bundle {}: {e}", path.display()))
                })? {
                    http = http.add_root_certificate(cert);
                }
            }
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                headers,
                retry: self.retry,
            }),
        })
    }
}

/// Strips a trailing `/` and a trailing `/api`: paths are appended as `/api/...`.
fn normalize_url(raw: &str) -> Result<Url> {
    let mut s = raw.trim().trim_end_matches('/');
    if let Some(stripped) = s.strip_suffix("/api") {
        s = stripped.trim_end_matches('/');
    }
    let url = Url::parse(s).map_err(|e| Error::InvalidUrl {
        url: raw.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl {
            url: raw.to_string(),
            reason: "the scheme must be http or https".into(),
        });
    }
    Ok(url)
}

/// A Sysdig Monitor / IBM Cloud Monitoring client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Arc<dyn Authenticator>,
    headers: HeaderMap,
    retry: RetryPolicy,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder; with nothing set it talks to [`DEFAULT_URL`] with `SDC_TOKEN`.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The normalised base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Executes an operation and decodes its answer.
    ///
    /// # Errors
    /// Transport failures, error statuses ([`Error::Api`], with sdcclient's message) and
    /// undecodable answers.
    pub async fn send<E: Endpoint + Sync>(&self, ep: &E) -> Result<E::Output> {
        let url = ep.url(&self.inner.base)?;
        let body = ep.body()?;
        let bytes = self.execute(ep.method(), url.clone(), body).await?;
        if ep.ignores_body() || bytes.is_empty() {
            return decode(url.as_str(), None, Value::Null);
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
            url: url.to_string(),
            path: ".".into(),
            source,
        })?;
        decode(url.as_str(), ep.envelope(), v)
    }

    /// Any other call on the same authenticated connection, answered as raw JSON.
    ///
    /// ```no_run
    /// # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
    /// let timelines = client.raw(http::Method::GET, "/api/history/timelines/").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn raw(&self, method: Method, path: impl Into<String>) -> RawRequest<'_> {
        RawRequest {
            client: self,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    pub(crate) async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let idempotent = matches!(
            method,
            Method::GET | Method::PUT | Method::HEAD | Method::OPTIONS
        );
        let mut reauthenticated = false;
        let mut retries = 0u32;
        loop {
            let auth = self.inner.auth.headers(&self.inner.http).await?;
            let mut req = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::CONTENT_TYPE, "application/json");
            // Custom headers last: they may replace the credentials (sdcclient semantics).
            let mut headers = auth;
            for (k, v) in &self.inner.headers {
                headers.insert(k.clone(), v.clone());
            }
            req = req.headers(headers);
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(source) => {
                    if idempotent && source.is_connect() && retries < self.inner.retry.max_retries {
                        tokio::time::sleep(self.inner.retry.backoff(retries)).await;
                        retries += 1;
                        continue;
                    }
                    return Err(Error::Transport {
                        url: url.to_string(),
                        source,
                    });
                }
            };
            let status = resp.status().as_u16();
            if status == 401 && !reauthenticated && self.inner.auth.can_refresh() {
                self.inner.auth.invalidate();
                reauthenticated = true;
                continue;
            }
            if idempotent
                && matches!(status, 500 | 502 | 503 | 504)
                && retries < self.inner.retry.max_retries
            {
                let delay = retry_after(resp.headers())
                    .unwrap_or_else(|| self.inner.retry.backoff(retries))
                    .min(self.inner.retry.max_backoff);
                tokio::time::sleep(delay).await;
                retries += 1;
                continue;
            }
            let bytes = resp.bytes().await.map_err(|source| Error::Transport {
                url: url.to_string(),
                source,
            })?;
            if status >= 300 {
                return Err(Error::from_response(
                    status,
                    method.as_str(),
                    url.as_str(),
                    &bytes,
                ));
            }
            return Ok(bytes.to_vec());
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp().as_second();
    let now = jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

fn decode<T: DeserializeOwned>(url: &str, key: Option<&str>, v: Value) -> Result<T> {
    let v = match (key, v) {
        (Some(k), Value::Object(mut m)) => m.remove(k).ok_or_else(|| Error::Decode {
            url: url.to_string(),
            path: k.to_string(),
            source: serde::de::Error::custom(format!("missing field `{k}`")),
        })?,
        (Some(k), _) => {
            return Err(Error::Decode {
                url: url.to_string(),
                path: ".".into(),
                source: serde::de::Error::custom(format!("expected an object with `{k}`")),
            });
        }
        (None, v) => v,
    };
    serde_path_to_error::deserialize(v).map_err(|e| Error::Decode {
        url: url.to_string(),
        path: match key {
            Some(k) => format!("{k}.{}", e.path()),
            None => e.path().to_string(),
        },
        source: e.into_inner(),
    })
}

/// A call that this crate has no typed operation for: see [`Client::raw`].
#[must_use]
pub struct RawRequest<'a> {
    client: &'a Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl RawRequest<'_> {
    pub fn query(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.query.push((k.into(), v.into()));
        self
    }

    /// A JSON body.
    ///
    /// # Errors
    /// A value that does not serialize.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self> {
        self.body = crate::request::json_body(body)?;
        Ok(self)
    }

    /// Sends the request; an empty success body is `null`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn send(self) -> Result<Value> {
        let base = &self.client.inner.base;
        let mut url = base.clone();
        let p = if self.path.starts_with('/') {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        url.set_path(&format!("{}{p}", base.path().trim_end_matches('/')));
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let bytes = self
            .client
            .execute(self.method, url.clone(), self.body)
            .await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
            url: url.to_string(),
            path: ".".into(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_urls() {
        let n = |s| normalize_url(s).map(|u| u.to_string()).unwrap_or_default();
        assert_eq!(
            n("https://app.sysdigcloud.com/"),
            "https://app.sysdigcloud.com/"
        );
        assert_eq!(
            n("https://us-south.monitoring.cloud.ibm.com/api"),
            "https://us-south.monitoring.cloud.ibm.com/"
        );
        assert_eq!(n("http://h:1/api/"), "http://h:1/");
        assert_eq!(n("http://h:1/prefix"), "http://h:1/prefix");
        assert!(normalize_url("ftp://h").is_err());
    }

    #[test]
    fn env_wins_unless_opted_out() {
        let env = |k: &str| match k {
            "SDC_TOKEN" => Some("env-token".to_string()),
            "SDC_URL" => Some("http://env:1".to_string()),
            "SDC_SSL_VERIFY" => Some("FALSE".to_string()),
            _ => None,
        };
        let mut b = Client::builder().token("arg").url("http://arg:2");
        b.apply_env(env);
        assert_eq!(b.url.as_deref(), Some("http://env:1"));
        assert_eq!(
            b.token
                .as_ref()
                .map(|t| t.expose_secret().to_string())
                .as_deref(),
            Some("env-token")
        );
        assert_eq!(b.tls, TlsVerify::No);
        assert!(!format!("{b:?}").contains("env-token"));
        assert_eq!(TlsVerify::parse("True"), TlsVerify::Yes);
        assert_eq!(
            TlsVerify::parse("/etc/ssl/ca.pem"),
            TlsVerify::CaBundle("/etc/ssl/ca.pem".into())
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let r = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        assert_eq!(r.backoff(0), Duration::from_millis(100));
        assert_eq!(r.backoff(1), Duration::from_millis(200));
        assert_eq!(r.backoff(2), Duration::from_millis(350));
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
