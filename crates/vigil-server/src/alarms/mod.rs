//! Alarming: notification methods, alarm definitions, alarms and their history in `alarms.db`,
//! and the threshold engine (crate `alarm-engine`) that moves alarms between states as
//! metrics arrive.

pub mod db;
pub mod definitions;
pub mod engine;
pub mod records;

use std::{path::Path, sync::Arc};

use alarm_engine::{Clock, Engine, EngineConfig};
use config_repo::sqlite::threshold::{ConnectionSource, SqliteThresholdStore};
use db::Db;
use metric_store::{MetricStore, Sample};

/// Everything the alarming endpoints share.
#[derive(Clone)]
pub struct Alarming {
    pub db: Db,
    pub engine: Arc<Engine>,
    feed: alarm_engine::Alarming,
}

/// The engine writes through the API's connection: one lock orders the API's changes and the
/// engine's (see [`ConnectionSource`]).
impl ConnectionSource for Db {
    fn with_connection<T>(&self, f: impl FnOnce(&mut rusqlite::Connection) -> T) -> T {
        self.blocking(f)
    }
}

impl Alarming {
    /// Opens `alarms.db` in `data_dir` and loads the threshold engine (not yet ticking).
    ///
    /// # Errors
    /// The database cannot be opened or the engine cannot load.
    pub async fn open(
        data_dir: &Path,
        store: Arc<dyn MetricStore>,
        clock: Arc<dyn Clock>,
        cfg: EngineConfig,
    ) -> anyhow::Result<Self> {
        let path = data_dir.join("alarms.db");
        let db =
            Db::open(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        let repo = Arc::new(SqliteThresholdStore::new(db.clone()));
        let engine = Engine::load(repo, store, clock, cfg).await?;
        let feed = alarm_engine::Alarming::start(engine.clone());
        Ok(Self { db, engine, feed })
    }

    /// Tells the threshold engine that definition `id` was created, changed or deleted.
    pub async fn definition_changed(&self, id: &str) {
        self.feed.definition_changed(id).await;
    }

    /// Hands an acknowledged batch to the engine (see [`alarm_engine::Alarming::observe`]).
    pub async fn observe(&self, samples: Arc<Vec<Sample>>) {
        self.feed.observe(samples).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use config_repo::sqlite::{FileMode, SqliteDb, threshold::ALARMS_SCHEMA};

    use super::*;

    fn tables(c: &rusqlite::Connection) -> Vec<(String, String, Option<String>)> {
        let mut stmt = c
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The engine's repository keeps its own copy of the schema: both must make the same file.
    #[test]
    fn the_engine_repository_schema_is_the_api_schema() {
        let dir = tempfile::tempdir().unwrap();
        let api = Db::open(&dir.path().join("api.db")).unwrap();
        let engine = SqliteDb::open(
            &dir.path().join("engine.db"),
            ALARMS_SCHEMA,
            FileMode::Shared,
        )
        .unwrap();
        let api_tables = api.blocking(|c| tables(c));
        assert!(api_tables.len() > 7, "{api_tables:?}");
        assert_eq!(engine.blocking(|c| tables(c)), api_tables);
    }
}
