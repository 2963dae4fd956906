//! The threshold engine: matches incoming metrics to alarm definitions, creates an alarm per
//! `match_by` group on the first matching metric, keeps a sliding window per sub-alarm, and
//! moves alarms between UNDETERMINED, OK and ALARM as monasca-thresh does. Every transition is
//! written to state history and published to subscribers (the notifier).
//!
//! State lives in SQLite; after a restart the windows are refilled from the metric store, so
//! alarms neither lose their state nor flap.

pub mod text;
pub mod window;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use alarm_expr::{Expr, SubExpr};
use metric_store::{DimMatch, MetricStore, Sample, SeriesFilter, SeriesKey, TimeRange};
use monasca::types::{AlarmMetric, SubAlarmExpression, SubAlarmRecord};
use rusqlite::{Connection, params};
use tokio::sync::broadcast;
use window::Window;

use super::{
    db::{Db, new_id},
    definitions::{self, Definition},
};

/// An alarm's (or sub-alarm's) state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlarmState {
    Undetermined,
    Ok,
    Alarm,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Undetermined => "UNDETERMINED",
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "UNDETERMINED" => Some(AlarmState::Undetermined),
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            _ => None,
        }
    }
}

/// Where the engine reads the time: the wall clock in production, a hand-moved one in tests.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A clock that moves only when told to.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

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

/// A state change, as published to subscribers.
#[derive(Clone, Debug)]
pub struct Transition {
    pub tenant: String,
    pub alarm_id: String,
    pub definition_id: String,
    pub definition_name: String,
    pub description: String,
    pub severity: String,
    pub actions_enabled: bool,
    /// The notification methods of the new state.
    pub actions: Vec<String>,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
    pub timestamp_ms: i64,
    pub metrics: Vec<AlarmMetric>,
    pub link: Option<String>,
    pub lifecycle_state: Option<String>,
}

type MetricKey = (String, BTreeMap<String, String>);

struct DefRt {
    def: Definition,
    expr: Expr,
    subs: Vec<SubExpr>,
}

struct SubRt {
    window: Window,
    state: AlarmState,
    values: Vec<f64>,
}

struct AlarmRt {
    def_id: String,
    tenant: String,
    group: String,
    state: AlarmState,
    metrics: BTreeSet<MetricKey>,
    subs: Vec<SubRt>,
    link: Option<String>,
    lifecycle_state: Option<String>,
    /// Set when the API changed the state: the next verdict of the data is applied even if
    /// no sub-alarm changed (monasca-thresh's "resend"), so a manual state holds until then.
    resend: bool,
}

/// A compound alarm that has not yet seen a metric for every sub-expression.
#[derive(Default)]
struct Waiting {
    seen: Vec<bool>,
    samples: Vec<Sample>,
}

const WAITING_SAMPLES: usize = 10_000;

/// The alarms a batch touched, each once, by slab index.
#[derive(Default)]
struct Touched {
    seen: foldhash::HashSet<usize>,
    alarms: Vec<usize>,
}

impl Touched {
    fn insert(&mut self, idx: usize) {
        if self.seen.insert(idx) {
            self.alarms.push(idx);
        }
    }
}

/// Alarms by id, stored in a slab so the per-sample path reaches one by index.
#[derive(Default)]
struct Alarms {
    slots: Vec<Option<(String, AlarmRt)>>,
    index: foldhash::HashMap<String, usize>,
}

impl Alarms {
    fn idx(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
    fn get_mut(&mut self, id: &str) -> Option<&mut AlarmRt> {
        let i = self.idx(id)?;
        self.at_mut(i)
    }
    fn entry_mut(&mut self, i: usize) -> Option<(&str, &mut AlarmRt)> {
        self.slots
            .get_mut(i)?
            .as_mut()
            .map(|(id, a)| (id.as_str(), a))
    }
    fn at_mut(&mut self, i: usize) -> Option<&mut AlarmRt> {
        self.slots.get_mut(i)?.as_mut().map(|(_, a)| a)
    }
    fn insert(&mut self, id: String, a: AlarmRt) -> usize {
        let i = self.slots.len();
        self.index.insert(id.clone(), i);
        self.slots.push(Some((id, a)));
        i
    }
    fn remove(&mut self, id: &str) -> Option<AlarmRt> {
        let i = self.index.remove(id)?;
        self.slots.get_mut(i)?.take().map(|(_, a)| a)
    }
    fn indices(&self) -> Vec<usize> {
        self.index.values().copied().collect()
    }
    fn values_mut(&mut self) -> impl Iterator<Item = &mut AlarmRt> {
        self.slots.iter_mut().flatten().map(|(_, a)| a)
    }
    fn ids_where(&self, f: impl Fn(&AlarmRt) -> bool) -> Vec<String> {
        self.slots
            .iter()
            .flatten()
            .filter(|(_, a)| f(a))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Where a series' values go once its alarms are known: the alarm and the sub-alarms whose
/// sub-expression the series matches.
struct Route {
    alarm: usize,
    subs: Vec<usize>,
}

#[derive(Default)]
struct State {
    /// Resolved routes per series, so the common case (a known series) costs one hash lookup.
    /// Cleared whenever definitions or alarms change.
    routes: foldhash::HashMap<Arc<SeriesKey>, Vec<Route>>,
    defs: foldhash::HashMap<String, DefRt>,
    by_metric: HashMap<(String, String), Vec<(String, usize)>>,
    alarms: Alarms,
    by_group: HashMap<(String, String), String>,
    waiting: HashMap<(String, String), Waiting>,
}

pub struct Engine {
    db: Db,
    clock: Arc<dyn Clock>,
    cfg: EngineConfig,
    state: Mutex<State>,
    events: broadcast::Sender<Transition>,
}

fn sub_matches(sub: &SubExpr, name: &str, dims: &BTreeMap<String, String>) -> bool {
    sub.metric_name == name
        && sub
            .dimensions
            .iter()
            .all(|(k, v)| dims.get(k).is_some_and(|x| x == v))
}

fn group_key(match_by: &[String], dims: &BTreeMap<String, String>) -> String {
    let mut parts: Vec<String> = match_by
        .iter()
        .filter_map(|k| dims.get(k).map(|v| format!("{k}={v}")))
        .collect();
    parts.sort();
    parts.join(",")
}

fn initial_state(subs: &[SubExpr]) -> AlarmState {
    if subs.iter().all(|s| s.deterministic) {
        AlarmState::Ok
    } else {
        AlarmState::Undetermined
    }
}

fn sub_initial(s: &SubExpr) -> AlarmState {
    if s.deterministic {
        AlarmState::Ok
    } else {
        AlarmState::Undetermined
    }
}

impl DefRt {
    fn new(def: Definition) -> Option<Self> {
        let expr = alarm_expr::parse(&def.expression).ok()?;
        let subs = expr.sub_expressions().into_iter().cloned().collect();
        Some(Self { def, expr, subs })
    }

    fn combine(&self, subs: &[SubRt]) -> AlarmState {
        if subs.iter().any(|s| s.state == AlarmState::Undetermined) {
            return AlarmState::Undetermined;
        }
        let mut i = 0;
        // Sub-expressions are numbered left to right, the order `evaluate` visits them.
        let alarm = self.expr.evaluate(&mut |_| {
            let holds = subs.get(i).is_some_and(|s| s.state == AlarmState::Alarm);
            i += 1;
            holds
        });
        if alarm {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    }
}

impl Engine {
    /// Loads definitions and alarms from the database and refills the windows from `store`.
    ///
    /// # Errors
    /// Database or store failures.
    pub async fn load(
        db: Db,
        store: Arc<dyn MetricStore>,
        clock: Arc<dyn Clock>,
        cfg: EngineConfig,
    ) -> anyhow::Result<Arc<Self>> {
        let (events, _) = broadcast::channel(1024);
        let engine = Arc::new(Self {
            db,
            clock,
            cfg,
            state: Mutex::new(State::default()),
            events,
        });
        let e = engine.clone();
        let replay = tokio::task::spawn_blocking(move || e.load_blocking()).await??;
        // Refill windows with what the store holds for each alarm's metrics.
        for (alarm_id, tenant, (name, dims), from) in replay {
            let mut filter = SeriesFilter::tenant(tenant).name(name);
            for (k, v) in &dims {
                filter = filter.dimension(k.clone(), DimMatch::AnyOf(vec![v.clone()]));
            }
            let series = store.find_series(&filter, TimeRange::ALL).await?;
            let Some(s) = series.into_iter().find(|s| s.key.dimensions == dims) else {
                continue;
            };
            let points = store
                .read_points(&[s.id], TimeRange::new(Some(from), None), None, 1_000_000)
                .await?;
            let mut guard = engine.lock();
            let st = &mut *guard;
            if let Some(a) = st.alarms.get_mut(&alarm_id) {
                let def_subs: Vec<SubExpr> = st
                    .defs
                    .get(&a.def_id)
                    .map(|d| d.subs.clone())
                    .unwrap_or_default();
                for (sub, rt) in def_subs.iter().zip(a.subs.iter_mut()) {
                    if sub_matches(sub, &s.key.name, &s.key.dimensions) {
                        for p in &points {
                            rt.window.add(p.timestamp, p.value);
                        }
                    }
                }
            }
        }
        Ok(engine)
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

    /// Returns, per alarm metric, where to start replaying stored points.
    #[allow(clippy::type_complexity)]
    fn load_blocking(&self) -> anyhow::Result<Vec<(String, String, MetricKey, i64)>> {
        let now = self.now_s();
        // Lock order everywhere: database, then engine.
        let defs = self.db.blocking(|c| definitions::all(c))?;
        let alarms = self.db.blocking(load_alarms)?;
        let mut st = self.lock();
        for d in defs {
            add_definition(&mut st, d);
        }
        let mut replay = Vec::new();
        for (id, def_id, tenant, group, state, link, lifecycle, metrics, sub_states) in alarms {
            let Some(def) = st.defs.get(&def_id) else {
                continue;
            };
            let subs: Vec<SubRt> = def
                .subs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let (state, values) = sub_states
                        .get(&i)
                        .cloned()
                        .unwrap_or((sub_initial(s), Vec::new()));
                    SubRt {
                        window: Window::new(s, now),
                        state,
                        values,
                    }
                })
                .collect();
            let from = def
                .subs
                .iter()
                .map(|s| i64::from(s.period) * (i64::from(s.periods) + 1))
                .max()
                .unwrap_or(60);
            for m in &metrics {
                replay.push((id.clone(), tenant.clone(), m.clone(), (now - from) * 1000));
            }
            st.by_group
                .insert((def_id.clone(), group.clone()), id.clone());
            st.alarms.insert(
                id.clone(),
                AlarmRt {
                    def_id,
                    tenant,
                    group,
                    state,
                    metrics: metrics.into_iter().collect(),
                    subs,
                    link,
                    lifecycle_state: lifecycle,
                    resend: false,
                },
            );
        }
        Ok(replay)
    }

    /// Runs the evaluation loop until the returned handle is dropped or aborted.
    pub fn spawn_ticker(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut iv = tokio::time::interval(engine.cfg.tick);
            iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                iv.tick().await;
                let e = engine.clone();
                if tokio::task::spawn_blocking(move || e.tick()).await.is_err() {
                    tracing::error!("threshold evaluation panicked");
                }
            }
        })
    }

    pub fn inline(&self) -> bool {
        self.cfg.inline
    }

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
            st.by_metric.contains_key(&(t.to_string(), n.to_string()))
        })
    }

    /// Feeds acknowledged samples to the windows, creating alarms as needed, and applies any
    /// state they decide at once.
    pub fn observe(&self, samples: &[Sample]) {
        self.observe_all(&[samples]);
    }

    /// [`Engine::observe`] for several batches in one transaction.
    pub fn observe_all(&self, batches: &[&[Sample]]) {
        let transitions = self.db.blocking(|conn| {
            // One transaction (one fsync) for every alarm, metric and transition of the batch.
            let tx = match conn.transaction() {
                Ok(tx) => tx,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start an alarm transaction");
                    return Vec::new();
                }
            };
            let t: Vec<Transition> = batches
                .iter()
                .flat_map(|b| self.observe_in(&tx, b))
                .collect();
            if let Err(e) = tx.commit() {
                tracing::error!(error = %e, "cannot commit alarm changes");
            }
            t
        });
        self.publish(transitions);
    }

    fn observe_in(&self, db: &Connection, samples: &[Sample]) -> Vec<Transition> {
        let now = self.now_s();
        let mut guard = self.lock();
        let st = &mut *guard;
        let mut touched = Touched::default();
        // Batches repeat names: decide once per run of the same tenant and name whether any
        // definition watches it.
        let mut last: Option<(&str, &str, bool)> = None;
        for s in samples {
            let (t, n) = (s.series.tenant.as_str(), s.series.name.as_str());
            let watched = match last {
                Some((lt, ln, w)) if lt == t && ln == n => w,
                _ => {
                    let w = st.by_metric.contains_key(&(t.to_string(), n.to_string()));
                    last = Some((t, n, w));
                    w
                }
            };
            if !watched {
                continue;
            }
            if let Some(routes) = st.routes.get(&s.series) {
                for r in routes {
                    if let Some(a) = st.alarms.at_mut(r.alarm) {
                        let mut decisive = false;
                        for i in &r.subs {
                            if let Some(sub) = a.subs.get_mut(*i) {
                                sub.window.add(s.timestamp, s.value);
                                decisive |= sub.window.decisive();
                            }
                        }
                        // Other values wait for their period to close: the clock evaluates them.
                        if decisive {
                            touched.insert(r.alarm);
                        }
                    }
                }
                continue;
            }
            self.route_new_series(db, st, s, now, &mut touched);
        }
        touched
            .alarms
            .into_iter()
            .filter_map(|idx| self.evaluate(db, st, idx, now))
            .collect()
    }

    /// The slow path for a series not seen since the routes were last cleared: find the
    /// definitions it matches, create alarms as needed, record it as an alarm metric, add its
    /// value, and remember the routes (unless a compound alarm is still waiting for it).
    fn route_new_series(
        &self,
        db: &Connection,
        st: &mut State,
        s: &Sample,
        now: i64,
        touched: &mut Touched,
    ) {
        let key = (s.series.tenant.clone(), s.series.name.clone());
        let Some(targets) = st.by_metric.get(&key).cloned() else {
            return;
        };
        let mut routes: Vec<Route> = Vec::new();
        let mut cacheable = true;
        let mut done_defs: BTreeSet<String> = BTreeSet::new();
        for (def_id, sub_idx) in targets {
            if done_defs.contains(&def_id) {
                continue;
            }
            let Some(def) = st.defs.get(&def_id) else {
                continue;
            };
            if !sub_matches(&def.subs[sub_idx], &s.series.name, &s.series.dimensions) {
                continue;
            }
            done_defs.insert(def_id.clone());
            let matching: Vec<usize> = def
                .subs
                .iter()
                .enumerate()
                .filter(|(_, sub)| sub_matches(sub, &s.series.name, &s.series.dimensions))
                .map(|(i, _)| i)
                .collect();
            let group = group_key(&def.def.match_by, &s.series.dimensions);
            let gk = (def_id.clone(), group.clone());
            let alarm_id = match st.by_group.get(&gk) {
                Some(id) => id.clone(),
                None => {
                    let n = def.subs.len();
                    let w = st.waiting.entry(gk.clone()).or_default();
                    if w.seen.len() != n {
                        w.seen = vec![false; n];
                    }
                    for i in &matching {
                        w.seen[*i] = true;
                    }
                    if w.samples.len() < WAITING_SAMPLES {
                        w.samples.push(s.clone());
                    }
                    if !w.seen.iter().all(|x| *x) {
                        cacheable = false;
                        continue;
                    }
                    let pending = st
                        .waiting
                        .remove(&gk)
                        .map(|w| w.samples)
                        .unwrap_or_default();
                    let Some(id) = self.create_alarm(db, st, &def_id, &group, now) else {
                        cacheable = false;
                        continue;
                    };
                    // The samples kept while waiting include this one.
                    for p in pending {
                        self.add_sample(db, st, &id, &p);
                    }
                    let Some(id) = st.alarms.idx(&id) else {
                        continue;
                    };
                    touched.insert(id);
                    routes.push(Route {
                        alarm: id,
                        subs: matching,
                    });
                    continue;
                }
            };
            self.add_sample(db, st, &alarm_id, s);
            let Some(id) = st.alarms.idx(&alarm_id) else {
                continue;
            };
            touched.insert(id);
            routes.push(Route {
                alarm: id,
                subs: matching,
            });
        }
        if cacheable {
            st.routes.insert(s.series.clone(), routes);
        }
    }

    fn add_sample(&self, db: &Connection, st: &mut State, alarm_id: &str, s: &Sample) {
        let Some(a) = st.alarms.get_mut(alarm_id) else {
            return;
        };
        let Some(def) = st.defs.get(&a.def_id) else {
            return;
        };
        let key: MetricKey = (s.series.name.clone(), s.series.dimensions.clone());
        if !a.metrics.contains(&key) {
            let dims = serde_json::to_string(&key.1).unwrap_or_default();
            let r = db.execute(
                "INSERT OR IGNORE INTO alarm_metric (alarm_id, name, dimensions) VALUES (?1, ?2, ?3)",
                params![alarm_id, key.0, dims],
            );
            if let Err(e) = r {
                tracing::error!(error = %e, "cannot record alarm metric");
            }
            a.metrics.insert(key);
        }
        for (sub, rt) in def.subs.iter().zip(a.subs.iter_mut()) {
            if sub_matches(sub, &s.series.name, &s.series.dimensions) {
                rt.window.add(s.timestamp, s.value);
            }
        }
    }

    fn create_alarm(
        &self,
        db: &Connection,
        st: &mut State,
        def_id: &str,
        group: &str,
        now: i64,
    ) -> Option<String> {
        let def = st.defs.get(def_id)?;
        let id = new_id();
        let state = initial_state(&def.subs);
        let subs: Vec<SubRt> = def
            .subs
            .iter()
            .map(|s| SubRt {
                window: Window::new(s, now),
                state: sub_initial(s),
                values: Vec::new(),
            })
            .collect();
        let now_ms = self.clock.now_ms();
        let tenant = def.def.tenant.clone();
        let r = (|| -> rusqlite::Result<()> {
            db.execute(
                "INSERT INTO alarm (id, alarm_definition_id, tenant_id, group_key, state, created_at, state_updated_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)",
                params![id, def_id, tenant, group, state.as_str(), now_ms],
            )?;
            for (i, s) in subs.iter().enumerate() {
                db.execute(
                    "INSERT INTO sub_alarm (alarm_id, sub_expression, state) VALUES (?1, ?2, ?3)",
                    params![id, i as i64, s.state.as_str()],
                )?;
            }
            Ok(())
        })();
        if let Err(e) = r {
            // The definition may have been deleted a moment ago.
            tracing::warn!(error = %e, definition = def_id, "cannot create alarm");
            return None;
        }
        tracing::info!(alarm = %id, definition = def_id, group, "alarm created");
        st.by_group
            .insert((def_id.to_string(), group.to_string()), id.clone());
        st.alarms.insert(
            id.clone(),
            AlarmRt {
                def_id: def_id.to_string(),
                tenant,
                group: group.to_string(),
                state,
                metrics: BTreeSet::new(),
                subs,
                link: None,
                lifecycle_state: None,
                resend: false,
            },
        );
        Some(id)
    }

    /// Evaluates every alarm at the clock's time.
    pub fn tick(&self) {
        let now = self.now_s();
        let transitions = self.db.blocking(|conn| {
            let tx = match conn.transaction() {
                Ok(tx) => tx,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start an alarm transaction");
                    return Vec::new();
                }
            };
            let mut st = self.lock();
            let t: Vec<Transition> = st
                .alarms
                .indices()
                .into_iter()
                .filter_map(|idx| self.evaluate(&tx, &mut st, idx, now))
                .collect();
            drop(st);
            if let Err(e) = tx.commit() {
                tracing::error!(error = %e, "cannot commit alarm changes");
            }
            t
        });
        self.publish(transitions);
    }

    fn publish(&self, transitions: Vec<Transition>) {
        for t in transitions {
            // No subscriber is fine: the history row is already written.
            let _ = self.events.send(t);
        }
    }

    fn evaluate(
        &self,
        db: &Connection,
        st: &mut State,
        idx: usize,
        now: i64,
    ) -> Option<Transition> {
        let (alarm_id, a) = st.alarms.entry_mut(idx)?;
        let def = st.defs.get(&a.def_id)?;
        let mut subs_changed = false;
        let mut any_verdict = false;
        for rt in &mut a.subs {
            if let Some(v) = rt.window.evaluate(now, self.cfg.delay_s) {
                any_verdict = true;
                if v.state != rt.state || v.values != rt.values {
                    subs_changed |= v.state != rt.state;
                    rt.state = v.state;
                    rt.values = v.values;
                }
            }
        }
        // The alarm is judged again only when the data says something new, or says anything
        // at all after the API set its state.
        if !(subs_changed || (a.resend && any_verdict)) {
            return None;
        }
        a.resend = false;
        let new_state = def.combine(&a.subs);
        if new_state == a.state {
            if subs_changed {
                let r = save_subs(db, alarm_id, &a.subs);
                if let Err(e) = r {
                    tracing::error!(error = %e, "cannot save sub-alarm states");
                }
            }
            return None;
        }
        let old = a.state;
        a.state = new_state;
        let reason = reason(def, &a.subs, new_state);
        let ts = self.clock.now_ms();
        let metrics: Vec<AlarmMetric> = a
            .metrics
            .iter()
            .map(|(name, dims)| AlarmMetric {
                name: name.clone(),
                dimensions: dims.clone(),
            })
            .collect();
        let records: Vec<SubAlarmRecord> = def
            .subs
            .iter()
            .zip(&a.subs)
            .map(|(s, rt)| sub_record(s, rt.state, &rt.values))
            .collect();
        let r = (|| -> rusqlite::Result<()> {
            db.execute(
                "UPDATE alarm SET state = ?1, state_updated_at = ?2, updated_at = ?2 WHERE id = ?3",
                params![new_state.as_str(), ts, alarm_id],
            )?;
            save_subs(db, alarm_id, &a.subs)?;
            insert_history(
                db, &a.tenant, alarm_id, ts, &metrics, old, new_state, &reason, &records,
            )?;
            Ok(())
        })();
        if let Err(e) = r {
            tracing::error!(error = %e, alarm = alarm_id, "cannot record a state transition");
        }
        tracing::info!(
            alarm = alarm_id,
            from = old.as_str(),
            to = new_state.as_str(),
            "alarm transition"
        );
        let actions = match new_state {
            AlarmState::Alarm => def.def.alarm_actions.clone(),
            AlarmState::Ok => def.def.ok_actions.clone(),
            AlarmState::Undetermined => def.def.undetermined_actions.clone(),
        };
        Some(Transition {
            tenant: a.tenant.clone(),
            alarm_id: alarm_id.to_string(),
            definition_id: a.def_id.clone(),
            definition_name: def.def.name.clone(),
            description: def.def.description.clone(),
            severity: def.def.severity.clone(),
            actions_enabled: def.def.actions_enabled,
            actions,
            old_state: old,
            new_state,
            reason,
            timestamp_ms: ts,
            metrics,
            link: a.link.clone(),
            lifecycle_state: a.lifecycle_state.clone(),
        })
    }

    /// Reloads definition `id` after the API changed it; a deleted one takes its alarms along
    /// (the database already dropped them).
    pub fn definition_changed(&self, id: &str) {
        let def = match self
            .db
            .blocking(|c| -> rusqlite::Result<Option<Definition>> {
                let tenant: Option<String> = c
                    .query_row(
                        "SELECT tenant_id FROM alarm_definition WHERE id = ?1",
                        params![id],
                        |r| r.get(0),
                    )
                    .ok();
                match tenant {
                    Some(t) => definitions::get(c, &t, id),
                    None => Ok(None),
                }
            }) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot reload alarm definition");
                return;
            }
        };
        let now = self.now_s();
        let mut st = self.lock();
        st.routes.clear();
        remove_definition_index(&mut st, id);
        let Some(def) = def else {
            st.defs.remove(id);
            st.waiting.retain(|(d, _), _| d != id);
            let gone: Vec<String> = st.alarms.ids_where(|a| a.def_id == id);
            for a in gone {
                if let Some(rt) = st.alarms.remove(&a) {
                    st.by_group.remove(&(rt.def_id, rt.group));
                }
            }
            return;
        };
        let old_subs = st.defs.get(id).map(|d| d.subs.clone());
        add_definition(&mut st, def);
        let Some(new_subs) = st.defs.get(id).map(|d| d.subs.clone()) else {
            return;
        };
        if old_subs.as_ref() == Some(&new_subs) {
            return;
        }
        // Sub-expressions changed (same metrics, other function, threshold or period): fresh
        // windows for every alarm of the definition.
        for a in st.alarms.values_mut().filter(|a| a.def_id == id) {
            a.subs = new_subs
                .iter()
                .zip(a.subs.iter())
                .map(|(s, old)| SubRt {
                    window: Window::new(s, now),
                    state: old.state,
                    values: old.values.clone(),
                })
                .collect();
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
        if let Some(a) = st.alarms.remove(id) {
            st.by_group.remove(&(a.def_id, a.group));
        }
    }
}

fn add_definition(st: &mut State, def: Definition) {
    let id = def.id.clone();
    let tenant = def.tenant.clone();
    let Some(rt) = DefRt::new(def) else {
        tracing::warn!(definition = %id, "stored expression does not parse; skipped");
        return;
    };
    remove_definition_index(st, &id);
    for (i, s) in rt.subs.iter().enumerate() {
        st.by_metric
            .entry((tenant.clone(), s.metric_name.clone()))
            .or_default()
            .push((id.clone(), i));
    }
    st.defs.insert(id, rt);
}

fn remove_definition_index(st: &mut State, id: &str) {
    for v in st.by_metric.values_mut() {
        v.retain(|(d, _)| d != id);
    }
    st.by_metric.retain(|_, v| !v.is_empty());
}

fn reason(def: &DefRt, subs: &[SubRt], state: AlarmState) -> String {
    let parts: Vec<String> = def
        .subs
        .iter()
        .zip(subs)
        .filter(|(_, rt)| rt.state == state)
        .map(|(s, rt)| {
            let e = text::sub_expression(s);
            match state {
                AlarmState::Undetermined => e,
                _ => format!("{e} with the values: {}", text::values(&rt.values)),
            }
        })
        .collect();
    let list = parts.join(", ");
    match state {
        AlarmState::Alarm => format!("Thresholds were exceeded for the sub-alarms: {list}"),
        AlarmState::Ok => {
            format!("The alarm threshold(s) have not been exceeded for the sub-alarms: {list}")
        }
        AlarmState::Undetermined => format!("No data was present for the sub-alarms: {list}"),
    }
}

fn sub_record(s: &SubExpr, state: AlarmState, values: &[f64]) -> SubAlarmRecord {
    SubAlarmRecord {
        sub_alarm_expression: SubAlarmExpression {
            function: s.function.as_upper().to_string(),
            operator: s.operator.normalized().to_string(),
            threshold: s.threshold,
            period: s.period,
            periods: s.periods,
            deterministic: s.deterministic,
            metric_name: s.metric_name.clone(),
            dimensions: s.dimensions.iter().cloned().collect(),
        },
        sub_alarm_state: state.as_str().to_string(),
        current_values: values.to_vec(),
    }
}

fn save_subs(c: &Connection, alarm_id: &str, subs: &[SubRt]) -> rusqlite::Result<()> {
    for (i, s) in subs.iter().enumerate() {
        c.execute(
            "UPDATE sub_alarm SET state = ?1, current_values = ?2 WHERE alarm_id = ?3 AND sub_expression = ?4",
            params![
                s.state.as_str(),
                serde_json::to_string(&s.values).unwrap_or_else(|_| "[]".into()),
                alarm_id,
                i as i64
            ],
        )?;
    }
    Ok(())
}

/// Appends one state-history entry.
#[allow(clippy::too_many_arguments)]
pub fn insert_history(
    c: &Connection,
    tenant: &str,
    alarm_id: &str,
    ts: i64,
    metrics: &[AlarmMetric],
    old: AlarmState,
    new: AlarmState,
    reason: &str,
    subs: &[SubAlarmRecord],
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO alarm_state_history (tenant_id, alarm_id, time_ms, metrics, old_state, new_state, reason, reason_data, sub_alarms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '{}', ?8)",
        params![
            tenant,
            alarm_id,
            ts,
            serde_json::to_string(metrics).unwrap_or_else(|_| "[]".into()),
            old.as_str(),
            new.as_str(),
            reason,
            serde_json::to_string(subs).unwrap_or_else(|_| "[]".into()),
        ],
    )?;
    Ok(())
}

type LoadedAlarm = (
    String,
    String,
    String,
    String,
    AlarmState,
    Option<String>,
    Option<String>,
    Vec<MetricKey>,
    HashMap<usize, (AlarmState, Vec<f64>)>,
);

fn load_alarms(c: &mut Connection) -> rusqlite::Result<Vec<LoadedAlarm>> {
    let mut stmt = c.prepare(
        "SELECT id, alarm_definition_id, tenant_id, group_key, state, link, lifecycle_state FROM alarm",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for (id, def, tenant, group, state, link, lc) in rows {
        let mut ms =
            c.prepare_cached("SELECT name, dimensions FROM alarm_metric WHERE alarm_id = ?1")?;
        let metrics = ms
            .query_map(params![id], |r| {
                let dims: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    serde_json::from_str(&dims).unwrap_or_default(),
                ))
            })?
            .collect::<Result<Vec<MetricKey>, _>>()?;
        let mut ss = c.prepare_cached(
            "SELECT sub_expression, state, current_values FROM sub_alarm WHERE alarm_id = ?1",
        )?;
        let subs = ss
            .query_map(params![id], |r| {
                let values: String = r.get(2)?;
                Ok((
                    r.get::<_, i64>(0)? as usize,
                    (
                        AlarmState::parse(&r.get::<_, String>(1)?)
                            .unwrap_or(AlarmState::Undetermined),
                        serde_json::from_str(&values).unwrap_or_default(),
                    ),
                ))
            })?
            .collect::<Result<HashMap<_, _>, _>>()?;
        out.push((
            id,
            def,
            tenant,
            group,
            AlarmState::parse(&state).unwrap_or(AlarmState::Undetermined),
            link,
            lc,
            metrics,
            subs,
        ));
    }
    Ok(out)
}
