//! Where the client's credentials come from: a static Sysdig API token, or an IBM Cloud IAM
//! API key exchanged for short-lived IAM tokens (refreshed before they expire and once after
//! a 401; sdcclient's `IbmAuthHelper` never refreshes, so its scripts die after an hour).

use std::{
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::{Error, Result};

/// A source of authentication headers. The client asks before each request; after a 401 it
/// calls [`Authenticator::invalidate`] and retries once if [`Authenticator::can_refresh`].
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// The headers that authenticate a request (`Authorization`, `IBMInstanceID`, ...).
    fn headers<'a>(&'a self, http: &'a reqwest::Client) -> BoxFuture<'a, Result<HeaderMap>>;

    /// Forget any cached token: the server refused it.
    fn invalidate(&self) {}

    /// Whether a retry after [`Authenticator::invalidate`] can produce different headers.
    fn can_refresh(&self) -> bool {
        false
    }
}

fn header(v: &str) -> Result<HeaderValue> {
    let mut h = HeaderValue::from_str(v).map_err(|_| {
        Error::Config("a credential contains characters not allowed in a header".into())
    })?;
    h.set_sensitive(true);
    Ok(h)
}

/// A Sysdig Monitor API token, sent as `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct SysdigApiToken(SecretString);

impl SysdigApiToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }
}

impl fmt::Debug for SysdigApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SysdigApiToken(<redacted>)")
    }
}

impl Authenticator for SysdigApiToken {
    fn headers<'a>(&'a self, _: &'a reqwest::Client) -> BoxFuture<'a, Result<HeaderMap>> {
        Box::pin(async move {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::AUTHORIZATION,
                header(&format!("Bearer {}", self.0.expose_secret()))?,
            );
            Ok(h)
        })
    }
}

/// The production IAM endpoint.
pub const IBM_IAM_URL: &str = "https://iam.cloud.ibm.com";
/// The staging IAM endpoint, used for monitoring URLs that contain `.test.`.
pub const IBM_IAM_TEST_URL: &str = "https://iam.test.cloud.ibm.com";

/// The IAM endpoint sdcclient picks for a monitoring URL.
pub fn default_iam_url(monitoring_url: &str) -> &'static str {
    if monitoring_url.contains(".test.") {
        IBM_IAM_TEST_URL
    } else {
        IBM_IAM_URL
    }
}

/// IBM Cloud Monitoring: an IAM API key, exchanged at `<iam_url>/identity/token` for an IAM
/// token sent as `Authorization: Bearer` with `IBMInstanceID` (and the team, if chosen, as
/// both `TeamID` and `SysdigTeamID`, the two spellings IBM documents).
pub struct IbmIam {
    apikey: SecretString,
    instance_id: String,
    iam_url: String,
    team_id: Option<u64>,
    margin: Duration,
    cached: Mutex<Option<Cached>>,
    /// Bumped on every successful exchange; tests and `--debug` read it.
    exchanges: std::sync::atomic::AtomicU64,
}

struct Cached {
    token: SecretString,
    /// When to fetch a new one (expiry minus the safety margin).
    refresh_at: SystemTime,
}

impl fmt::Debug for IbmIam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IbmIam")
            .field("apikey", &"<redacted>")
            .field("instance_id", &self.instance_id)
            .field("iam_url", &self.iam_url)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct IamAnswer {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    expiration: Option<u64>,
}

impl IbmIam {
    /// `iam_url` is the IAM base URL (`https://iam.cloud.ibm.com`, see [`default_iam_url`]).
    pub fn new(
        apikey: impl Into<String>,
        instance_id: impl Into<String>,
        iam_url: impl Into<String>,
    ) -> Self {
        Self {
            apikey: SecretString::from(apikey.into()),
            instance_id: instance_id.into(),
            iam_url: iam_url.into().trim_end_matches('/').to_string(),
            team_id: None,
            margin: Duration::from_secs(60),
            cached: Mutex::new(None),
            exchanges: Default::default(),
        }
    }

    /// Act in this team instead of the instance's default team.
    #[must_use]
    pub fn team_id(mut self, id: Option<u64>) -> Self {
        self.team_id = id;
        self
    }

    /// Refresh this long before the token expires (default 60 s; never more than a quarter of
    /// the token's lifetime, so short-lived tokens are still reused).
    #[must_use]
    pub fn refresh_margin(mut self, m: Duration) -> Self {
        self.margin = m;
        self
    }

    /// How many tokens were fetched so far.
    pub fn exchanges(&self) -> u64 {
        self.exchanges.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn exchange(&self, http: &reqwest::Client) -> Result<Cached> {
        let url = format!("{}/identity/token", self.iam_url);
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ibm:params:oauth:grant-type:apikey")
            .append_pair("response_type", "cloud_iam")
            .append_pair("apikey", self.apikey.expose_secret())
            .finish();
        let resp = http
            .post(&url)
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|source| Error::Transport {
                url: url.clone(),
                source,
            })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|source| Error::Transport {
            url: url.clone(),
            source,
        })?;
        if status != 200 {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let message = ["errorMessage", "message", "errorCode"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|m| m.as_str()))
                .map(str::to_string)
                .unwrap_or_else(|| format!("status code {status}"));
            return Err(Error::Iam {
                status,
                message,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let a: IamAnswer = serde_json::from_slice(&body).map_err(|source| Error::Decode {
            url,
            path: ".".into(),
            source,
        })?;
        let now = SystemTime::now();
        let expires_at = match (a.expiration, a.expires_in) {
            (Some(e), _) => UNIX_EPOCH + Duration::from_secs(e),
            (None, Some(s)) => now + Duration::from_secs(s),
            (None, None) => now + Duration::from_secs(3600),
        };
        let lifetime = expires_at.duration_since(now).unwrap_or_default();
        let margin = self.margin.min(lifetime / 4);
        self.exchanges
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Cached {
            token: a.access_token,
            refresh_at: expires_at - margin,
        })
    }
}

impl Authenticator for IbmIam {
    fn headers<'a>(&'a self, http: &'a reqwest::Client) -> BoxFuture<'a, Result<HeaderMap>> {
        Box::pin(async move {
            // One exchange at a time: concurrent requests wait for the same fresh token.
            let mut cached = self.cached.lock().await;
            let stale = cached
                .as_ref()
                .is_none_or(|c| SystemTime::now() >= c.refresh_at);
            if stale {
                *cached = Some(self.exchange(http).await?);
            }
            let mut h = HeaderMap::new();
            if let Some(c) = cached.as_ref() {
                h.insert(
                    http::header::AUTHORIZATION,
                    header(&format!("Bearer {}", c.token.expose_secret()))?,
                );
            }
            h.insert(
                HeaderName::from_static("ibminstanceid"),
                HeaderValue::from_str(&self.instance_id)
                    .map_err(|_| Error::Config("invalid IBM instance id".into()))?,
            );
            if let Some(t) = self.team_id {
                let v = HeaderValue::from(t);
                h.insert(HeaderName::from_static("teamid"), v.clone());
                h.insert(HeaderName::from_static("sysdigteamid"), v);
            }
            Ok(h)
        })
    }

    fn invalidate(&self) {
        if let Ok(mut c) = self.cached.try_lock() {
            *c = None;
        }
    }

    fn can_refresh(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        assert!(!format!("{:?}", SysdigApiToken::new("s3cr3t")).contains("s3cr3t"));
        let i = IbmIam::new("k3y-s3cr3t", "inst", IBM_IAM_URL);
        assert!(!format!("{i:?}").contains("k3y-s3cr3t"));
        assert_eq!(
            default_iam_url("https://us-south.monitoring.test.cloud.ibm.com"),
            IBM_IAM_TEST_URL
        );
        assert_eq!(
            default_iam_url("https://us-south.monitoring.cloud.ibm.com"),
            IBM_IAM_URL
        );
    }
}
