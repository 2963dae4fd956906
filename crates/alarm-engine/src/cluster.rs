//! One node's part in evaluation shared among nodes over one database (PostgreSQL).
//!
//! Every definition is leased to one live node ([`EvaluationLeases`]), which alone evaluates
//! it. A [`Member`] runs the node's round once a second: renew, rebalance, claim; hand the
//! engine what it gained and lost; reload what the API changed on other nodes. A sample
//! reaches the holder of each definition watching its name whichever node received it: the
//! receiving node stores it, then sends it on ([`Member::destinations`] says where; the HTTP
//! part is the server's).
//!
//! Taking a definition over: its alarms are loaded as last written (the old holder's batches
//! hold its lease rows until they commit, and a claim skips locked rows), samples are noted
//! from then on, and after [`MemberConfig::settle`] (time for every node to learn the new
//! holder) its windows are refilled from the shared store, skipping the noted samples. A dead
//! node's definitions are thus evaluated again within `lease` + `round` + `settle` + the
//! refill's time (5 + 1 + 2 s by default).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use config_repo::monasca::{
    cluster::{Change, EvaluationLeases, LeaseRound, NodeInfo},
    threshold::ThresholdDefinition,
};
use metric_store::{MetricStore, Sample};

use crate::Engine;

/// Timing of a member.
#[derive(Clone, Debug)]
pub struct MemberConfig {
    /// How long a lease and a heartbeat last without renewal.
    pub lease: Duration,
    /// How often the round runs.
    pub round: Duration,
    /// How long after taking a definition over its windows are refilled (when other nodes
    /// are alive: they learn of the new holder on their next round).
    pub settle: Duration,
}

impl Default for MemberConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(5),
            round: Duration::from_secs(1),
            settle: Duration::from_secs(2),
        }
    }
}

/// Where the samples of a tenant's metric name go: the URLs of the nodes holding a definition
/// that watches it, this node excluded.
type Forwarding = HashMap<String, HashMap<String, Urls>>;
type Urls = Vec<Arc<str>>;

/// One node's membership: its leases, the engine they feed, and where to send samples.
pub struct Member {
    engine: Arc<Engine>,
    leases: Arc<dyn EvaluationLeases>,
    store: Arc<dyn MetricStore>,
    node: NodeInfo,
    cfg: MemberConfig,
    forwarding: RwLock<Forwarding>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Every definition's tenant and watched names, for forwarding.
    watched: HashMap<String, (String, Vec<String>)>,
    /// Change sequence numbers already handled.
    handled: HashSet<i64>,
    /// Definitions taken over and not refilled yet, with when.
    filling: HashMap<String, Instant>,
    /// Live nodes at the last round.
    live_nodes: usize,
    /// Whether the last round failed (logged once per outage).
    failing: bool,
}

fn watched_names(d: &ThresholdDefinition) -> Option<(String, Vec<String>)> {
    let expr = alarm_expr::parse(&d.expression).ok()?;
    let mut names: Vec<String> = expr
        .sub_expressions()
        .into_iter()
        .map(|s| s.metric_name.clone())
        .collect();
    names.sort();
    names.dedup();
    Some((d.tenant.clone(), names))
}

impl Member {
    /// A member for `engine` (made with [`Engine::shared`]); nothing runs until
    /// [`Member::start`].
    pub fn new(
        engine: Arc<Engine>,
        leases: Arc<dyn EvaluationLeases>,
        store: Arc<dyn MetricStore>,
        node: NodeInfo,
        cfg: MemberConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            engine,
            leases,
            store,
            node,
            cfg,
            forwarding: RwLock::default(),
            inner: Mutex::default(),
        })
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Nodes alive at the last round, this one included.
    pub fn live_nodes(&self) -> usize {
        self.inner().live_nodes
    }

    /// This node.
    pub fn node(&self) -> &NodeInfo {
        &self.node
    }

    /// The key nodes of this database show each other.
    ///
    /// # Errors
    /// The database fails.
    pub async fn cluster_key(&self) -> anyhow::Result<String> {
        let leases = self.leases.clone();
        Ok(tokio::task::spawn_blocking(move || leases.cluster_key()).await??)
    }

    /// Loads every definition's watched names and runs the first round (so a node alone
    /// evaluates everything before it serves), then runs a round every
    /// [`MemberConfig::round`] until the handle is aborted.
    ///
    /// # Errors
    /// The definitions cannot be read.
    pub async fn start(self: &Arc<Self>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let engine = self.engine.clone();
        let defs = tokio::task::spawn_blocking(move || engine.repo.definitions()).await??;
        {
            let mut inner = self.inner();
            for d in &defs {
                if let Some(w) = watched_names(d) {
                    inner.watched.insert(d.id.clone(), w);
                }
            }
        }
        self.round().await;
        let me = self.clone();
        Ok(tokio::spawn(async move {
            let mut iv = tokio::time::interval(me.cfg.round);
            iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            iv.tick().await;
            loop {
                iv.tick().await;
                me.round().await;
            }
        }))
    }

    /// Gives every lease back (clean shutdown), so other nodes take over at once.
    pub async fn leave(&self) {
        let leases = self.leases.clone();
        let id = self.node.id.clone();
        match tokio::task::spawn_blocking(move || leases.leave(&id)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot give alarm evaluation leases back"),
            Err(_) => tracing::error!("leaving the cluster panicked"),
        }
    }

    /// A definition was made or changed through this node's API: one nobody holds yet is
    /// taken at once (as a single node would), so the metrics posted next create its alarms.
    pub async fn definition_changed_here(self: &Arc<Self>, id: &str) {
        let me = self.clone();
        let id = id.to_string();
        let claimed = tokio::task::spawn_blocking(move || {
            me.note_definition(&id);
            let lease_s = me.cfg.lease.as_secs_f64();
            match me.leases.claim(&me.node, &id, lease_s) {
                Ok(Some(live)) => match me.engine.take_over(&id) {
                    Ok(()) => {
                        tracing::info!(definition = %id, "alarm definition taken over");
                        Some((id, live))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot take over alarm definition");
                        None
                    }
                },
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim alarm definition");
                    None
                }
            }
        })
        .await
        .ok()
        .flatten();
        let Some((id, live)) = claimed else {
            return;
        };
        // Other nodes learn of the definition on their next round: the metrics they take
        // meanwhile reach this node through the store, after the settle time.
        if live > 1 {
            self.inner().filling.insert(id, Instant::now());
            return;
        }
        if let Err(e) = self.engine.refill(self.store.as_ref(), &id).await {
            tracing::warn!(error = %e, "cannot refill windows; retried on the next round");
            self.inner().filling.insert(id, Instant::now());
        }
    }

    /// Reads definition `id` again for forwarding.
    fn note_definition(&self, id: &str) {
        let def = match self.engine.repo.definition(id) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read alarm definition");
                return;
            }
        };
        let mut inner = self.inner();
        match def.as_ref().and_then(watched_names) {
            Some(w) => inner.watched.insert(id.to_string(), w),
            None => inner.watched.remove(id),
        };
    }

    /// The samples of `samples` that other nodes evaluate, by node URL.
    pub fn destinations(&self, samples: &[Sample]) -> Vec<(Arc<str>, Vec<Sample>)> {
        let fwd = self.forwarding.read().unwrap_or_else(|e| e.into_inner());
        if fwd.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<(Arc<str>, Vec<Sample>)> = Vec::new();
        // A batch comes in runs of one name: one lookup a run.
        let mut last: Option<(&str, &str, Option<&Urls>)> = None;
        for s in samples {
            let (tenant, name) = (s.series.tenant.as_str(), s.series.name.as_str());
            let found = match last {
                Some((t, n, found)) if t == tenant && n == name => found,
                _ => {
                    let found = fwd.get(tenant).and_then(|m| m.get(name));
                    last = Some((tenant, name, found));
                    found
                }
            };
            let Some(urls) = found else {
                continue;
            };
            for url in urls {
                match out.iter_mut().find(|(u, _)| u == url) {
                    Some((_, v)) => v.push(s.clone()),
                    None => out.push((url.clone(), vec![s.clone()])),
                }
            }
        }
        out
    }

    /// One round: leases, then what changed, then refills that are due.
    async fn round(self: &Arc<Self>) {
        let me = self.clone();
        let due = tokio::task::spawn_blocking(move || me.round_blocking())
            .await
            .unwrap_or_default();
        for id in due {
            if let Err(e) = self.engine.refill(self.store.as_ref(), &id).await {
                tracing::warn!(error = %e, definition = %id, "cannot refill windows; retrying");
                self.inner().filling.insert(id, Instant::now());
            }
        }
    }

    /// The blocking part of a round; returns the definitions whose refill is due.
    fn round_blocking(&self) -> Vec<String> {
        let round = match self.leases.round(&self.node, self.cfg.lease.as_secs_f64()) {
            Ok(r) => r,
            Err(e) => {
                let mut inner = self.inner();
                if !inner.failing {
                    tracing::error!(error = %e, "alarm evaluation round failed; retrying");
                }
                inner.failing = true;
                return Vec::new();
            }
        };
        if std::mem::take(&mut self.inner().failing) {
            tracing::info!("alarm evaluation rounds work again");
        }
        self.apply_changes(&round);
        self.apply_leases(&round);
        self.update_forwarding(&round);
        let settle = if round.live_nodes > 1 {
            self.cfg.settle
        } else {
            Duration::ZERO
        };
        let mut inner = self.inner();
        if inner.live_nodes != round.live_nodes {
            tracing::info!(
                nodes = round.live_nodes,
                held = round.held.len(),
                "alarm evaluation shared by {} live node(s)",
                round.live_nodes
            );
        }
        inner.live_nodes = round.live_nodes;
        let due: Vec<String> = inner
            .filling
            .iter()
            .filter(|(_, at)| at.elapsed() >= settle)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &due {
            inner.filling.remove(id);
        }
        due
    }

    fn apply_changes(&self, round: &LeaseRound) {
        let fresh: Vec<(i64, Change)> = {
            let mut inner = self.inner();
            let live: HashSet<i64> = round.changes.iter().map(|(seq, _)| *seq).collect();
            inner.handled.retain(|seq| live.contains(seq));
            round
                .changes
                .iter()
                .filter(|(seq, _)| inner.handled.insert(*seq))
                .cloned()
                .collect()
        };
        let mut reloaded = HashSet::new();
        for (_, change) in fresh {
            match change {
                Change::Definition(id) => {
                    if reloaded.insert(id.clone()) {
                        self.note_definition(&id);
                        self.engine.definition_changed(&id);
                    }
                }
                Change::Alarm(id) => self.engine.alarm_changed_elsewhere(&id),
            }
        }
    }

    fn apply_leases(&self, round: &LeaseRound) {
        let held: HashSet<&String> = round.held.iter().collect();
        let owned = self.engine.owned().unwrap_or_default();
        for id in owned.iter().filter(|id| !held.contains(id)) {
            tracing::info!(definition = %id, "alarm definition now evaluated elsewhere");
            self.engine.give_up(id);
            self.inner().filling.remove(id);
        }
        let owned: HashSet<&String> = owned.iter().collect();
        for id in round.held.iter().filter(|id| !owned.contains(id)) {
            match self.engine.take_over(id) {
                Ok(()) => {
                    tracing::info!(definition = %id, "alarm definition taken over");
                    self.inner().filling.insert(id.clone(), Instant::now());
                }
                Err(e) => tracing::error!(error = %e, "cannot take over alarm definition"),
            }
        }
    }

    fn update_forwarding(&self, round: &LeaseRound) {
        let inner = self.inner();
        let mut fwd: Forwarding = HashMap::new();
        let mut urls: HashMap<&str, Arc<str>> = HashMap::new();
        for (def_id, url) in &round.others {
            let Some((tenant, names)) = inner.watched.get(def_id) else {
                continue;
            };
            let url = urls
                .entry(url.as_str())
                .or_insert_with(|| Arc::from(url.as_str()))
                .clone();
            let by_name = fwd.entry(tenant.clone()).or_default();
            for n in names {
                let list = by_name.entry(n.clone()).or_default();
                if !list.contains(&url) {
                    list.push(url.clone());
                }
            }
        }
        drop(inner);
        *self.forwarding.write().unwrap_or_else(|e| e.into_inner()) = fwd;
    }
}
