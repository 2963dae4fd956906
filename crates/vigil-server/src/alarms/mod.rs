//! Alarming: the threshold engine that moves alarms between states as metrics arrive, fed by
//! the Monasca API through [`monasca_api::AlarmFeed`]. What is stored (`alarms.db`) is reached
//! through config-repo's repositories.

pub mod db;
pub mod definitions;
pub mod engine;

use std::{path::Path, sync::Arc};

use async_trait::async_trait;
use db::Db;
use engine::{Clock, Engine, EngineConfig};
use metric_store::{MetricStore, Sample};
use monasca::types::AlarmState;

/// Everything the alarming endpoints share.
#[derive(Clone)]
pub struct Alarming {
    /// The Monasca repositories over the engine's database.
    pub repos: config_repo::monasca::MonascaRepos,
    pub engine: Arc<Engine>,
    /// Acknowledged batches on their way to the engine, in order.
    feed: tokio::sync::mpsc::Sender<Arc<Vec<Sample>>>,
}

/// Batches waiting for the engine before ingest has to wait for it.
const FEED_DEPTH: usize = 64;

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
        // The repository's error names the file already.
        let db = Db::open(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let engine = Engine::load(db.clone(), store, clock, cfg).await?;
        let (feed, mut rx) = tokio::sync::mpsc::channel::<Arc<Vec<Sample>>>(FEED_DEPTH);
        // The engine works behind the ingest path: a request is answered once its batch is
        // durable, and the engine takes the batches in order, several per transaction when it
        // falls behind. Ends when the last sender (the server state) is dropped.
        let e = engine.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batches = vec![first];
                while batches.len() < FEED_DEPTH {
                    match rx.try_recv() {
                        Ok(b) => batches.push(b),
                        Err(_) => break,
                    }
                }
                let e = e.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let all: Vec<&[Sample]> = batches.iter().map(|b| b.as_slice()).collect();
                    e.observe_all(&all);
                })
                .await;
                if done.is_err() {
                    tracing::error!("threshold engine panicked on a batch");
                }
            }
        });
        Ok(Self {
            repos: db.repos(),
            engine,
            feed,
        })
    }
}

/// The engine's copy of a state; a value outside the three is never stored by this server.
fn engine_state(s: &AlarmState) -> engine::AlarmState {
    match s {
        AlarmState::Ok => engine::AlarmState::Ok,
        AlarmState::Alarm => engine::AlarmState::Alarm,
        AlarmState::Undetermined | AlarmState::Other(_) => engine::AlarmState::Undetermined,
    }
}

#[async_trait]
impl monasca_api::AlarmFeed for Alarming {
    /// Tells the threshold engine that definition `id` was created, changed or deleted.
    async fn definition_changed(&self, id: &str) {
        let (engine, id) = (self.engine.clone(), id.to_string());
        let _ = tokio::task::spawn_blocking(move || engine.definition_changed(&id)).await;
    }

    /// Hands an acknowledged batch to the engine; a batch no definition watches costs a name
    /// check per run of the same name. Waits only when the engine is far behind.
    async fn observe(&self, samples: Arc<Vec<Sample>>) {
        if samples.is_empty() || !self.engine.watches_any(&samples) {
            return;
        }
        if self.engine.inline() {
            let engine = self.engine.clone();
            let _ = tokio::task::spawn_blocking(move || engine.observe(&samples)).await;
            return;
        }
        if self.feed.send(samples).await.is_err() {
            tracing::error!("threshold engine feed closed");
        }
    }

    fn now_ms(&self) -> i64 {
        self.engine.now_ms()
    }

    fn alarm_updated(
        &self,
        id: &str,
        state: &AlarmState,
        link: Option<String>,
        lifecycle_state: Option<String>,
    ) {
        self.engine
            .alarm_updated(id, engine_state(state), link, lifecycle_state);
    }

    fn alarm_deleted(&self, id: &str) {
        self.engine.alarm_deleted(id);
    }
}
