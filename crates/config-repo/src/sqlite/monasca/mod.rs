//! The Monasca repositories in SQLite (`alarms.db`): the schema, and one module per table
//! group. The threshold engine shares the file and the connection.

mod alarm_definitions;
mod alarms;
mod history;
mod notification_methods;

use std::{cell::RefCell, path::Path};

use async_trait::async_trait;
use rusqlite::Transaction;

pub(crate) use alarm_definitions::insert as insert_definition;
pub use alarm_definitions::{all_definitions, definition_by_id, get_definition};
pub(crate) use alarms::{alarm_metric_row, alarm_row};
pub(crate) use history::{HistoryRow, history_row, insert_history};

use super::{FileMode, SqliteDb};
use crate::{
    RepoResult,
    monasca::{
        AlarmChange, AlarmDefinition, AlarmRecord, MonascaUnit, MonascaUnits, NewHistoryEntry,
        UnitWork,
    },
};

/// The schema of `alarms.db`, unchanged since the first release.
pub const SCHEMA: &str = r#"
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

/// The Monasca repositories over one `alarms.db`. Cheap to clone.
#[derive(Clone)]
pub struct SqliteMonasca {
    db: SqliteDb,
}

impl SqliteMonasca {
    /// Opens (creating if needed) the database at `path` with [`SCHEMA`].
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &Path) -> RepoResult<Self> {
        let db = SqliteDb::open(path, SCHEMA, FileMode::Shared)?;
        super::outbox::create_tables(&db)?;
        Ok(Self { db })
    }

    /// The notification outbox of alarm transitions.
    pub fn outbox(&self) -> super::outbox::SqliteOutbox {
        super::outbox::SqliteOutbox::new(self.db.clone(), crate::outbox::Source::Monasca)
    }

    /// The connection, for the threshold engine that shares the file.
    pub fn db(&self) -> &SqliteDb {
        &self.db
    }
}

/// A unit of work on an open transaction.
struct SqliteUnit<'a> {
    tx: &'a Transaction<'a>,
    after_commit: RefCell<Vec<Box<dyn FnOnce() + Send>>>,
}

#[async_trait]
impl MonascaUnits for SqliteMonasca {
    async fn run(&self, work: UnitWork) -> RepoResult<()> {
        self.db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let unit = SqliteUnit {
                    tx: &tx,
                    after_commit: RefCell::default(),
                };
                work(&unit)?;
                let after = unit.after_commit.take();
                tx.commit()?;
                // Still holding the connection: nobody else has seen the change yet.
                for f in after {
                    f();
                }
                Ok(())
            })
            .await
    }
}

impl MonascaUnit for SqliteUnit<'_> {
    fn alarm_definition(&self, tenant: &str, id: &str) -> RepoResult<Option<AlarmDefinition>> {
        get_definition(self.tx, tenant, id)
    }

    fn definition_named(
        &self,
        tenant: &str,
        name: &str,
        except: Option<&str>,
    ) -> RepoResult<Option<String>> {
        alarm_definitions::named(self.tx, tenant, name, except)
    }

    fn definition_has_alarms(&self, id: &str) -> RepoResult<bool> {
        alarm_definitions::has_alarms(self.tx, id)
    }

    fn check_actions(&self, definition: &AlarmDefinition) -> RepoResult<()> {
        alarm_definitions::check_actions(self.tx, definition)
    }

    fn insert_definition(&self, definition: &AlarmDefinition, now: i64) -> RepoResult<()> {
        alarm_definitions::insert(self.tx, definition, now)
    }

    fn update_definition(&self, definition: &AlarmDefinition, now: i64) -> RepoResult<()> {
        alarm_definitions::update(self.tx, definition, now)
    }

    fn alarm(&self, tenant: &str, id: &str) -> RepoResult<Option<AlarmRecord>> {
        Ok(alarms::select(self.tx, tenant, alarms::Which::Id(id))?
            .into_iter()
            .next())
    }

    fn update_alarm(&self, id: &str, change: &AlarmChange, now: i64) -> RepoResult<()> {
        alarms::update(self.tx, id, change, now)
    }

    fn append_history(&self, entry: &NewHistoryEntry) -> RepoResult<()> {
        insert_history(self.tx, entry)
    }

    fn enqueue_notifications(
        &self,
        method_ids: &[String],
        event: &monasca::types::AlarmTransitionedEvent,
        now_ms: i64,
    ) -> RepoResult<usize> {
        super::outbox::enqueue_for_methods(self.tx, method_ids, event, now_ms)
    }

    fn after_commit(&self, f: Box<dyn FnOnce() + Send>) {
        self.after_commit.borrow_mut().push(f);
    }
}

/// Deletes the tenant's row `id` of `table`; `NotFound` names `what` when there is none.
/// `table` is one of this module's own table names, never caller input.
async fn delete_owned(
    db: &SqliteDb,
    table: &'static str,
    what: &'static str,
    tenant: &str,
    id: &str,
) -> RepoResult<()> {
    let (tenant, id) = (tenant.to_string(), id.to_string());
    db.call(move |conn| {
        let n = conn.execute(
            &format!("DELETE FROM {table} WHERE tenant_id = ?1 AND id = ?2"),
            rusqlite::params![tenant, id],
        )?;
        if n == 0 {
            return Err(crate::RepoError::NotFound(format!("{what} {id}")));
        }
        Ok(())
    })
    .await
}
