//! A Keystone token: its value (from `X-Subject-Token`), its expiry and what the response body
//! says about it, and the clock that decides when it must be renewed.

use std::{fmt, time::Duration};

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::catalog::Catalog;

/// How long before `expires_at` a token counts as expired, so that a request started with it
/// does not arrive after it lapsed (keystoneauth and openstack_sdk use the same margin).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A name and an id (`token.project`, `token.user`, `token.roles[]`, their domains).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct NamedRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<Box<NamedRef>>,
}

/// The part of the `{"token": {...}}` body that we use.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenInfo {
    /// Absent for tokens that never expire (not something Keystone issues, but tolerated).
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub issued_at: Option<Timestamp>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub catalog: Catalog,
    #[serde(default)]
    pub project: Option<NamedRef>,
    #[serde(default)]
    pub domain: Option<NamedRef>,
    #[serde(default)]
    pub user: Option<NamedRef>,
    #[serde(default)]
    pub roles: Vec<NamedRef>,
}

#[derive(Deserialize)]
pub(crate) struct TokenBody {
    pub token: TokenInfo,
}

/// An issued token. Its `Debug` never shows the token itself.
#[derive(Clone)]
pub struct AuthToken {
    value: SecretString,
    pub info: TokenInfo,
}

impl AuthToken {
    pub fn new(value: impl Into<String>, info: TokenInfo) -> Self {
        Self {
            value: SecretString::from(value.into()),
            info,
        }
    }

    /// The token, for the `X-Auth-Token` header.
    pub fn secret(&self) -> &SecretString {
        &self.value
    }

    pub(crate) fn expose(&self) -> &str {
        self.value.expose_secret()
    }

    pub fn expires_at(&self) -> Option<Timestamp> {
        self.info.expires_at
    }

    pub fn catalog(&self) -> &Catalog {
        &self.info.catalog
    }

    /// Whether the token can still be used at `now`, keeping `margin` before its expiry.
    pub fn is_fresh(&self, now: Timestamp, margin: Duration) -> bool {
        match self.info.expires_at {
            None => true,
            Some(exp) => match jiff::SignedDuration::try_from(margin) {
                Ok(m) => now.checked_add(m).is_ok_and(|t| t < exp),
                Err(_) => false,
            },
        }
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthToken")
            .field("value", &"<redacted>")
            .field("expires_at", &self.info.expires_at)
            .field("project", &self.info.project)
            .field("user", &self.info.user)
            .field("roles", &self.info.roles)
            .field("services", &self.info.catalog.0.len())
            .finish()
    }
}

/// Where "now" comes from; tests inject a fixed one.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn fixture() -> TokenInfo {
        let b: TokenBody =
            serde_json::from_str(include_str!("../tests/fixtures/token-project-scoped.json"))
                .unwrap();
        b.token
    }

    #[test]
    fn parses_the_api_reference_body() {
        let t = fixture();
        assert_eq!(
            t.expires_at.unwrap().to_string(),
            "2015-11-07T02:58:43.578887Z"
        );
        assert_eq!(t.project.unwrap().name.as_deref(), Some("mini-mon"));
        assert_eq!(
            t.user.unwrap().id.as_deref(),
            Some("ee4dfb6e5540447cb3741905149d9b6e")
        );
        assert_eq!(t.roles[0].name.as_deref(), Some("monasca-user"));
        assert_eq!(t.methods, ["password"]);
        assert_eq!(t.catalog.0.len(), 3);
    }

    #[test]
    fn expiry_keeps_a_margin() {
        let tok = AuthToken::new("t", fixture());
        let exp: Timestamp = "2015-11-07T02:58:43.578887Z".parse().unwrap();
        let at = |secs: i64| {
            exp.checked_sub(jiff::SignedDuration::from_secs(secs))
                .unwrap()
        };
        assert!(tok.is_fresh(at(3600), EXPIRY_MARGIN));
        assert!(tok.is_fresh(at(61), EXPIRY_MARGIN));
        assert!(!tok.is_fresh(at(60), EXPIRY_MARGIN));
        assert!(!tok.is_fresh(at(59), EXPIRY_MARGIN));
        assert!(!tok.is_fresh(at(-10), EXPIRY_MARGIN));
        assert!(tok.is_fresh(at(1), Duration::ZERO));
        let forever = AuthToken::new("t", TokenInfo::default());
        assert!(forever.is_fresh(Timestamp::MAX, EXPIRY_MARGIN));
    }

    #[test]
    fn debug_hides_the_token() {
        let tok = AuthToken::new("gAAAAABsecret-token", fixture());
        let d = format!("{tok:?}");
        assert!(!d.contains("gAAAAABsecret-token"), "{d}");
        assert!(d.contains("mini-mon"));
    }
}
