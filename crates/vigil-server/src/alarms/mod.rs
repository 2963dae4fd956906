//! Alarming: the threshold engine (crate `alarm-engine`) fed by the Monasca API through
//! [`monasca_api::AlarmFeed`]. The API's repositories and the engine's share one connection to
//! `alarms.db` (or, on PostgreSQL, one node-local lock), so an alarm update and the engine
//! hearing of it are one step for both.

use std::{path::Path, sync::Arc};

use alarm_engine::{Clock, Engine, EngineConfig};
use async_trait::async_trait;
use config_repo::{
    monasca::{MonascaRepos, threshold::ThresholdStore},
    outbox::Outbox,
    sqlite::{monasca::SqliteMonasca, threshold::SqliteThresholdStore},
};
use config_repo_postgres::monasca::PgMonasca;
use metric_store::{MetricStore, Sample};
use monasca::types::AlarmState;

/// The Monasca repositories and the threshold engine behind them.
#[derive(Clone)]
pub struct Alarming {
    /// The Monasca repositories over the engine's database.
    pub repos: MonascaRepos,
    pub engine: Arc<Engine>,
    /// The deliveries alarm transitions queue (in `alarms.db`).
    pub outbox: Arc<dyn config_repo::outbox::Outbox>,
    feed: alarm_engine::Alarming,
}

impl Alarming {
    /// Opens `alarms.db` in `data_dir`, or the Monasca tables of `postgres` when given, and
    /// loads the threshold engine (not yet ticking).
    ///
    /// # Errors
    /// The database cannot be opened or the engine cannot load.
    pub async fn open(
        data_dir: &Path,
        postgres: Option<&config_repo_postgres::PgDb>,
        store: Arc<dyn MetricStore>,
        clock: Arc<dyn Clock>,
        cfg: EngineConfig,
    ) -> anyhow::Result<Self> {
        let (repos, threshold, outbox): (_, Arc<dyn ThresholdStore>, Arc<dyn Outbox>) =
            match postgres {
                Some(db) => {
                    let pg = PgMonasca::new(db.clone());
                    (
                        MonascaRepos::from_backend(pg.clone()),
                        Arc::new(pg.threshold_store()),
                        Arc::new(pg.outbox()),
                    )
                }
                None => {
                    let path = data_dir.join("alarms.db");
                    // The repository's error names the file already.
                    let sqlite = SqliteMonasca::open(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
                    (
                        MonascaRepos::from_backend(sqlite.clone()),
                        Arc::new(SqliteThresholdStore::new(sqlite.db().clone())),
                        Arc::new(sqlite.outbox()),
                    )
                }
            };
        let engine = Engine::load(threshold, store, clock, cfg).await?;
        let feed = alarm_engine::Alarming::start(engine.clone());
        Ok(Self {
            outbox,
            repos,
            engine,
            feed,
        })
    }
}

/// The engine knows the three states upstream defines; a state it does not know (the wire
/// type's `Other`) counts as UNDETERMINED.
fn engine_state(s: &AlarmState) -> alarm_engine::AlarmState {
    match s {
        AlarmState::Ok => alarm_engine::AlarmState::Ok,
        AlarmState::Alarm => alarm_engine::AlarmState::Alarm,
        AlarmState::Undetermined | AlarmState::Other(_) => alarm_engine::AlarmState::Undetermined,
    }
}

#[async_trait]
impl monasca_api::AlarmFeed for Alarming {
    async fn observe(&self, samples: Arc<Vec<Sample>>) {
        self.feed.observe(samples).await;
    }

    async fn definition_changed(&self, id: &str) {
        self.feed.definition_changed(id).await;
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
