//! The async client: configuration (as sdcclient reads it, plus timeouts and retries), the
//! authenticated transport, and the generic `send` every operation goes through.

use std::{fmt, path::PathBuf, sync::Arc, time::Duration};

use client_core::{
    Answer, Api, HttpOptions, RequestObserver, TlsError, Transport, decode, join_url,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use url::Url;

pub use client_core::RetryPolicy;

use crate::{
    Error, Result,
    auth::{Authenticator, IbmIam, SysdigApiToken, default_iam_url},
    request::Endpoint,
};

/// Sysdig Monitor SaaS (US East), sdcclient's default.
pub const DEFAULT_URL: &str = "https://app.sysdigcloud.com";

/// Sysdig Secure SaaS (US East), `SdSecureClient`'s default.
pub const DEFAULT_SECURE_URL: &str = "https://secure.sysdig.com";

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
    observer: Option<Arc<dyn RequestObserver>>,
    secure: bool,
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
            .field("secure", &self.secure)
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
            observer: None,
            secure: false,
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

    /// Report every request and its timing to `o`.
    pub fn observer(mut self, o: Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(o);
        self
    }

    /// A client of Sysdig Secure: [`DEFAULT_SECURE_URL`] unless a URL is given, and
    /// `SDC_SECURE_TOKEN` / `SDC_SECURE_URL` (sdc-cli's and sdcclient's test variables) win over
    /// `SDC_TOKEN` / `SDC_URL`, which still win over the values given (as in sdcclient).
    pub fn secure(mut self) -> Self {
        self.secure = true;
        self
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        let pick = |secure: &str, plain: &str| {
            self.secure
                .then(|| get(secure))
                .flatten()
                .or_else(|| get(plain))
        };
        if let Some(t) = pick("SDC_SECURE_TOKEN", "SDC_TOKEN") {
            self.token = Some(SecretString::from(t));
        }
        if let Some(u) = pick("SDC_SECURE_URL", "SDC_URL") {
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
        let default = if self.secure {
            DEFAULT_SECURE_URL
        } else {
            DEFAULT_URL
        };
        let raw = self.url.clone().unwrap_or_else(|| default.to_string());
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
        let mut http = HttpOptions {
            timeout: self.timeout,
            user_agent: self.user_agent,
            ..HttpOptions::default()
        };
        let mut ca_path = None;
        match &self.tls {
            TlsVerify::Yes => {}
            TlsVerify::No => http.insecure = true,
            TlsVerify::CaBundle(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Error::Config(format!("cannot read CA bundle {}: {e}", path.display()))
                })?;
                http.ca_pems.push(pem);
                ca_path = Some(path.display());
            }
        }
        let http = http.build().map_err(|e| match (e, ca_path) {
            (TlsError::InvalidCa(e), Some(path)) => {
                Error::Config(format!("invalid CA bundle {path}: {e}"))
            }
            (TlsError::EmptyCa, Some(path)) => {
                Error::Config(format!("invalid CA bundle {path}: it holds no certificate"))
            }
            (e, _) => Error::Config(e.to_string()),
        })?;
        let transport = Transport::new(http)
            .retry(self.retry)
            .observer(self.observer);
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base,
                credentials: Credentials { auth, headers },
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
    transport: Transport,
    base: Url,
    credentials: Credentials,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("auth", &self.credentials.auth)
            .field(
                "headers",
                &self.credentials.headers.keys().collect::<Vec<_>>(),
            )
            .field("retry", self.transport.retry_policy())
            .finish_non_exhaustive()
    }
}

/// What the kit needs to know of Sysdig: its headers and the error messages sdcclient reads.
struct Credentials {
    auth: Arc<dyn Authenticator>,
    /// sdcclient's `custom_headers`.
    headers: HeaderMap,
}

impl Api for Credentials {
    type Error = Error;

    async fn headers(&self, http: &reqwest::Client) -> Result<HeaderMap> {
        // sdcclient sends `Content-Type: application/json` on every request, body or not; the
        // custom headers come last: they may replace it or the credentials.
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.extend(self.auth.headers(http).await?);
        h.extend(self.headers.clone());
        Ok(h)
    }

    fn error(&self, method: &Method, url: &Url, answer: Answer) -> Error {
        Error::from_response(
            answer.status.as_u16(),
            method.as_str(),
            url.as_str(),
            &answer.body,
        )
    }

    fn invalidate(&self) {
        self.auth.invalidate();
    }

    fn can_refresh(&self) -> bool {
        self.auth.can_refresh()
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
        let (url, body) = self
            .inner
            .transport
            .call_endpoint(&self.inner.credentials, &self.inner.base, ep)
            .await?;
        let Some(body) = body else {
            return Ok(decode::value(url.as_str(), None, Value::Null)?);
        };
        let v = decode::parse(url.as_str(), &body)?;
        Ok(decode::value(url.as_str(), ep.envelope(), v)?)
    }

    /// Executes an operation whose answer is text (a CSV report), returned as sent.
    ///
    /// # Errors
    /// As [`Client::send`], and an answer that is not UTF-8.
    pub async fn send_text<E: Endpoint + Sync>(&self, ep: &E) -> Result<String> {
        let (url, body) = self
            .inner
            .transport
            .call_endpoint(&self.inner.credentials, &self.inner.base, ep)
            .await?;
        String::from_utf8(body.map(|b| b.to_vec()).unwrap_or_default())
            .map_err(|_| Error::Invalid(format!("the answer of {url} is not UTF-8 text")))
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
        self.body = client_core::json_body(body)?;
        Ok(self)
    }

    /// Sends the request; an empty success body is `null`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn send(self) -> Result<Value> {
        let url = join_url(&self.client.inner.base, &self.path, &self.query)?;
        let client = &self.client.inner;
        let bytes = client
            .transport
            .call(
                &client.credentials,
                &self.method,
                &url,
                self.body.map(Into::into),
            )
            .await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(decode::parse(url.as_str(), &bytes)?)
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
        let secure_env = |k: &str| match k {
            "SDC_SECURE_TOKEN" => Some("secure-token".to_string()),
            other => env(other),
        };
        let mut s = Client::builder().secure();
        s.apply_env(secure_env);
        assert_eq!(s.url.as_deref(), Some("http://env:1"));
        assert_eq!(
            s.token.as_ref().map(|t| t.expose_secret().to_string()),
            Some("secure-token".to_string())
        );
        let mut m = Client::builder();
        m.apply_env(secure_env);
        assert_eq!(
            m.token.as_ref().map(|t| t.expose_secret().to_string()),
            Some("env-token".to_string())
        );
        assert_eq!(TlsVerify::parse("True"), TlsVerify::Yes);
        assert_eq!(
            TlsVerify::parse("/etc/ssl/ca.pem"),
            TlsVerify::CaBundle("/etc/ssl/ca.pem".into())
        );
    }
}
