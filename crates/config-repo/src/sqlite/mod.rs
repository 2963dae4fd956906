//! SQLite: one connection per database file behind a mutex, WAL journal and
//! `synchronous=FULL` (a committed change survives a crash), calls on the blocking pool.

pub mod outbox;
pub mod sysdig;
mod sysdig_secure;
pub mod threshold;

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use rusqlite::Connection;

use crate::{RepoError, RepoResult};

pub mod monasca;

/// Who may read the database file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileMode {
    /// The process umask decides.
    Shared,
    /// Owner-only (`0600`): the file holds secrets such as API tokens. SQLite gives its
    /// `-wal` and `-shm` files the same mode.
    Private,
}

/// An open database file. Cheap to clone.
#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Opens (creating if needed) `path` and applies `schema` (idempotent DDL).
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &Path, schema: &str, mode: FileMode) -> RepoResult<Self> {
        #[cfg(unix)]
        if mode == FileMode::Private {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path);
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let conn = Connection::open(path).map_err(|e| open_error(path, &e))?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.execute_batch(schema)
        };
        setup().map_err(|e| open_error(path, &e))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    ///
    /// # Errors
    /// What `f` returns, or [`RepoError::Storage`] if the task fails.
    pub async fn call<T, F>(&self, f: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> RepoResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| RepoError::Storage(format!("database task failed: {e}")))?
    }

    /// Runs `f` inside one transaction on the blocking pool; an error rolls it back.
    ///
    /// # Errors
    /// What `f` returns, or a database failure.
    pub async fn tx<T, F>(&self, f: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> RepoResult<T> + Send + 'static,
    {
        self.call(move |c| {
            let tx = c.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// [`SqliteDb::call`] on the calling thread, for code outside the async runtime (start-up,
    /// engines already on a blocking thread).
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

fn open_error(path: &Path, e: &rusqlite::Error) -> RepoError {
    RepoError::Storage(format!("cannot open {}: {e}", path.display()))
}

impl From<rusqlite::Error> for RepoError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Self::NotFound("record".into()),
            e => Self::Storage(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for RepoError {
    /// Only documents the repository wrote itself are parsed: a failure is corruption.
    fn from(e: serde_json::Error) -> Self {
        Self::Storage(format!("stored document cannot be read: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn transaction_rolls_back_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(
            &dir.path().join("t.db"),
            "CREATE TABLE IF NOT EXISTS t (v INTEGER)",
            FileMode::Private,
        )
        .unwrap();
        let failed: RepoResult<()> = db
            .tx(|tx| {
                tx.execute("INSERT INTO t VALUES (1)", [])?;
                Err(RepoError::Invalid("no".into()))
            })
            .await;
        assert!(matches!(failed, Err(RepoError::Invalid(_))));
        let n: i64 = db
            .call(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("t.db"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
