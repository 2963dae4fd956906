//! Alarming: the threshold engine (crate `alarm-engine`) fed by the Monasca API through
//! [`monasca_api::AlarmFeed`]. The API's repositories and the engine's share one connection to
//! `alarms.db` (or, on PostgreSQL, one node-local lock), so an alarm update and the engine
//! hearing of it are one step for both.
//!
//! On PostgreSQL, nodes share evaluation ([`cluster`]): each evaluates the definitions it
//! holds a lease on, and sends the samples of the others to their holders.

pub mod cluster;

use std::{net::SocketAddr, path::Path, sync::Arc};

use alarm_engine::{
    Clock, Engine, EngineConfig,
    cluster::{Member, MemberConfig},
};
use async_trait::async_trait;
use config_repo::{
    monasca::{MonascaRepos, cluster::NodeInfo, threshold::ThresholdStore},
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
    /// This node's part in shared evaluation (PostgreSQL only).
    pub cluster: Option<Arc<cluster::Cluster>>,
}

/// Where this node is, for the other nodes of a shared database.
pub struct NodeAddress<'a> {
    /// `--advertise-url`, if given.
    pub advertise_url: Option<&'a str>,
    /// The address the server is bound to.
    pub bound: SocketAddr,
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
        address: NodeAddress<'_>,
    ) -> anyhow::Result<Self> {
        let Some(db) = postgres else {
            let path = data_dir.join("alarms.db");
            // The repository's error names the file already.
            let sqlite = SqliteMonasca::open(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let threshold = Arc::new(SqliteThresholdStore::new(sqlite.db().clone()));
            let engine = Engine::load(threshold, store, clock, cfg).await?;
            let feed = alarm_engine::Alarming::start(engine.clone());
            return Ok(Self {
                outbox: Arc::new(sqlite.outbox()),
                repos: MonascaRepos::from_backend(sqlite),
                engine,
                feed,
                cluster: None,
            });
        };
        let pg = PgMonasca::new(db.clone());
        let node = NodeInfo {
            id: uuid::Uuid::new_v4().to_string(),
            url: cluster::advertised_url(address.advertise_url, address.bound),
        };
        let threshold: Arc<dyn ThresholdStore> = Arc::new(pg.threshold_store().leased_to(&node.id));
        let engine = Engine::shared(threshold, clock, cfg);
        let feed = alarm_engine::Alarming::start(engine.clone());
        let leases = Arc::new(config_repo_postgres::cluster::PgEvaluationLeases::new(
            db.clone(),
        ));
        tracing::info!(node = %node.id, url = %node.url, "alarm evaluation shared through the config database");
        let member = Member::new(engine.clone(), leases, store, node, MemberConfig::default());
        let cluster = cluster::Cluster::join(member).await?;
        Ok(Self {
            outbox: Arc::new(pg.outbox()),
            repos: MonascaRepos::from_backend(pg),
            engine,
            feed,
            cluster: Some(Arc::new(cluster)),
        })
    }

    /// The route other nodes send samples to, when evaluation is shared.
    pub fn cluster_router(&self) -> Option<axum::Router> {
        self.cluster.as_ref().map(|c| c.router(self.feed.clone()))
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
        if let Some(c) = &self.cluster {
            c.forward(&samples);
        }
        self.feed.observe(samples).await;
    }

    async fn definition_changed(&self, id: &str) {
        if let Some(c) = &self.cluster {
            c.member.definition_changed_here(id).await;
        }
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
