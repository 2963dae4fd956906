//! Tokens issued by Vigil's built-in identity service. One node keeps them in memory
//! ([`MemoryTokens`]: clients log in again after a restart, as when a token expires); nodes that
//! share a PostgreSQL config database keep them there, so a token issued by one node is
//! accepted by every other. Tokens are stored under a hash of their text, never in clear; so are
//! the secrets of application credentials ([`AppCredentialRepo`]).

use std::{collections::HashMap, sync::Mutex};

use async_trait::async_trait;

use crate::RepoResult;

/// What an issued token grants, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    pub user: String,
    pub project: Option<String>,
    pub roles: Vec<String>,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
}

/// Issued tokens by the hash of their text.
#[async_trait]
pub trait TokenRepo: Send + Sync {
    /// Keeps a newly issued token (and forgets expired ones).
    async fn insert(&self, token_hash: &str, token: &StoredToken) -> RepoResult<()>;
    /// The token with this hash if it has not expired at `now_ms`.
    async fn get(&self, token_hash: &str, now_ms: i64) -> RepoResult<Option<StoredToken>>;
    /// Revokes a token; true if it existed.
    async fn remove(&self, token_hash: &str) -> RepoResult<bool>;
}

/// Tokens of a single node, in memory.
#[derive(Debug, Default)]
pub struct MemoryTokens(Mutex<HashMap<String, StoredToken>>);

impl MemoryTokens {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredToken>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl TokenRepo for MemoryTokens {
    async fn insert(&self, token_hash: &str, token: &StoredToken) -> RepoResult<()> {
        let mut map = self.map();
        map.retain(|_, t| t.expires_at_ms > token.issued_at_ms);
        map.insert(token_hash.to_string(), token.clone());
        Ok(())
    }

    async fn get(&self, token_hash: &str, now_ms: i64) -> RepoResult<Option<StoredToken>> {
        Ok(self
            .map()
            .get(token_hash)
            .filter(|t| t.expires_at_ms > now_ms)
            .cloned())
    }

    async fn remove(&self, token_hash: &str) -> RepoResult<bool> {
        Ok(self.map().remove(token_hash).is_some())
    }
}

/// An application credential: a named secret acting as its user on the user's project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAppCredential {
    pub id: String,
    pub name: String,
    /// A hash of the secret, never the secret.
    pub secret_hash: String,
    pub user: String,
}

/// Application credentials of the built-in identity service.
#[async_trait]
pub trait AppCredentialRepo: Send + Sync {
    async fn create(&self, cred: &StoredAppCredential) -> RepoResult<()>;
    /// The credential with this id.
    async fn by_id(&self, id: &str) -> RepoResult<Option<StoredAppCredential>>;
    /// The credentials of `user` named `name` (names are not unique).
    async fn by_name(&self, name: &str, user: &str) -> RepoResult<Vec<StoredAppCredential>>;
}

/// Application credentials of a single node, in memory.
#[derive(Debug, Default)]
pub struct MemoryAppCredentials(Mutex<HashMap<String, StoredAppCredential>>);

impl MemoryAppCredentials {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredAppCredential>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl AppCredentialRepo for MemoryAppCredentials {
    async fn create(&self, cred: &StoredAppCredential) -> RepoResult<()> {
        self.map().insert(cred.id.clone(), cred.clone());
        Ok(())
    }

    async fn by_id(&self, id: &str) -> RepoResult<Option<StoredAppCredential>> {
        Ok(self.map().get(id).cloned())
    }

    async fn by_name(&self, name: &str, user: &str) -> RepoResult<Vec<StoredAppCredential>> {
        Ok(self
            .map()
            .values()
            .filter(|c| c.name == name && c.user == user)
            .cloned()
            .collect())
    }
}
