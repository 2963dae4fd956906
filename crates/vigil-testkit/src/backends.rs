//! Which stores a test server uses: the embedded store and SQLite unless the environment names
//! a ClickHouse and a PostgreSQL server, then a fresh database on each for every server, so
//! that the suites that drive `vigil serve` as a process run over that combination too.
//!
//! - `VIGIL_TEST_CLICKHOUSE_URL`: ClickHouse HTTP URL(s), comma-separated (the shards of
//!   `VIGIL_TEST_CLICKHOUSE_CLUSTER` when set): measurements go there, in a database of the
//!   server's own (created by the server).
//! - `VIGIL_TEST_POSTGRES_URL`: a PostgreSQL server whose user may create databases, as
//!   `postgres://USER@HOST:PORT`: the configuration goes to a new database there (made with
//!   `createdb`, Debian's `postgresql-client`).

use std::{
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// The `VIGIL_*` variables that point a new server at its stores (none for the defaults).
///
/// # Panics
/// When `createdb` cannot make the PostgreSQL database.
pub fn server_env() -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Ok(urls) = std::env::var("VIGIL_TEST_CLICKHOUSE_URL") {
        env.push(("VIGIL_METRIC_STORE".into(), "clickhouse".into()));
        env.push(("VIGIL_CLICKHOUSE_URLS".into(), urls));
        env.push(("VIGIL_CLICKHOUSE_DATABASE".into(), unique_name()));
        if let Ok(cluster) = std::env::var("VIGIL_TEST_CLICKHOUSE_CLUSTER") {
            env.push(("VIGIL_CLICKHOUSE_CLUSTER".into(), cluster));
        }
    }
    if let Ok(server) = std::env::var("VIGIL_TEST_POSTGRES_URL") {
        let server = server.trim_end_matches('/');
        let name = unique_name();
        let made = Command::new("createdb")
            .arg(format!("--maintenance-db={server}/postgres"))
            .arg(&name)
            .output()
            .unwrap_or_else(|e| panic!("cannot run createdb: {e}"));
        assert!(
            made.status.success(),
            "createdb {name} failed: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        env.push(("VIGIL_CONFIG_DB".into(), format!("{server}/{name}")));
    }
    env
}

/// A database name no other server of any test process has: pid, a counter and the time.
fn unique_name() -> String {
    static SERVERS: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "vigil_test_{}_{}_{nanos}",
        std::process::id(),
        SERVERS.fetch_add(1, Ordering::SeqCst)
    )
}
