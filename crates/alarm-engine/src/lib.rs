//! The threshold engine: matches incoming metrics to alarm definitions, creates an alarm per
//! `match_by` group on the first matching metric, keeps a sliding window per sub-alarm, and
//! moves alarms between UNDETERMINED, OK and ALARM as monasca-thresh does. Every transition is
//! written to state history and published to subscribers as a [`Transition`].
//!
//! State lives in a [`ThresholdStore`]; after a restart the windows are refilled from the
//! metric store, so alarms neither lose their state nor flap. The engine works on blocking
//! threads: [`Engine::observe`] and [`Engine::tick`] write one transaction per call.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn metric_store::MetricStore>) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use alarm_engine::{Engine, EngineConfig, SystemClock};
//! use config_repo::sqlite::threshold::SqliteThresholdStore;
//!
//! let repo = SqliteThresholdStore::open(std::path::Path::new("/tmp/alarms.db"))?;
//! let engine = Engine::load(Arc::new(repo), store, Arc::new(SystemClock), EngineConfig::default()).await?;
//! let mut transitions = engine.subscribe();
//! let _ticker = engine.spawn_ticker();
//! while let Ok(t) = transitions.recv().await {
//!     println!("{} went {} -> {}", t.alarm_id, t.old_state.as_str(), t.new_state.as_str());
//! }
//! # Ok(()) }
//! ```

mod clock;
pub mod cluster;
mod evaluate;
mod events;
mod feed;
mod load;
mod persist;
mod route;
mod share;
mod state;
mod stats;
pub mod sysdig_alerts;
mod text;
mod tick;
mod window;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

pub use clock::{Clock, ManualClock, SystemClock};
pub use config_repo::monasca::threshold::AlarmState;
use config_repo::monasca::threshold::ThresholdStore;
pub use events::Transition;
pub use feed::Alarming;
use metric_store::{MetricStore, Sample};
use state::State;
pub use stats::EngineStats;
use tokio::sync::broadcast;

/// Engine tuning.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// How long after a period ends late data is still waited for (monasca-thresh's
    /// `alarmDelay`), seconds.
    pub delay_s: i64,
    /// How often windows are evaluated on the clock.
    pub tick: Duration,
    /// Feed each batch to the engine before answering the request, instead of behind it.
    /// Slower ingest; tests that move a hand-held clock use it so a batch is in the windows
    /// before the clock jumps.
    pub inline: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            delay_s: 30,
            tick: Duration::from_secs(1),
            inline: false,
        }
    }
}

/// The threshold engine. Shared as `Arc<Engine>`; its calls block.
pub struct Engine {
    pub(crate) repo: Arc<dyn ThresholdStore>,
    clock: Arc<dyn Clock>,
    cfg: EngineConfig,
    state: Mutex<State>,
    events: broadcast::Sender<Transition>,
    counters: stats::Counters,
}

impl Engine {
    /// Loads definitions and alarms from `repo` and refills the windows from `store`.
    ///
    /// # Errors
    /// Repository or store failures.
    pub async fn load(
        repo: Arc<dyn ThresholdStore>,
        store: Arc<dyn MetricStore>,
        clock: Arc<dyn Clock>,
        cfg: EngineConfig,
    ) -> anyhow::Result<Arc<Self>> {
        let engine = Self::new(repo, clock, cfg, State::default());
        let e = engine.clone();
        let replay = tokio::task::spawn_blocking(move || e.load_state()).await??;
        engine.replay(store.as_ref(), replay).await?;
        Ok(engine)
    }

    /// An engine for one node of several sharing evaluation: it loads nothing and evaluates
    /// only the definitions handed to it ([`Engine::take_over`], driven by
    /// [`cluster::Member`]).
    pub fn shared(
        repo: Arc<dyn ThresholdStore>,
        clock: Arc<dyn Clock>,
        cfg: EngineConfig,
    ) -> Arc<Self> {
        let state = State {
            owned: Some(Default::default()),
            ..State::default()
        };
        Self::new(repo, clock, cfg, state)
    }

    fn new(
        repo: Arc<dyn ThresholdStore>,
        clock: Arc<dyn Clock>,
        cfg: EngineConfig,
        state: State,
    ) -> Arc<Self> {
        let (events, _) = broadcast::channel(events::EVENT_BACKLOG);
        Arc::new(Self {
            repo,
            clock,
            cfg,
            state: Mutex::new(state),
            events,
            counters: stats::Counters::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The engine's time, epoch milliseconds: alarm timestamps written by the API use it too,
    /// so history stays in order under a test clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn now_s(&self) -> i64 {
        self.clock.now_ms().div_euclid(1000)
    }

    /// Whether batches are fed before the request is answered ([`EngineConfig::inline`]).
    pub fn inline(&self) -> bool {
        self.cfg.inline
    }

    /// Transitions from now on, once each is written.
    pub fn subscribe(&self) -> broadcast::Receiver<Transition> {
        self.events.subscribe()
    }

    /// Whether any sample of the batch has a name some definition watches.
    pub fn watches_any(&self, samples: &[Sample]) -> bool {
        let st = self.lock();
        if st.by_metric.is_empty() {
            return false;
        }
        let mut last: Option<(&str, &str)> = None;
        samples.iter().any(|s| {
            let (t, n) = (s.series.tenant.as_str(), s.series.name.as_str());
            if last == Some((t, n)) {
                return false;
            }
            last = Some((t, n));
            st.by_metric.watches(t, n)
        })
    }

    /// Feeds acknowledged samples to the windows, creating alarms as needed, and applies any
    /// state they decide at once.
    pub fn observe(&self, samples: &[Sample]) {
        self.observe_all(&[samples]);
    }

    /// [`Engine::observe`] for several batches in one transaction (one fsync for every alarm,
    /// metric and transition of the batches).
    pub fn observe_all(&self, batches: &[&[Sample]]) {
        let mut transitions = Vec::new();
        let written = self.repo.write_batch(&mut |w| {
            for b in batches {
                self.observe_in(w, b, &mut transitions);
            }
        });
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot write alarm changes");
        }
        self.publish(transitions);
    }

    /// Evaluates every alarm at the clock's time, in one transaction.
    pub fn tick(&self) {
        let started = std::time::Instant::now();
        let mut transitions = Vec::new();
        let written = self
            .repo
            .write_batch(&mut |w| self.tick_in(w, &mut transitions));
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot write alarm changes");
        }
        self.publish(transitions);
        let c = &self.counters;
        c.ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        c.last_tick_micros
            .store(micros, std::sync::atomic::Ordering::Relaxed);
        c.last_tick_at_ms
            .store(self.now_ms(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Reloads definition `id` after the API changed it; a deleted one takes its alarms along
    /// (the repository already dropped them).
    pub fn definition_changed(&self, id: &str) {
        // With shared evaluation another node may hold it; its holder hears of the change.
        if !self.owns(id) {
            return;
        }
        let def = match self.repo.definition(id) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot reload alarm definition");
                return;
            }
        };
        let now = self.now_s();
        let mut st = self.lock();
        st.routes.clear();
        st.remove_definition_index(id);
        let Some(def) = def else {
            st.defs.remove(id);
            st.waiting.retain(|(d, _), _| d != id);
            let gone: Vec<String> = st.alarms.ids_where(|a| a.def_id == id);
            for a in gone {
                st.remove_alarm(&a);
            }
            return;
        };
        let old_subs = st.defs.get(id).map(|d| d.subs.clone());
        st.add_definition(def);
        let Some(new_subs) = st.defs.get(id).map(|d| d.subs.clone()) else {
            return;
        };
        if old_subs.as_ref() == Some(&new_subs) {
            return;
        }
        // Sub-expressions changed (same metrics, other function, threshold or period): fresh
        // windows for every alarm of the definition.
        let st = &mut *st;
        for a in st.alarms.values_mut().filter(|a| a.def_id == id) {
            // Windows of sub-expressions that are no more are given back; the rest start over.
            for old in a.subs.iter().skip(new_subs.len()) {
                st.windows.release(old.window);
            }
            a.subs.truncate(new_subs.len());
            for (s, sub) in new_subs.iter().zip(a.subs.iter_mut()) {
                st.windows.replace(sub.window, window::Window::new(s, now));
            }
        }
    }

    /// The API set an alarm's state, link or lifecycle state.
    pub fn alarm_updated(
        &self,
        id: &str,
        state: AlarmState,
        link: Option<String>,
        lifecycle_state: Option<String>,
    ) {
        let mut st = self.lock();
        if let Some(a) = st.alarms.get_mut(id) {
            a.resend |= a.state != state;
            a.state = state;
            a.link = link;
            a.lifecycle_state = lifecycle_state;
        }
    }

    /// The API deleted an alarm: a later matching metric creates a new one, as upstream.
    pub fn alarm_deleted(&self, id: &str) {
        let mut st = self.lock();
        st.routes.clear();
        st.remove_alarm(id);
    }
}
