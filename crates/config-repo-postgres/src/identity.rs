//! Tokens of the built-in identity service in `identity_tokens`, so that every node accepts a
//! token any node issued. Rows are keyed by the token's hash; expired rows are deleted when a
//! token is issued. Application credentials, with a hash of their secret, in
//! `identity_app_credentials`.

use async_trait::async_trait;
use config_repo::{
    RepoError, RepoResult,
    identity::{AppCredentialRepo, StoredAppCredential, StoredToken, TokenRepo},
};
use postgres::Row;

use crate::{PgDb, PgResultExt, error::col};

/// [`TokenRepo`] on PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgTokens {
    db: PgDb,
}

impl PgTokens {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }
}

#[async_trait]
impl TokenRepo for PgTokens {
    async fn insert(&self, token_hash: &str, token: &StoredToken) -> RepoResult<()> {
        let hash = token_hash.to_string();
        let token = token.clone();
        let roles = serde_json::to_string(&token.roles)
            .map_err(|e| RepoError::Storage(format!("token roles: {e}")))?;
        self.db
            .tx(move |tx| {
                tx.execute(
                    "DELETE FROM identity_tokens WHERE expires_at_ms <= $1",
                    &[&token.issued_at_ms],
                )
                .pg()?;
                tx.execute(
                    "INSERT INTO identity_tokens \
                     (token_hash, user_name, project, roles, issued_at_ms, expires_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &hash,
                        &token.user,
                        &token.project,
                        &roles,
                        &token.issued_at_ms,
                        &token.expires_at_ms,
                    ],
                )
                .pg()?;
                Ok(())
            })
            .await
    }

    async fn get(&self, token_hash: &str, now_ms: i64) -> RepoResult<Option<StoredToken>> {
        let hash = token_hash.to_string();
        self.db
            .call(move |c| {
                let Some(r) = c
                    .query_opt(
                        "SELECT user_name, project, roles, issued_at_ms, expires_at_ms \
                         FROM identity_tokens WHERE token_hash = $1 AND expires_at_ms > $2",
                        &[&hash, &now_ms],
                    )
                    .pg()?
                else {
                    return Ok(None);
                };
                let roles: String = col(&r, 2)?;
                Ok(Some(StoredToken {
                    user: col(&r, 0)?,
                    project: col(&r, 1)?,
                    roles: serde_json::from_str(&roles)
                        .map_err(|e| RepoError::Storage(format!("token roles: {e}")))?,
                    issued_at_ms: col(&r, 3)?,
                    expires_at_ms: col(&r, 4)?,
                }))
            })
            .await
    }

    async fn remove(&self, token_hash: &str) -> RepoResult<bool> {
        let hash = token_hash.to_string();
        self.db
            .call(move |c| {
                Ok(c.execute(
                    "DELETE FROM identity_tokens WHERE token_hash = $1",
                    &[&hash],
                )
                .pg()?
                    > 0)
            })
            .await
    }
}

/// [`AppCredentialRepo`] on PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgAppCredentials {
    db: PgDb,
}

impl PgAppCredentials {
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }
}

fn app_credential(r: &Row) -> RepoResult<StoredAppCredential> {
    Ok(StoredAppCredential {
        id: col(r, 0)?,
        name: col(r, 1)?,
        secret_hash: col(r, 2)?,
        user: col(r, 3)?,
    })
}

#[async_trait]
impl AppCredentialRepo for PgAppCredentials {
    async fn create(&self, cred: &StoredAppCredential) -> RepoResult<()> {
        let cred = cred.clone();
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO identity_app_credentials (id, name, secret_hash, user_name) \
                     VALUES ($1, $2, $3, $4)",
                    &[&cred.id, &cred.name, &cred.secret_hash, &cred.user],
                )
                .pg()?;
                Ok(())
            })
            .await
    }

    async fn by_id(&self, id: &str) -> RepoResult<Option<StoredAppCredential>> {
        let id = id.to_string();
        self.db
            .call(move |c| {
                c.query_opt(
                    "SELECT id, name, secret_hash, user_name FROM identity_app_credentials \
                     WHERE id = $1",
                    &[&id],
                )
                .pg()?
                .as_ref()
                .map(app_credential)
                .transpose()
            })
            .await
    }

    async fn by_name(&self, name: &str, user: &str) -> RepoResult<Vec<StoredAppCredential>> {
        let (name, user) = (name.to_string(), user.to_string());
        self.db
            .call(move |c| {
                c.query(
                    "SELECT id, name, secret_hash, user_name FROM identity_app_credentials \
                     WHERE name = $1 AND user_name = $2",
                    &[&name, &user],
                )
                .pg()?
                .iter()
                .map(app_credential)
                .collect()
            })
            .await
    }
}
