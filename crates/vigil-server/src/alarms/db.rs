//! The alarms database as the threshold engine reaches it: the connection behind
//! config-repo's SQLite Monasca repositories (the API goes through the repositories).

use std::path::Path;

use config_repo::{RepoResult, monasca::MonascaRepos, sqlite::monasca::SqliteMonasca};
use rusqlite::Connection;

/// The alarms database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    repos: SqliteMonasca,
}

impl Db {
    /// Opens (creating if needed) `path` and brings the schema up to date.
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &Path) -> RepoResult<Self> {
        Ok(Self {
            repos: SqliteMonasca::open(path)?,
        })
    }

    /// The repositories over this database, for the API.
    pub fn repos(&self) -> MonascaRepos {
        MonascaRepos::from_backend(self.repos.clone())
    }

    /// Runs `f` with the connection on the calling thread (the engine is on a blocking one).
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        self.repos.db().blocking(f)
    }
}

/// A fresh resource id, as upstream's uuid4 strings.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
