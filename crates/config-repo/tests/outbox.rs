//! The outbox conformance suite on both SQLite outboxes, the token and application credential suites on the in-memory stores.

use config_repo::sqlite::{monasca::SqliteMonasca, sysdig::SqliteSysdigRepo};

#[tokio::test]
async fn the_sqlite_outboxes_pass_the_outbox_conformance_suite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sysdig =
        SqliteSysdigRepo::open(&dir.path().join("sysdig.db")).unwrap_or_else(|e| panic!("{e}"));
    config_repo::conformance::outbox(&sysdig.outbox()).await;
    let monasca =
        SqliteMonasca::open(&dir.path().join("alarms.db")).unwrap_or_else(|e| panic!("{e}"));
    config_repo::conformance::outbox(&monasca.outbox()).await;
}

#[tokio::test]
async fn memory_tokens_pass_the_token_conformance_suite() {
    config_repo::conformance::tokens(&config_repo::identity::MemoryTokens::default()).await;
    config_repo::conformance::app_credentials(
        &config_repo::identity::MemoryAppCredentials::default(),
    )
    .await;
}
