//! Vigil's configuration repositories: what the APIs and engines keep besides measurements
//! (Monasca notification methods, alarm definitions, alarms and their history; Sysdig users,
//! teams, tokens and team-owned objects).
//!
//! Callers see typed models and repository traits and get a [`RepoError`]; SQL stays in
//! [`sqlite`], the only module of the workspace that links `rusqlite`. A second backend
//! (PostgreSQL, for scale-out) implements the same traits and runs the same conformance suite.
//!
//! ```no_run
//! # async fn demo() -> Result<(), config_repo::RepoError> {
//! let db = config_repo::sqlite::SqliteDb::open(
//!     std::path::Path::new("/tmp/example.db"),
//!     "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)",
//!     config_repo::sqlite::FileMode::Shared,
//! )?;
//! let n: i64 = db.call(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)).await?;
//! # let _ = n; Ok(()) }
//! ```

pub mod conformance;
pub mod identity;
pub mod monasca;
pub mod outbox;
pub mod sqlite;
pub mod sysdig;

/// Why a repository call failed. API crates map it to their own error shape in one place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The addressed record does not exist (or belongs to someone else).
    #[error("{0} not found")]
    NotFound(String),
    /// The change clashes with what is stored (a name taken, a stale version).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The change breaks a rule of the stored model.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The backend failed; the cause is for the log, not for clients.
    #[error("storage failed: {0}")]
    Storage(String),
}

/// Result of a repository call.
pub type RepoResult<T> = Result<T, RepoError>;

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
