//! Alarming: notification methods, alarm definitions, alarms, their history, and the
//! threshold engine that moves alarms between states as metrics arrive.

pub mod db;
pub mod definitions;
pub mod engine;
pub mod records;

use std::{path::Path, sync::Arc};

use db::Db;
use engine::{Clock, Engine, EngineConfig};
use metric_store::{MetricStore, Sample};

/// Everything the alarming endpoints share.
#[derive(Clone)]
pub struct Alarming {
    pub db: Db,
    pub engine: Arc<Engine>,
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
        let engine = Engine::load(db.clone(), store, clock, cfg).await?;
        Ok(Self { db, engine })
    }

    /// Tells the threshold engine that definition `id` was created, changed or deleted.
    pub async fn definition_changed(&self, id: &str) {
        let (engine, id) = (self.engine.clone(), id.to_string());
        let _ = tokio::task::spawn_blocking(move || engine.definition_changed(&id)).await;
    }

    /// Feeds acknowledged samples to the engine; a batch no definition watches costs a
    /// name check per run of the same name.
    pub async fn observe(&self, samples: Arc<Vec<Sample>>) {
        if samples.is_empty() || !self.engine.watches_any(&samples) {
            return;
        }
        let engine = self.engine.clone();
        let _ = tokio::task::spawn_blocking(move || engine.observe(&samples)).await;
    }
}
