//! [`ThresholdStore`] on the alarms database (`alarms.db`).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::{FileMode, SqliteDb};
use crate::{
    RepoResult,
    monasca::threshold::{
        AlarmState, HistoryEntry, NewAlarm, StoredAlarm, SubAlarmState, ThresholdDefinition,
        ThresholdStore, ThresholdWrites,
    },
};

/// The threshold engine's repository on SQLite. The engine and the alarms API share one
/// connection under one lock (pass the API's [`SqliteDb`]): the API changes an alarm and tells
/// the engine before the engine can write again, and two connections would also fail each
/// other's write transactions.
#[derive(Clone)]
pub struct SqliteThresholdStore {
    db: SqliteDb,
}

impl SqliteThresholdStore {
    /// Opens (creating if needed) the alarms database at `path`.
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &std::path::Path) -> RepoResult<Self> {
        let db = SqliteDb::open(path, super::monasca::SCHEMA, FileMode::Shared)?;
        super::outbox::create_tables(&db)?;
        Ok(Self::new(db))
    }
}

impl SqliteThresholdStore {
    /// The repository on a database that already has [`super::monasca::SCHEMA`].
    pub fn new(db: SqliteDb) -> Self {
        Self { db }
    }

    /// Stores a new definition with its actions, as the API does; for tests and tools that
    /// have no API at hand.
    ///
    /// # Errors
    /// The id is taken, an action names no notification method, or storage fails.
    pub fn insert_definition(&self, d: &ThresholdDefinition, now_ms: i64) -> RepoResult<()> {
        self.db.blocking(|c| {
            let tx = c.transaction()?;
            super::monasca::insert_definition(&tx, d, now_ms)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Deletes a definition and, through the foreign keys, its alarms; for tests and tools.
    ///
    /// # Errors
    /// Storage fails.
    pub fn delete_definition(&self, id: &str) -> RepoResult<bool> {
        self.db.blocking(|c| {
            Ok(c.execute("DELETE FROM alarm_definition WHERE id = ?1", params![id])? > 0)
        })
    }
}

fn stored_state(s: &str) -> AlarmState {
    AlarmState::parse(s).unwrap_or(AlarmState::Undetermined)
}

fn load_alarms(c: &Connection) -> rusqlite::Result<Vec<StoredAlarm>> {
    let mut stmt = c.prepare(
        "SELECT id, alarm_definition_id, tenant_id, group_key, state, link, lifecycle_state FROM alarm",
    )?;
    let mut alarms = stmt
        .query_map([], |r| {
            Ok(StoredAlarm {
                id: r.get(0)?,
                definition_id: r.get(1)?,
                tenant: r.get(2)?,
                group_key: r.get(3)?,
                state: stored_state(&r.get::<_, String>(4)?),
                link: r.get(5)?,
                lifecycle_state: r.get(6)?,
                metrics: Vec::new(),
                sub_alarms: Default::default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for a in &mut alarms {
        let mut ms =
            c.prepare_cached("SELECT name, dimensions FROM alarm_metric WHERE alarm_id = ?1")?;
        a.metrics = ms
            .query_map(params![a.id], |r| {
                let dims: String = r.get(1)?;
                Ok(monasca::types::AlarmMetric {
                    name: r.get(0)?,
                    dimensions: crate::monasca::rows::dimensions_from_column(&dims),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut ss = c.prepare_cached(
            "SELECT sub_expression, state, current_values FROM sub_alarm WHERE alarm_id = ?1",
        )?;
        a.sub_alarms = ss
            .query_map(params![a.id], |r| {
                let values: String = r.get(2)?;
                Ok((
                    usize::try_from(r.get::<_, i64>(0)?).unwrap_or(usize::MAX),
                    SubAlarmState {
                        state: stored_state(&r.get::<_, String>(1)?),
                        values: serde_json::from_str(&values).unwrap_or_default(),
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(alarms)
}

impl ThresholdStore for SqliteThresholdStore {
    fn definitions(&self) -> RepoResult<Vec<ThresholdDefinition>> {
        self.db.blocking(|c| super::monasca::all_definitions(c))
    }

    fn alarms(&self) -> RepoResult<Vec<StoredAlarm>> {
        self.db.blocking(|c| Ok(load_alarms(c)?))
    }

    fn definition(&self, id: &str) -> RepoResult<Option<ThresholdDefinition>> {
        self.db
            .blocking(|c| super::monasca::definition_by_id(c, id))
    }

    fn write_batch(&self, work: &mut dyn FnMut(&dyn ThresholdWrites)) -> RepoResult<()> {
        self.db.blocking(|c| {
            let tx = c.transaction()?;
            work(&Writes(&tx));
            tx.commit()?;
            Ok(())
        })
    }
}

/// The writes of one batch on its transaction.
struct Writes<'t>(&'t Connection);

impl ThresholdWrites for Writes<'_> {
    fn create_alarm(&self, a: &NewAlarm<'_>) -> RepoResult<()> {
        super::monasca::alarm_row(
            self.0,
            [
                a.id,
                a.definition_id,
                a.tenant,
                a.group_key,
                a.state.as_str(),
            ],
            a.created_ms,
        )?;
        for (i, state) in a.sub_alarm_states.iter().enumerate() {
            self.0
                .prepare_cached(
                    "INSERT INTO sub_alarm (alarm_id, sub_expression, state) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![a.id, i as i64, state.as_str()])?;
        }
        Ok(())
    }

    fn add_alarm_metric(
        &self,
        alarm_id: &str,
        name: &str,
        dimensions: &BTreeMap<String, String>,
    ) -> RepoResult<()> {
        let dims = crate::monasca::rows::dimensions_column(dimensions);
        Ok(super::monasca::alarm_metric_row(
            self.0, alarm_id, name, &dims,
        )?)
    }

    fn save_sub_alarm(&self, alarm_id: &str, index: usize, sub: &SubAlarmState) -> RepoResult<()> {
        self.0
            .prepare_cached(
                "UPDATE sub_alarm SET state = ?1, current_values = ?2 WHERE alarm_id = ?3 AND sub_expression = ?4",
            )?
            .execute(params![
                sub.state.as_str(),
                crate::monasca::rows::json_list(&sub.values),
                alarm_id,
                index as i64
            ])?;
        Ok(())
    }

    fn set_alarm_state(&self, alarm_id: &str, state: AlarmState, time_ms: i64) -> RepoResult<()> {
        self.0
            .prepare_cached(
                "UPDATE alarm SET state = ?1, state_updated_at = ?2, updated_at = ?2 WHERE id = ?3",
            )?
            .execute(params![state.as_str(), time_ms, alarm_id])?;
        Ok(())
    }

    fn append_history(&self, e: &HistoryEntry<'_>) -> RepoResult<()> {
        Ok(super::monasca::history_row(
            self.0,
            super::monasca::HistoryRow {
                tenant: e.tenant,
                alarm_id: e.alarm_id,
                time_ms: e.time_ms,
                metrics: e.metrics,
                old_state: e.old_state.as_str(),
                new_state: e.new_state.as_str(),
                reason: e.reason,
                sub_alarms: e.sub_alarms,
            },
        )?)
    }

    fn enqueue_notifications(
        &self,
        method_ids: &[String],
        event: &monasca::types::AlarmTransitionedEvent,
        now_ms: i64,
    ) -> RepoResult<usize> {
        super::outbox::enqueue_for_methods(self.0, method_ids, event, now_ms)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use monasca::types::AlarmMetric;

    use super::*;

    fn definition(id: &str) -> ThresholdDefinition {
        ThresholdDefinition {
            id: id.into(),
            tenant: "acme".into(),
            name: format!("def {id}"),
            description: "high cpu".into(),
            expression: "avg(cpu) > 10 or max(mem) > 90".into(),
            severity: "HIGH".into(),
            match_by: vec!["hostname".into(), "zone".into()],
            actions_enabled: true,
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            undetermined_actions: Vec::new(),
        }
    }

    fn new_alarm<'a>(id: &'a str, def: &'a str, subs: &'a [AlarmState]) -> NewAlarm<'a> {
        NewAlarm {
            id,
            definition_id: def,
            tenant: "acme",
            group_key: "hostname=web1",
            state: AlarmState::Undetermined,
            created_ms: 1_000,
            sub_alarm_states: subs,
        }
    }

    #[test]
    fn a_batch_is_stored_and_loaded_back() {
        let dir = tempfile::tempdir().unwrap();
        let repo = SqliteThresholdStore::open(&dir.path().join("alarms.db")).unwrap();
        repo.insert_definition(&definition("d1"), 500).unwrap();
        assert_eq!(repo.definition("d1").unwrap(), Some(definition("d1")));
        assert_eq!(repo.definitions().unwrap(), vec![definition("d1")]);
        assert_eq!(repo.definition("nope").unwrap(), None);

        let dims: BTreeMap<String, String> = [("hostname".to_string(), "web1".to_string())].into();
        let metrics = [AlarmMetric {
            name: "cpu".into(),
            dimensions: dims.clone(),
        }];
        let subs = [AlarmState::Undetermined, AlarmState::Undetermined];
        let mut failures = Vec::new();
        repo.write_batch(&mut |w| {
            w.create_alarm(&new_alarm("a1", "d1", &subs)).unwrap();
            // The definition of this one does not exist: it fails alone.
            failures.push(w.create_alarm(&new_alarm("a2", "gone", &subs)).is_err());
            w.add_alarm_metric("a1", "cpu", &dims).unwrap();
            w.add_alarm_metric("a1", "cpu", &dims).unwrap();
            let saved = SubAlarmState {
                state: AlarmState::Alarm,
                values: vec![15.0, 1.5e7],
            };
            w.save_sub_alarm("a1", 0, &saved).unwrap();
            w.set_alarm_state("a1", AlarmState::Alarm, 2_000).unwrap();
            w.append_history(&HistoryEntry {
                tenant: "acme",
                alarm_id: "a1",
                time_ms: 2_000,
                metrics: &metrics,
                old_state: AlarmState::Undetermined,
                new_state: AlarmState::Alarm,
                reason: "Thresholds were exceeded",
                sub_alarms: &[],
            })
            .unwrap();
        })
        .unwrap();
        assert_eq!(failures, vec![true]);

        let alarms = repo.alarms().unwrap();
        assert_eq!(alarms.len(), 1);
        let a = &alarms[0];
        assert_eq!(
            (
                a.id.as_str(),
                a.definition_id.as_str(),
                a.group_key.as_str()
            ),
            ("a1", "d1", "hostname=web1")
        );
        assert_eq!(a.state, AlarmState::Alarm);
        assert_eq!(a.metrics, metrics);
        assert_eq!(a.sub_alarms[&0].state, AlarmState::Alarm);
        assert_eq!(a.sub_alarms[&0].values, vec![15.0, 1.5e7]);
        assert_eq!(a.sub_alarms[&1].state, AlarmState::Undetermined);
        assert!(a.sub_alarms[&1].values.is_empty());

        let history: (String, String, String, String, String) = repo.db.blocking(|c| {
            c.query_row(
                "SELECT old_state, new_state, metrics, reason_data, sub_alarms FROM alarm_state_history WHERE alarm_id = 'a1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap()
        });
        assert_eq!(
            history,
            (
                "UNDETERMINED".into(),
                "ALARM".into(),
                r#"[{"name":"cpu","dimensions":{"hostname":"web1"}}]"#.into(),
                "{}".into(),
                "[]".into()
            )
        );

        // A deleted definition takes its alarms along.
        assert!(repo.delete_definition("d1").unwrap());
        assert_eq!(repo.definition("d1").unwrap(), None);
        assert!(repo.alarms().unwrap().is_empty());
    }

    #[test]
    fn a_committed_batch_is_there_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alarms.db");
        let repo = SqliteThresholdStore::open(&path).unwrap();
        repo.insert_definition(&definition("d1"), 500).unwrap();
        repo.write_batch(&mut |w| {
            w.create_alarm(&new_alarm("a1", "d1", &[AlarmState::Ok, AlarmState::Ok]))
                .unwrap();
        })
        .unwrap();
        drop(repo);
        // A second open sees the committed batch.
        let again = SqliteThresholdStore::open(&path).unwrap();
        let alarms = again.alarms().unwrap();
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].sub_alarms.len(), 2);
    }
}
