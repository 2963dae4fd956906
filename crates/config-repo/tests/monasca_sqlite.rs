//! The Monasca conformance suite on SQLite, in a fresh `alarms.db`.
#![allow(clippy::unwrap_used)]

use config_repo::{monasca::MonascaRepos, sqlite::monasca::SqliteMonasca};

#[tokio::test]
async fn sqlite_monasca_repositories_conform() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteMonasca::open(&dir.path().join("alarms.db")).unwrap();
    config_repo::conformance::monasca::all(&MonascaRepos::from_backend(db))
        .await
        .unwrap();
}
