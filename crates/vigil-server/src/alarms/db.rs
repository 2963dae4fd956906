//! The relational side: notification methods, alarm definitions, alarms and their state
//! history, in SQLite (WAL journal, `synchronous=FULL`: a committed change survives a crash).

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::Connection;

use crate::api::error::ApiError;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS notification_method (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    address TEXT NOT NULL,
    period INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_method_tenant ON notification_method(tenant_id, name);

CREATE TABLE IF NOT EXISTS alarm_definition (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    expression TEXT NOT NULL,
    severity TEXT NOT NULL,
    match_by TEXT NOT NULL DEFAULT '',
    actions_enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX IF NOT EXISTS alarm_definition_tenant ON alarm_definition(tenant_id, deleted_at);

CREATE TABLE IF NOT EXISTS alarm_action (
    alarm_definition_id TEXT NOT NULL REFERENCES alarm_definition(id) ON DELETE CASCADE,
    alarm_state TEXT NOT NULL,
    action_id TEXT NOT NULL REFERENCES notification_method(id) ON DELETE CASCADE,
    PRIMARY KEY (alarm_definition_id, alarm_state, action_id)
);

CREATE TABLE IF NOT EXISTS alarm (
    id TEXT PRIMARY KEY,
    alarm_definition_id TEXT NOT NULL REFERENCES alarm_definition(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    group_key TEXT NOT NULL,
    state TEXT NOT NULL,
    lifecycle_state TEXT,
    link TEXT,
    created_at INTEGER NOT NULL,
    state_updated_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_definition_group ON alarm(alarm_definition_id, group_key);
CREATE INDEX IF NOT EXISTS alarm_tenant ON alarm(tenant_id);

CREATE TABLE IF NOT EXISTS alarm_metric (
    alarm_id TEXT NOT NULL REFERENCES alarm(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    PRIMARY KEY (alarm_id, name, dimensions)
);

CREATE TABLE IF NOT EXISTS sub_alarm (
    alarm_id TEXT NOT NULL REFERENCES alarm(id) ON DELETE CASCADE,
    sub_expression INTEGER NOT NULL,
    state TEXT NOT NULL,
    current_values TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (alarm_id, sub_expression)
);

CREATE TABLE IF NOT EXISTS alarm_state_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    alarm_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    old_state TEXT NOT NULL,
    new_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_data TEXT NOT NULL,
    sub_alarms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_state_history_alarm ON alarm_state_history(tenant_id, alarm_id, time_ms);
"#;

/// The alarms database. Cheap to clone; calls run on the blocking pool.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) `path` and brings the schema up to date.
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    ///
    /// # Errors
    /// What `f` returns; a database failure becomes a 503 in the API's shape.
    pub async fn call<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "database task failed");
            ApiError::unavailable()
        })?
    }

    /// Like [`Db::call`] for code outside a request (the threshold engine).
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        tracing::error!(error = %e, "database error");
        ApiError::unavailable()
    }
}

/// A fresh resource id, as upstream's uuid4 strings.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
