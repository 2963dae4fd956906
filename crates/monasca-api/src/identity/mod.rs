//! Who a request comes from: the built-in identity service (users, projects and role
//! assignments from the configuration, tokens issued by Vigil's own Keystone v3 subset), or, with
//! `--auth none`, monasca-api's no-Keystone convention where the token names the project.

pub mod keystone;
pub mod policy;

use std::{fmt, sync::Arc, time::Duration};

use config_repo::{
    RepoResult,
    identity::{
        AppCredentialRepo, MemoryAppCredentials, MemoryTokens, StoredAppCredential, TokenRepo,
    },
};

use serde::Deserialize;

/// Roles monasca-api knows by default.
pub const ROLE_USER: &str = "monasca-user";
pub const ROLE_READ_ONLY: &str = "monasca-read-only-user";
pub const ROLE_AGENT: &str = "monasca-agent";
pub const ROLE_DELEGATE: &str = "admin";

/// How `vigil serve` authenticates requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// The `X-Auth-Token` value is the project, with every role of a user (as monasca-api
    /// without Keystone).
    #[default]
    None,
    /// Vigil's built-in identity service issues and checks tokens.
    Identity,
    /// A real Keystone checks tokens (`[keystone]` in the config file).
    Keystone,
}

impl std::str::FromStr for AuthMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "identity" => Ok(Self::Identity),
            "keystone" => Ok(Self::Keystone),
            other => Err(format!(
                "unknown authentication mode {other:?}: none, identity or keystone"
            )),
        }
    }
}

/// A user of the built-in identity service.
#[derive(Clone, Deserialize)]
pub struct UserConfig {
    pub name: String,
    pub password: String,
    pub project: String,
    pub roles: Vec<String>,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("project", &self.project)
            .field("roles", &self.roles)
            .finish()
    }
}

/// The example identity of the Monasca documentation, used when none is configured.
pub fn default_users() -> Vec<UserConfig> {
    vec![
        UserConfig {
            name: "mini-mon".into(),
            password: "password".into(),
            project: "mini-mon".into(),
            roles: vec![ROLE_USER.into()],
        },
        UserConfig {
            name: "monasca-agent".into(),
            password: "password".into(),
            project: "mini-mon".into(),
            roles: vec![ROLE_AGENT.into()],
        },
    ]
}

/// The caller of a request: its project and roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user: Option<String>,
    pub project: String,
    pub roles: Vec<String>,
}

impl Principal {
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// An issued token.
pub type TokenInfo = config_repo::identity::StoredToken;

/// The token store (the shared config database) could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenStoreDown;

/// The key a token is stored under: its SHA-256, so the store never holds a usable token.
fn token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Users, and the tokens issued to them: in memory on a single node (clients log in again after
/// a restart, as they do when a token expires), in the shared config database when nodes share
/// one (see [`Identity::with_stores`]).
pub struct Identity {
    pub mode: AuthMode,
    keystone: Option<keystone::KeystoneValidator>,
    pub prefix: String,
    pub token_ttl: Duration,
    users: Vec<UserConfig>,
    tokens: Arc<dyn TokenRepo>,
    app_credentials: Arc<dyn AppCredentialRepo>,
}

/// An application credential: a named secret acting as its user on the user's project.
#[derive(Clone)]
pub struct AppCredential {
    pub id: String,
    pub name: String,
    pub secret: String,
    pub user: String,
}

impl fmt::Debug for AppCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredential")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("user", &self.user)
            .finish()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("mode", &self.mode)
            .field("prefix", &self.prefix)
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

use config_repo::now_ms;

impl Identity {
    pub fn new(
        mode: AuthMode,
        prefix: String,
        users: Vec<UserConfig>,
        token_ttl: Duration,
    ) -> Self {
        let users = if users.is_empty() {
            default_users()
        } else {
            users
        };
        Self {
            keystone: None,
            mode,
            prefix,
            token_ttl,
            users,
            tokens: Arc::new(MemoryTokens::default()),
            app_credentials: Arc::new(MemoryAppCredentials::default()),
        }
    }

    /// With `--auth keystone`: validate tokens against this Keystone.
    #[must_use]
    pub fn with_keystone(mut self, v: keystone::KeystoneValidator) -> Self {
        self.keystone = Some(v);
        self
    }

    /// Where a 401 sends the client for a token (keystonemiddleware's `Keystone uri=...`
    /// challenge): Vigil's own identity service under `origin`, the configured Keystone, or
    /// nothing with `--auth none`, where no service issues tokens.
    pub fn token_issuer(&self, origin: &str) -> Option<String> {
        match self.mode {
            AuthMode::None => None,
            AuthMode::Identity => Some(format!("{origin}{}", self.prefix)),
            AuthMode::Keystone => self.keystone.as_ref().map(|k| k.auth_url().to_string()),
        }
    }

    /// Keeps tokens and application credentials in these stores instead of this node's
    /// memory (nodes sharing a database).
    #[must_use]
    pub fn with_stores(
        mut self,
        tokens: Arc<dyn TokenRepo>,
        app_credentials: Arc<dyn AppCredentialRepo>,
    ) -> Self {
        self.tokens = tokens;
        self.app_credentials = app_credentials;
        self
    }

    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Checks a password in constant time with respect to the stored one's contents.
    pub fn check_password(&self, name: &str, password: &str) -> Option<&UserConfig> {
        let u = self.user(name)?;
        vigil_http::same_secret(&u.password, password).then_some(u)
    }

    /// Creates an application credential for `user` (kept with the tokens, its secret as a
    /// hash). A secret is generated unless one is given.
    ///
    /// # Errors
    /// When the credential store fails.
    pub async fn create_app_credential(
        &self,
        user: &str,
        name: String,
        secret: Option<String>,
    ) -> RepoResult<AppCredential> {
        let cred = AppCredential {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name,
            secret: secret.unwrap_or_else(|| {
                format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                )
            }),
            user: user.to_string(),
        };
        self.app_credentials
            .create(&StoredAppCredential {
                id: cred.id.clone(),
                name: cred.name.clone(),
                secret_hash: token_hash(&cred.secret),
                user: cred.user.clone(),
            })
            .await?;
        Ok(cred)
    }

    /// The user an application credential (by id, or by name and user) with this secret
    /// acts as.
    pub async fn check_app_credential(
        &self,
        id: Option<&str>,
        name_and_user: Option<(&str, &str)>,
        secret: &str,
    ) -> Option<&UserConfig> {
        let found = match (id, name_and_user) {
            (Some(id), _) => self
                .app_credentials
                .by_id(id)
                .await
                .map(|c| c.into_iter().collect()),
            (None, Some((name, user))) => self.app_credentials.by_name(name, user).await,
            _ => Ok(Vec::new()),
        };
        let creds = found
            .map_err(|e| tracing::warn!("identity: credential store failed: {e}"))
            .ok()?;
        let hash = token_hash(secret);
        let cred = creds
            .into_iter()
            .find(|c| vigil_http::same_secret(&c.secret_hash, &hash))?;
        self.user(&cred.user)
    }

    /// Issues a token for `user`, scoped to `project` when given.
    ///
    /// # Errors
    /// When the token store fails.
    pub async fn issue(
        &self,
        user: &UserConfig,
        project: Option<String>,
    ) -> RepoResult<(String, TokenInfo)> {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = now_ms();
        let info = TokenInfo {
            user: user.name.clone(),
            roles: if project.is_some() {
                user.roles.clone()
            } else {
                Vec::new()
            },
            project,
            issued_at_ms: now,
            expires_at_ms: now + self.token_ttl.as_millis() as i64,
        };
        self.tokens.insert(&token_hash(&token), &info).await?;
        Ok((token, info))
    }

    /// The live token `token`, if any; [`TokenStoreDown`] when the store cannot say (the
    /// shared database is down): the token is then neither accepted nor refused.
    pub async fn try_lookup(&self, token: &str) -> Result<Option<TokenInfo>, TokenStoreDown> {
        self.tokens
            .get(&token_hash(token), now_ms())
            .await
            .map_err(|e| {
                tracing::warn!("identity: token store failed: {e}");
                TokenStoreDown
            })
    }

    /// [`Identity::try_lookup`], with a store failure read as "no such token".
    pub async fn lookup(&self, token: &str) -> Option<TokenInfo> {
        self.try_lookup(token).await.ok().flatten()
    }

    /// Revokes a token; true if it existed.
    pub async fn revoke(&self, token: &str) -> bool {
        self.tokens
            .remove(&token_hash(token))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("identity: token store failed: {e}");
                false
            })
    }

    /// The caller presenting `token`, for the monitoring API: `Ok(None)` for a token that is
    /// not (or no longer) valid, [`TokenStoreDown`] when the token store cannot be read — a
    /// 503, as keystonemiddleware answers when it cannot reach Keystone, not a 401 that would
    /// tell clients their token is bad.
    pub async fn principal(&self, token: &str) -> Result<Option<Principal>, TokenStoreDown> {
        Ok(match self.mode {
            AuthMode::Keystone => match self.keystone.as_ref() {
                Some(k) => k.validate(token).await?,
                None => None,
            },
            AuthMode::None => Some(Principal {
                user: None,
                project: token.to_string(),
                roles: vec![ROLE_USER.into()],
            }),
            AuthMode::Identity => self.try_lookup(token).await?.and_then(|t| {
                Some(Principal {
                    user: Some(t.user),
                    project: t.project?,
                    roles: t.roles,
                })
            }),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_passwords() {
        let users = default_users();
        assert!(!format!("{users:?}").contains("password\""));
        let id = Identity::new(
            AuthMode::Identity,
            "/identity".into(),
            Vec::new(),
            Duration::from_secs(60),
        );
        assert!(!format!("{id:?}").contains("password"));
    }

    #[tokio::test]
    async fn tokens_scope_expire_and_revoke() {
        let id = Identity::new(
            AuthMode::Identity,
            "/identity".into(),
            Vec::new(),
            Duration::from_secs(60),
        );
        assert!(id.check_password("mini-mon", "wrong").is_none());
        let u = id.check_password("mini-mon", "password").cloned();
        let Some(u) = u else {
            panic!("mini-mon must log in")
        };
        let (tok, _) = id.issue(&u, Some("mini-mon".into())).await.unwrap();
        assert_eq!(
            id.principal(&tok).await.unwrap().map(|p| p.project),
            Some("mini-mon".to_string())
        );
        let (unscoped, _) = id.issue(&u, None).await.unwrap();
        assert!(
            id.principal(&unscoped).await.unwrap().is_none(),
            "an unscoped token has no project"
        );
        assert!(id.revoke(&tok).await);
        assert!(id.principal(&tok).await.unwrap().is_none());
        let short = Identity::new(
            AuthMode::Identity,
            "/identity".into(),
            Vec::new(),
            Duration::ZERO,
        );
        let (tok, _) = short.issue(&u, Some("mini-mon".into())).await.unwrap();
        assert!(short.principal(&tok).await.unwrap().is_none(), "expired");
    }
}
