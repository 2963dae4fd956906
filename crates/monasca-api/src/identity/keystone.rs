//! `--auth keystone`: tokens are validated against a real Keystone with the service's own
//! credentials (`GET /v3/auth/tokens` with `X-Subject-Token`), and the answers are cached for a
//! bounded time and number of tokens, as keystonemiddleware does.

use std::{
    collections::HashMap,
    fmt,
    sync::Mutex,
    time::{Duration, Instant},
};

use keystone_auth::{
    AuthMethod, Credentials, DomainRef, KeystoneSession, ProjectRef, Scope, UserRef,
};
use serde::Deserialize;
use serde_json::Value;

use super::{Principal, TokenStoreDown};

/// The service credentials and cache bounds of `--auth keystone`.
#[derive(Clone, Deserialize)]
pub struct KeystoneConfig {
    /// The Keystone auth URL, e.g. `http://keystone:5000` or `.../v3`.
    pub url: String,
    pub username: String,
    /// Also from `VIGIL_KEYSTONE_PASSWORD`, which wins.
    #[serde(default)]
    pub password: String,
    pub project: String,
    #[serde(default = "default_domain")]
    pub user_domain: String,
    #[serde(default = "default_domain")]
    pub project_domain: String,
    /// Seconds a validated token is trusted before Keystone is asked again.
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl: u64,
    /// At most this many validated tokens are kept.
    #[serde(default = "default_cache_size")]
    pub cache_size: usize,
}

fn default_domain() -> String {
    "Default".into()
}
fn default_cache_ttl() -> u64 {
    300
}
fn default_cache_size() -> usize {
    10_000
}

impl fmt::Debug for KeystoneConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("project", &self.project)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_size", &self.cache_size)
            .finish()
    }
}

pub struct KeystoneValidator {
    /// The configured auth URL, which 401 answers name as the place to get a token.
    auth_url: String,
    session: KeystoneSession,
    http: reqwest::Client,
    tokens_url: String,
    ttl: Duration,
    size: usize,
    cache: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl KeystoneValidator {
    /// # Errors
    /// An auth URL that does not parse or a TLS set-up failure.
    pub fn new(cfg: &KeystoneConfig) -> anyhow::Result<Self> {
        let creds = Credentials::new(
            AuthMethod::password(
                UserRef::name(
                    cfg.username.clone(),
                    DomainRef::Name(cfg.user_domain.clone()),
                ),
                cfg.password.clone(),
            ),
            Scope::Project(ProjectRef::name(
                cfg.project.clone(),
                DomainRef::Name(cfg.project_domain.clone()),
            )),
        );
        let session = KeystoneSession::builder(cfg.url.clone(), creds)
            .build()
            .map_err(|e| anyhow::anyhow!("keystone: {e}"))?;
        let base = cfg.url.trim_end_matches('/');
        let v3 = if base.ends_with("/v3") {
            base.to_string()
        } else {
            format!("{base}/v3")
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| anyhow::anyhow!("keystone: cannot set up HTTP: {e}"))?;
        Ok(Self {
            auth_url: cfg.url.clone(),
            session,
            http,
            tokens_url: format!("{v3}/auth/tokens"),
            ttl: Duration::from_secs(cfg.cache_ttl),
            size: cfg.cache_size.max(1),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The Keystone clients are sent to for a token.
    pub fn auth_url(&self) -> &str {
        &self.auth_url
    }

    fn cached(&self, token: &str) -> Option<Principal> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(token)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(p, _)| p.clone())
    }

    /// The caller presenting `token`, `Ok(None)` if Keystone does not know it, and
    /// [`TokenStoreDown`] when Keystone cannot be asked (unreachable, failing, or refusing this
    /// service's own login): a 503 then, as keystonemiddleware answers, never a request let
    /// through and never a 401 telling the client its token is bad.
    pub async fn validate(&self, token: &str) -> Result<Option<Principal>, TokenStoreDown> {
        if let Some(p) = self.cached(token) {
            return Ok(Some(p));
        }
        let service = match self.session.authenticate().await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "keystone: the service cannot log in");
                return Err(TokenStoreDown);
            }
        };
        let resp = self
            .http
            .get(&self.tokens_url)
            .header(
                "X-Auth-Token",
                secrecy::ExposeSecret::expose_secret(service.secret()),
            )
            .header("X-Subject-Token", token)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "keystone: token validation failed");
                return Err(TokenStoreDown);
            }
        };
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            // The service token went stale: log in again next time.
            self.session.invalidate();
        }
        if resp.status().is_server_error() {
            tracing::error!(
                status = resp.status().as_u16(),
                "keystone: token validation failed"
            );
            return Err(TokenStoreDown);
        }
        if !resp.status().is_success() {
            return Ok(None);
        }
        Ok(self.principal_of(resp.json().await.ok(), token))
    }

    /// The caller a validation answer names (cached for the token), if it names one.
    fn principal_of(&self, body: Option<Value>, token: &str) -> Option<Principal> {
        let body = body?;
        let t = &body["token"];
        let project = t["project"]["id"].as_str()?.to_string();
        let roles = t["roles"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let p = Principal {
            user: t["user"]["name"].as_str().map(str::to_string),
            project,
            roles,
        };
        let expires = t["expires_at"]
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|e| (e.as_millisecond() - jiff::Timestamp::now().as_millisecond()).max(0))
            .map(|ms| Duration::from_millis(ms as u64))
            .unwrap_or(self.ttl);
        let until = Instant::now() + self.ttl.min(expires);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.size {
            let now = Instant::now();
            cache.retain(|_, (_, u)| *u > now);
            if cache.len() >= self.size {
                cache.clear();
            }
        }
        cache.insert(token.to_string(), (p.clone(), until));
        Some(p)
    }
}
