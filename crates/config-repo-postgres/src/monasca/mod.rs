//! The Monasca repositories in PostgreSQL: notification methods, alarm definitions, alarms
//! and their history, one module per table group as on SQLite; the threshold engine's store
//! shares the tables.
//!
//! Changes that check before they write (a free name, an existing method) take a
//! transaction-scoped advisory lock, so such changes run one at a time across every node as
//! they do on SQLite's single connection; unique constraints back the name checks. Within a
//! node, a unit of work and its after-commit hooks run under a local lock the threshold
//! engine's batches also take, so the engine's cache sees no write between a commit and its
//! hook, as on SQLite.

mod alarm_definitions;
mod alarms;
mod history;
mod notification_methods;

use std::{
    cell::RefCell,
    sync::{Arc, Mutex, MutexGuard},
};

use async_trait::async_trait;
use config_repo::{
    RepoError, RepoResult,
    monasca::{
        AlarmChange, AlarmDefinition, AlarmRecord, MonascaUnit, MonascaUnits, NewHistoryEntry,
        UnitWork,
    },
};
use postgres::{Client, Transaction};

pub(crate) use alarm_definitions::{
    all_definitions, definition_by_id, insert as insert_definition,
};
pub(crate) use alarms::{alarm_metric_row, alarm_row};
pub(crate) use history::{HistoryRow, INSERT_HISTORY, history_row};

use crate::{PgDb, PgResultExt};

/// Advisory lock key of Monasca changes that check before they write ("vigil" + 3).
const MONASCA_LOCK: i64 = 0x7669_6769_6c03;

/// The Monasca repositories over a PostgreSQL database. Cheap to clone; clones share the
/// node-local lock.
#[derive(Clone, Debug)]
pub struct PgMonasca {
    db: PgDb,
    local: Arc<Mutex<()>>,
}

impl PgMonasca {
    /// The repositories in `db` (whose schema [`PgDb::connect`] brought up to date).
    pub fn new(db: PgDb) -> Self {
        Self {
            db,
            local: Arc::new(Mutex::new(())),
        }
    }

    /// The notification outbox of alarm transitions.
    pub fn outbox(&self) -> crate::outbox::PgOutbox {
        crate::outbox::PgOutbox::new(self.db.clone(), config_repo::outbox::Source::Monasca)
    }

    /// The threshold engine's store on the same tables, sharing this node's local lock.
    pub fn threshold_store(&self) -> crate::threshold::PgThresholdStore {
        crate::threshold::PgThresholdStore::new(self.db.clone(), self.local.clone())
    }

    /// Runs `f` in a transaction that holds the Monasca change lock, on the blocking pool.
    async fn locked_tx<T, F>(&self, f: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Transaction<'_>) -> RepoResult<T> + Send + 'static,
    {
        self.db
            .tx(move |tx| {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MONASCA_LOCK])
                    .pg()?;
                f(tx)
            })
            .await
    }

    async fn call<T, F>(&self, f: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> RepoResult<T> + Send + 'static,
    {
        self.db.call(f).await
    }
}

/// The node-local lock, even if a holder panicked (it guards no data of its own).
pub(crate) fn hold(local: &Mutex<()>) -> MutexGuard<'_, ()> {
    local.lock().unwrap_or_else(|e| e.into_inner())
}

/// A unit of work on an open transaction.
struct PgUnit<'a> {
    tx: RefCell<Transaction<'a>>,
    after_commit: RefCell<Vec<Box<dyn FnOnce() + Send>>>,
}

#[async_trait]
impl MonascaUnits for PgMonasca {
    async fn run(&self, work: UnitWork) -> RepoResult<()> {
        let local = self.local.clone();
        self.db
            .call(move |c| {
                let _node = hold(&local);
                let mut tx = c.transaction().pg()?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MONASCA_LOCK])
                    .pg()?;
                let unit = PgUnit {
                    tx: RefCell::new(tx),
                    after_commit: RefCell::default(),
                };
                work(&unit)?;
                let after = unit.after_commit.take();
                unit.tx.into_inner().commit().pg()?;
                // Still holding the node lock: the engine has not written since the commit.
                for f in after {
                    f();
                }
                Ok(())
            })
            .await
    }
}

impl MonascaUnit for PgUnit<'_> {
    fn alarm_definition(&self, tenant: &str, id: &str) -> RepoResult<Option<AlarmDefinition>> {
        alarm_definitions::get_definition(&mut *self.tx.borrow_mut(), tenant, id)
    }

    fn definition_named(
        &self,
        tenant: &str,
        name: &str,
        except: Option<&str>,
    ) -> RepoResult<Option<String>> {
        alarm_definitions::named(&mut *self.tx.borrow_mut(), tenant, name, except)
    }

    fn definition_has_alarms(&self, id: &str) -> RepoResult<bool> {
        alarm_definitions::has_alarms(&mut *self.tx.borrow_mut(), id)
    }

    fn check_actions(&self, definition: &AlarmDefinition) -> RepoResult<()> {
        alarm_definitions::check_actions(&mut *self.tx.borrow_mut(), definition)
    }

    fn insert_definition(&self, definition: &AlarmDefinition, now: i64) -> RepoResult<()> {
        alarm_definitions::insert(&mut *self.tx.borrow_mut(), definition, now)
    }

    fn update_definition(&self, definition: &AlarmDefinition, now: i64) -> RepoResult<()> {
        alarm_definitions::update(&mut *self.tx.borrow_mut(), definition, now)
    }

    fn alarm(&self, tenant: &str, id: &str) -> RepoResult<Option<AlarmRecord>> {
        Ok(
            alarms::select(&mut *self.tx.borrow_mut(), tenant, alarms::Which::Id(id))?
                .into_iter()
                .next(),
        )
    }

    fn update_alarm(&self, id: &str, change: &AlarmChange, now: i64) -> RepoResult<()> {
        alarms::update(&mut *self.tx.borrow_mut(), id, change, now)
    }

    fn append_history(&self, entry: &NewHistoryEntry) -> RepoResult<()> {
        history::insert_history(&mut *self.tx.borrow_mut(), entry)
    }

    fn enqueue_notifications(
        &self,
        method_ids: &[String],
        event: &monasca::types::AlarmTransitionedEvent,
        now_ms: i64,
    ) -> RepoResult<usize> {
        crate::outbox::enqueue_for_methods(&mut *self.tx.borrow_mut(), method_ids, event, now_ms)
    }

    fn after_commit(&self, f: Box<dyn FnOnce() + Send>) {
        self.after_commit.borrow_mut().push(f);
    }
}

/// Deletes the tenant's row `id` of `table`; `NotFound` names `what` when there is none.
/// `table` is one of this module's own table names, never caller input.
async fn delete_owned(
    repo: &PgMonasca,
    table: &'static str,
    what: &'static str,
    tenant: &str,
    id: &str,
) -> RepoResult<()> {
    let (tenant, id) = (tenant.to_string(), id.to_string());
    repo.db
        .tx(move |tx| {
            if table == "alarm_definition" {
                // The lease row first: it waits for the holder's write batch in flight (which
                // holds it `FOR SHARE`) before this transaction locks any alarm that batch may
                // write, so the two never wait for each other.
                tx.execute(
                    "DELETE FROM engine_lease WHERE definition_id = $2 AND EXISTS \
                     (SELECT 1 FROM alarm_definition WHERE tenant_id = $1 AND id = $2)",
                    &[&tenant, &id],
                )
                .pg()?;
            }
            let n = tx
                .execute(
                    &format!("DELETE FROM {table} WHERE tenant_id = $1 AND id = $2"),
                    &[&tenant, &id],
                )
                .pg()?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("{what} {id}")));
            }
            Ok(())
        })
        .await
}
