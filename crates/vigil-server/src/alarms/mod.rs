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

    /// The samples of a batch some alarm definition watches, copied before the batch moves
    /// into the store.
    pub fn watched(&self, samples: &[Sample]) -> Vec<Sample> {
        let mut last: Option<(&str, &str, bool)> = None;
        samples
            .iter()
            .filter(|s| {
                let (t, n) = (s.series.tenant.as_str(), s.series.name.as_str());
                // Batches repeat names; ask the engine once per run of the same name.
                match last {
                    Some((lt, ln, w)) if lt == t && ln == n => w,
                    _ => {
                        let w = self.engine.wants(t, n);
                        last = Some((t, n, w));
                        w
                    }
                }
            })
            .cloned()
            .collect()
    }

    /// Feeds acknowledged samples to the engine.
    pub async fn observe(&self, samples: Vec<Sample>) {
        if samples.is_empty() {
            return;
        }
        let engine = self.engine.clone();
        let _ = tokio::task::spawn_blocking(move || engine.observe(samples)).await;
    }
}
