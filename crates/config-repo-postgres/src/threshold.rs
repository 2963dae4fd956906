//! [`ThresholdStore`] on the Monasca tables in PostgreSQL. A batch is one transaction. A write
//! that can break a constraint (an alarm whose definition another node just deleted) runs in
//! a savepoint, so its failure leaves the batch's others in place, as on SQLite; the writes of
//! every tick (states, sub-alarms, history), which only a lost connection can fail, run
//! without one, on statements prepared once per batch: one round trip each. A batch holds the node-local lock the
//! Monasca units of work hold until their after-commit hooks have run.

use std::{
    cell::RefCell,
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use config_repo::{
    RepoResult,
    monasca::{
        rows,
        threshold::{
            AlarmState, HistoryEntry, NewAlarm, StoredAlarm, SubAlarmState, ThresholdDefinition,
            ThresholdStore, ThresholdWrites,
        },
    },
};
use monasca::types::AlarmMetric;
use postgres::{Client, Statement, Transaction};

use crate::{
    PgDb, PgResultExt,
    error::col,
    monasca::{HistoryRow, INSERT_HISTORY, alarm_metric_row, alarm_row, history_row, hold},
};

/// The threshold engine's store. Get it from
/// [`PgMonasca::threshold_store`](crate::monasca::PgMonasca::threshold_store) so that it
/// shares the node-local lock with the API's units of work.
#[derive(Clone, Debug)]
pub struct PgThresholdStore {
    db: PgDb,
    local: Arc<Mutex<()>>,
    /// With evaluation shared among nodes ([`crate::cluster`]): this node's id, whose live
    /// leases a batch holds `FOR SHARE` and writes only under.
    node: Option<String>,
}

impl PgThresholdStore {
    pub(crate) fn new(db: PgDb, local: Arc<Mutex<()>>) -> Self {
        Self {
            db,
            local,
            node: None,
        }
    }

    /// The store for node `node_id` of a cluster: a batch writes only the alarms of the
    /// definitions the node holds a live lease on.
    #[must_use]
    pub fn leased_to(mut self, node_id: &str) -> Self {
        self.node = Some(node_id.to_string());
        self
    }

    /// Stores a new definition with its actions, as the API does; for tests and tools.
    ///
    /// # Errors
    /// The id or name is taken, an action names no notification method, or storage fails.
    pub fn insert_definition(&self, d: &ThresholdDefinition, now_ms: i64) -> RepoResult<()> {
        self.db.blocking(|c| {
            let mut tx = c.transaction().pg()?;
            crate::monasca::insert_definition(&mut tx, d, now_ms)?;
            tx.commit().pg()
        })
    }

    /// Deletes a definition and, through the foreign keys, its alarms; for tests and tools.
    ///
    /// # Errors
    /// Storage fails.
    pub fn delete_definition(&self, id: &str) -> RepoResult<bool> {
        self.db.blocking(|c| {
            Ok(
                c.execute("DELETE FROM alarm_definition WHERE id = $1", &[&id])
                    .pg()?
                    > 0,
            )
        })
    }
}

fn stored_state(s: &str) -> AlarmState {
    AlarmState::parse(s).unwrap_or(AlarmState::Undetermined)
}

/// Which alarms [`load_alarms`] reads.
#[derive(Clone, Copy)]
enum Which<'a> {
    All,
    OfDefinition(&'a str),
    Id(&'a str),
}

impl<'a> Which<'a> {
    /// The condition on `alarm` (aliased `a`) and its parameter; `$1` matches everything for
    /// [`Which::All`].
    fn condition(self) -> (&'static str, &'a str) {
        match self {
            Which::All => ("$1 = ''", ""),
            Which::OfDefinition(d) => ("a.alarm_definition_id = $1", d),
            Which::Id(id) => ("a.id = $1", id),
        }
    }
}

/// The alarms `which` names with their metrics and sub-alarms, in three statements.
fn load_alarms(c: &mut Client, which: Which<'_>) -> RepoResult<Vec<StoredAlarm>> {
    let (cond, param) = which.condition();
    let mut alarms = c
        .query(
            &format!(
                "SELECT id, alarm_definition_id, tenant_id, group_key, state, link, \
                 lifecycle_state FROM alarm a WHERE {cond} ORDER BY id"
            ),
            &[&param],
        )
        .pg()?
        .iter()
        .map(|r| {
            Ok(StoredAlarm {
                id: col(r, 0)?,
                definition_id: col(r, 1)?,
                tenant: col(r, 2)?,
                group_key: col(r, 3)?,
                state: stored_state(&col::<String>(r, 4)?),
                link: col(r, 5)?,
                lifecycle_state: col(r, 6)?,
                metrics: Vec::new(),
                sub_alarms: HashMap::new(),
            })
        })
        .collect::<RepoResult<Vec<_>>>()?;
    let at: HashMap<String, usize> = alarms
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    for r in c
        .query(
            &format!(
                "SELECT m.alarm_id, m.name, m.dimensions FROM alarm_metric m \
                 JOIN alarm a ON a.id = m.alarm_id WHERE {cond}"
            ),
            &[&param],
        )
        .pg()?
    {
        if let Some(&i) = at.get(&col::<String>(&r, 0)?) {
            alarms[i].metrics.push(AlarmMetric {
                name: col(&r, 1)?,
                dimensions: rows::dimensions_from_column(&col::<String>(&r, 2)?),
            });
        }
    }
    for r in c
        .query(
            &format!(
                "SELECT s.alarm_id, s.sub_expression, s.state, s.current_values \
                 FROM sub_alarm s JOIN alarm a ON a.id = s.alarm_id WHERE {cond}"
            ),
            &[&param],
        )
        .pg()?
    {
        if let Some(&i) = at.get(&col::<String>(&r, 0)?) {
            let index = usize::try_from(col::<i32>(&r, 1)?).unwrap_or(usize::MAX);
            alarms[i].sub_alarms.insert(
                index,
                SubAlarmState {
                    state: stored_state(&col::<String>(&r, 2)?),
                    values: serde_json::from_str(&col::<String>(&r, 3)?).unwrap_or_default(),
                },
            );
        }
    }
    Ok(alarms)
}

impl ThresholdStore for PgThresholdStore {
    fn definitions(&self) -> RepoResult<Vec<ThresholdDefinition>> {
        self.db.blocking(crate::monasca::all_definitions)
    }

    fn alarms(&self) -> RepoResult<Vec<StoredAlarm>> {
        self.db.blocking(|c| load_alarms(c, Which::All))
    }

    fn alarms_of(&self, definition_id: &str) -> RepoResult<Vec<StoredAlarm>> {
        self.db
            .blocking(|c| load_alarms(c, Which::OfDefinition(definition_id)))
    }

    fn alarm(&self, id: &str) -> RepoResult<Option<StoredAlarm>> {
        Ok(self
            .db
            .blocking(|c| load_alarms(c, Which::Id(id)))?
            .into_iter()
            .next())
    }

    fn definition(&self, id: &str) -> RepoResult<Option<ThresholdDefinition>> {
        self.db
            .blocking(|c| crate::monasca::definition_by_id(c, id))
    }

    fn write_batch(&self, work: &mut dyn FnMut(&dyn ThresholdWrites)) -> RepoResult<()> {
        self.db.blocking(|c| {
            // Taken after the connection, as units of work take it: one order, no deadlock.
            let _node = hold(&self.local);
            let mut tx = c.transaction().pg()?;
            // The API's change log (a trigger) skips what the engine writes itself.
            tx.execute("SELECT set_config('vigil.origin', 'engine', true)", &[])
                .pg()?;
            let leases = self.node.as_deref().map(|n| (n, RefCell::default()));
            let writes = Writes(RefCell::new(tx), RefCell::default(), leases);
            work(&writes);
            writes.0.into_inner().commit().pg()
        })
    }
}

/// The writes of one batch on its transaction, with the statements it prepared.
struct Writes<'t>(
    RefCell<Transaction<'t>>,
    RefCell<HashMap<&'static str, Statement>>,
    /// With shared evaluation: this node, and whether it holds each definition asked about
    /// (its lease row then locked `FOR SHARE` until the batch commits); `None` on a single
    /// node.
    Option<(&'t str, RefCell<HashMap<String, bool>>)>,
);

const HOLDS_LEASE: &str = "SELECT 1 FROM engine_lease WHERE definition_id = $1 \
     AND node_id = $2 AND lease_until > now() FOR SHARE";
const SET_STATE: &str =
    "UPDATE alarm SET state = $1, state_updated_at = $2, updated_at = $2 WHERE id = $3";
const SAVE_SUB_ALARM: &str = "UPDATE sub_alarm SET state = $1, current_values = $2 \
     WHERE alarm_id = $3 AND sub_expression = $4";

impl Writes<'_> {
    /// `sql` prepared on this batch's connection (once per batch).
    fn statement(&self, sql: &'static str) -> RepoResult<Statement> {
        if let Some(s) = self.1.borrow().get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.0.borrow_mut().prepare(sql).pg()?;
        self.1.borrow_mut().insert(sql, prepared.clone());
        Ok(prepared)
    }

    /// Whether `node` holds a live lease on `definition_id`, locking the row until commit so
    /// that no node claims it under this batch.
    fn lease_held(&self, node: &str, definition_id: &str) -> RepoResult<bool> {
        let statement = self.statement(HOLDS_LEASE)?;
        Ok(!self
            .0
            .borrow_mut()
            .query(&statement, &[&definition_id, &node])
            .pg()?
            .is_empty())
    }

    /// Runs `f` in a savepoint: its failure undoes only its own changes.
    fn guarded<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> RepoResult<T>) -> RepoResult<T> {
        let mut outer = self.0.borrow_mut();
        let mut sp = outer.savepoint("threshold_write").pg()?;
        let out = f(&mut sp)?;
        sp.commit().pg()?;
        Ok(out)
    }
}

impl ThresholdWrites for Writes<'_> {
    fn holds(&self, definition_id: &str) -> bool {
        let Some((node, known)) = &self.2 else {
            return true;
        };
        if let Some(held) = known.borrow().get(definition_id) {
            return *held;
        }
        let held = self.lease_held(node, definition_id).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot check an alarm evaluation lease");
            false
        });
        known.borrow_mut().insert(definition_id.to_string(), held);
        held
    }

    fn create_alarm(&self, a: &NewAlarm<'_>) -> RepoResult<()> {
        self.guarded(|tx| {
            let fields = [
                a.id,
                a.definition_id,
                a.tenant,
                a.group_key,
                a.state.as_str(),
            ];
            alarm_row(tx, fields, a.created_ms).pg()?;
            for (i, state) in a.sub_alarm_states.iter().enumerate() {
                let index = i32::try_from(i).unwrap_or(i32::MAX);
                tx.execute(
                    "INSERT INTO sub_alarm (alarm_id, sub_expression, state) VALUES ($1, $2, $3)",
                    &[&a.id, &index, &state.as_str()],
                )
                .pg()?;
            }
            Ok(())
        })
    }

    fn add_alarm_metric(
        &self,
        alarm_id: &str,
        name: &str,
        dimensions: &BTreeMap<String, String>,
    ) -> RepoResult<()> {
        let dims = rows::dimensions_column(dimensions);
        self.guarded(|tx| alarm_metric_row(tx, alarm_id, name, &dims))
    }

    fn save_sub_alarm(&self, alarm_id: &str, index: usize, sub: &SubAlarmState) -> RepoResult<()> {
        let index = i32::try_from(index).unwrap_or(i32::MAX);
        let statement = self.statement(SAVE_SUB_ALARM)?;
        self.0
            .borrow_mut()
            .execute(
                &statement,
                &[
                    &sub.state.as_str(),
                    &rows::json_list(&sub.values),
                    &alarm_id,
                    &index,
                ],
            )
            .pg()?;
        Ok(())
    }

    fn set_alarm_state(&self, alarm_id: &str, state: AlarmState, time_ms: i64) -> RepoResult<()> {
        let statement = self.statement(SET_STATE)?;
        self.0
            .borrow_mut()
            .execute(&statement, &[&state.as_str(), &time_ms, &alarm_id])
            .pg()?;
        Ok(())
    }

    fn append_history(&self, e: &HistoryEntry<'_>) -> RepoResult<()> {
        // Every text comes from a stored alarm or is JSON (which escapes NUL): nothing here
        // can break a rule of the table.
        let statement = self.statement(INSERT_HISTORY)?;
        history_row(
            &mut *self.0.borrow_mut(),
            &statement,
            HistoryRow {
                tenant: e.tenant,
                alarm_id: e.alarm_id,
                time_ms: e.time_ms,
                metrics: e.metrics,
                old_state: e.old_state.as_str(),
                new_state: e.new_state.as_str(),
                reason: e.reason,
                sub_alarms: e.sub_alarms,
            },
        )
    }

    fn enqueue_notifications(
        &self,
        method_ids: &[String],
        event: &monasca::types::AlarmTransitionedEvent,
        now_ms: i64,
    ) -> RepoResult<usize> {
        self.guarded(|tx| crate::outbox::enqueue_for_methods(tx, method_ids, event, now_ms))
    }
}
