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
