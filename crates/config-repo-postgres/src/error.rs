//! PostgreSQL failures as [`RepoError`]s. Messages keep the server's words (for the log) but
//! never the connection string.

use config_repo::RepoError;
use postgres::error::SqlState;

/// `e` as a repository error: a broken unique constraint is a conflict, a value PostgreSQL
/// cannot hold (a NUL character in text) is invalid, anything else is the backend's failure.
pub fn pg_error(e: &postgres::Error) -> RepoError {
    // A server error shows only "db error" by itself: its message says what went wrong.
    let said = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => RepoError::Conflict(said),
        Some(c)
            if *c == SqlState::CHARACTER_NOT_IN_REPERTOIRE
                || *c == SqlState::UNTRANSLATABLE_CHARACTER =>
        {
            RepoError::Invalid(format!("a value PostgreSQL cannot store: {said}"))
        }
        _ => RepoError::Storage(format!("postgres: {said}")),
    }
}

/// `.pg()?` on a PostgreSQL result.
pub trait PgResultExt<T> {
    /// The result with its error converted by [`pg_error`].
    ///
    /// # Errors
    /// The PostgreSQL error, converted.
    fn pg(self) -> Result<T, RepoError>;
}

impl<T> PgResultExt<T> for Result<T, postgres::Error> {
    fn pg(self) -> Result<T, RepoError> {
        self.map_err(|e| pg_error(&e))
    }
}

/// A stored JSON text that cannot be read back: corruption, not a client's fault.
pub(crate) fn bad_json(e: &serde_json::Error) -> RepoError {
    RepoError::Storage(format!("stored document cannot be read: {e}"))
}

/// Column `i` of `row`; a type mismatch is the backend's failure, not a panic.
pub(crate) fn col<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    i: usize,
) -> Result<T, RepoError> {
    row.try_get(i).map_err(|e| pg_error(&e))
}
