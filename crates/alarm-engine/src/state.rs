//! The engine's runtime state: parsed definitions, alarms with their sub-alarm windows, and
//! the indexes that route a sample to them.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use alarm_expr::{Expr, SubExpr};
use config_repo::monasca::threshold::{SubAlarmState, ThresholdDefinition};
use metric_store::{Sample, SeriesKey};

use crate::{AlarmState, window::Window};

/// A metric of an alarm: name and dimensions.
pub(crate) type MetricKey = (String, BTreeMap<String, String>);

/// A definition with its parsed expression.
pub(crate) struct DefRt {
    pub def: ThresholdDefinition,
    pub expr: Expr,
    /// Sub-expressions numbered left to right.
    pub subs: Vec<SubExpr>,
}

impl DefRt {
    /// `None` when the stored expression does not parse.
    pub fn new(def: ThresholdDefinition) -> Option<Self> {
        let expr = alarm_expr::parse(&def.expression).ok()?;
        let subs = expr.sub_expressions().into_iter().cloned().collect();
        Some(Self { def, expr, subs })
    }
}

/// One sub-alarm: its window (in [`Windows`]) and the state last decided (and saved).
pub(crate) struct SubRt {
    pub window: WindowId,
    pub current: SubAlarmState,
}

/// A window's place in [`Windows`].
pub(crate) type WindowId = usize;

/// Every sub-alarm's window in one vector. A series' routes name windows by place, so a
/// sample reaches its window straight from the route table instead of through its alarm's
/// slot and its sub-alarm list (with tens of thousands of alarms, each hop was a cache miss
/// a sample). Places of removed alarms are reused.
#[derive(Default)]
pub(crate) struct Windows {
    all: Vec<Window>,
    free: Vec<WindowId>,
}

impl Windows {
    pub fn add(&mut self, w: Window) -> WindowId {
        match self.free.pop() {
            Some(id) if id < self.all.len() => {
                self.all[id] = w;
                id
            }
            _ => {
                self.all.push(w);
                self.all.len() - 1
            }
        }
    }

    pub fn get_mut(&mut self, id: WindowId) -> Option<&mut Window> {
        self.all.get_mut(id)
    }

    /// Replaces window `id` (the sub-expression changed).
    pub fn replace(&mut self, id: WindowId, w: Window) {
        if let Some(slot) = self.all.get_mut(id) {
            *slot = w;
        }
    }

    /// Gives back the place of a removed sub-alarm's window, and its memory. Routes naming it
    /// are cleared with the alarm. A place is given back once, so no two alarms share it.
    pub fn release(&mut self, id: WindowId) {
        if let Some(w) = self.all.get_mut(id)
            && w.release()
        {
            self.free.push(id);
        }
    }
}

pub(crate) struct AlarmRt {
    pub def_id: String,
    pub tenant: String,
    pub group: String,
    pub state: AlarmState,
    pub metrics: BTreeSet<MetricKey>,
    pub subs: Vec<SubRt>,
    pub link: Option<String>,
    pub lifecycle_state: Option<String>,
    /// Set when the API changed the state: the next verdict of the data is applied even if
    /// no sub-alarm changed (monasca-thresh's "resend"), so a manual state holds until then.
    pub resend: bool,
}

/// A compound alarm that has not yet seen a metric for every sub-expression.
#[derive(Default)]
pub(crate) struct Waiting {
    pub seen: Vec<bool>,
    pub samples: Vec<Sample>,
}

/// Samples a waiting alarm keeps at most.
pub(crate) const WAITING_SAMPLES: usize = 10_000;

/// The alarms a batch touched, each once, by slab index; a bit an alarm, as most samples
/// of a decisive function touch one.
#[derive(Default)]
pub(crate) struct Touched {
    seen: Vec<u64>,
    pub alarms: Vec<usize>,
}

impl Touched {
    pub fn insert(&mut self, idx: usize) {
        let (word, bit) = (idx / 64, 1u64 << (idx % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & bit == 0 {
            self.seen[word] |= bit;
            self.alarms.push(idx);
        }
    }
}

/// Alarms by id, stored in a slab so the per-sample path reaches one by index.
#[derive(Default)]
pub(crate) struct Alarms {
    slots: Vec<Option<(String, AlarmRt)>>,
    index: foldhash::HashMap<String, usize>,
    /// Slots of removed alarms, taken again first (routes naming them are cleared with them).
    free: Vec<usize>,
}

impl Alarms {
    pub fn idx(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
    pub fn get_mut(&mut self, id: &str) -> Option<&mut AlarmRt> {
        let i = self.idx(id)?;
        self.at_mut(i)
    }
    pub fn entry_mut(&mut self, i: usize) -> Option<(&str, &mut AlarmRt)> {
        self.slots
            .get_mut(i)?
            .as_mut()
            .map(|(id, a)| (id.as_str(), a))
    }
    pub fn at_mut(&mut self, i: usize) -> Option<&mut AlarmRt> {
        self.slots.get_mut(i)?.as_mut().map(|(_, a)| a)
    }
    pub fn insert(&mut self, id: String, a: AlarmRt) -> usize {
        let i = match self.free.pop() {
            Some(i) if self.slots.get(i).is_some_and(Option::is_none) => i,
            _ => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.index.insert(id.clone(), i);
        self.slots[i] = Some((id, a));
        i
    }
    pub fn remove(&mut self, id: &str) -> Option<AlarmRt> {
        let i = self.index.remove(id)?;
        let a = self.slots.get_mut(i)?.take().map(|(_, a)| a);
        self.free.push(i);
        a
    }
    /// The live alarms' indices in slab order (their windows were made in about that order,
    /// so a pass over them reads memory forwards).
    pub fn indices(&self) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|_| i))
            .collect()
    }
    pub fn values(&self) -> impl Iterator<Item = &AlarmRt> {
        self.slots.iter().flatten().map(|(_, a)| a)
    }
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut AlarmRt> {
        self.slots.iter_mut().flatten().map(|(_, a)| a)
    }
    pub fn ids_where(&self, f: impl Fn(&AlarmRt) -> bool) -> Vec<String> {
        self.slots
            .iter()
            .flatten()
            .filter(|(_, a)| f(a))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// One window a series feeds, with its alarm (to evaluate when the value is decisive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Target {
    pub alarm: usize,
    pub window: WindowId,
}

/// A series' targets: a run of [`RouteTable`]'s one vector.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
}

/// The routes of each series seen, reached from the sample's key. The ingest path hands out
/// one shared `Arc` per series, so the common case is a lookup by the key's address (an
/// integer hash, no string compared); a key met at a new address is found by value once and
/// its address remembered. Each remembered address keeps its `Arc` alive, so an address can
/// never name another key; their number is bounded, in case the ingest path's own cache
/// hands out new `Arc`s for the same series. The address map holds the series' run of
/// targets itself, and the targets name windows, so a sample reaches its windows in a lookup
/// and a slice.
#[derive(Default)]
pub(crate) struct RouteTable {
    by_key: foldhash::HashMap<Arc<SeriesKey>, Span>,
    by_address: foldhash::HashMap<usize, (Arc<SeriesKey>, Span)>,
    targets: Vec<Target>,
}

impl RouteTable {
    /// The targets of `key`'s series, if known.
    pub fn get(&mut self, key: &Arc<SeriesKey>) -> Option<&[Target]> {
        let address = Arc::as_ptr(key) as usize;
        let span = match self.by_address.get(&address) {
            Some((_, span)) => *span,
            None => {
                let span = *self.by_key.get(key)?;
                self.remember(key, span);
                span
            }
        };
        self.targets.get(span.start..span.start + span.len)
    }

    pub fn insert(&mut self, key: Arc<SeriesKey>, targets: &[Target]) {
        if self.by_key.contains_key(&key) {
            // Rare (routes are made for series not found): forget the old run's addresses.
            self.by_address.retain(|_, (k, _)| **k != *key);
        }
        let span = Span {
            start: self.targets.len(),
            len: targets.len(),
        };
        self.targets.extend_from_slice(targets);
        self.remember(&key, span);
        self.by_key.insert(key, span);
    }

    fn remember(&mut self, key: &Arc<SeriesKey>, span: Span) {
        if self.by_address.len() >= 2 * self.by_key.len() + 1_024 {
            self.by_address.clear();
        }
        self.by_address
            .insert(Arc::as_ptr(key) as usize, (key.clone(), span));
    }

    pub fn clear(&mut self) {
        self.by_key.clear();
        self.by_address.clear();
        self.targets.clear();
    }
}

/// `(tenant, metric name)` to the `(definition, sub-expression)` pairs that watch it, nested so
/// that a sample's `&str`s look it up without building a key.
#[derive(Default)]
pub(crate) struct MetricIndex(HashMap<String, HashMap<String, Vec<(String, usize)>>>);

impl MetricIndex {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs watching `name` of `tenant`.
    pub fn get(&self, tenant: &str, name: &str) -> Option<&Vec<(String, usize)>> {
        self.0.get(tenant).and_then(|m| m.get(name))
    }

    pub fn watches(&self, tenant: &str, name: &str) -> bool {
        self.get(tenant, name).is_some()
    }

    fn push(&mut self, tenant: &str, name: &str, pair: (String, usize)) {
        self.0
            .entry(tenant.to_string())
            .or_default()
            .entry(name.to_string())
            .or_default()
            .push(pair);
    }

    fn remove_definition(&mut self, id: &str) {
        for names in self.0.values_mut() {
            for v in names.values_mut() {
                v.retain(|(d, _)| d != id);
            }
            names.retain(|_, v| !v.is_empty());
        }
        self.0.retain(|_, names| !names.is_empty());
    }
}

#[derive(Default)]
pub(crate) struct State {
    /// Resolved routes per series. Cleared whenever definitions or alarms change.
    pub routes: RouteTable,
    pub defs: foldhash::HashMap<String, DefRt>,
    /// Which definitions watch a tenant's metric name.
    pub by_metric: MetricIndex,
    pub alarms: Alarms,
    /// The alarms' windows.
    pub windows: Windows,
    /// `(definition, group key)` to alarm id.
    pub by_group: HashMap<(String, String), String>,
    pub waiting: HashMap<(String, String), Waiting>,
    /// The definitions this node evaluates when evaluation is shared among nodes; `None` on a
    /// single node, which evaluates every definition.
    pub owned: Option<foldhash::HashSet<String>>,
    /// Definitions just taken over whose windows are still to be refilled from the store:
    /// their alarms are not evaluated yet, and the samples they see meanwhile are noted so
    /// the refill does not add them twice.
    pub filling: foldhash::HashMap<String, foldhash::HashSet<(u64, i64)>>,
}

impl State {
    /// Adds (or replaces) a definition and indexes its metrics; one whose expression does not
    /// parse is skipped.
    pub fn add_definition(&mut self, def: ThresholdDefinition) {
        let id = def.id.clone();
        let tenant = def.tenant.clone();
        let Some(rt) = DefRt::new(def) else {
            tracing::warn!(definition = %id, "stored expression does not parse; skipped");
            return;
        };
        self.remove_definition_index(&id);
        for (i, s) in rt.subs.iter().enumerate() {
            self.by_metric
                .push(&tenant, &s.metric_name, (id.clone(), i));
        }
        self.defs.insert(id, rt);
    }

    pub fn remove_definition_index(&mut self, id: &str) {
        self.by_metric.remove_definition(id);
    }

    /// Adds alarm `id` (replacing one of that id, whose windows' routes go with it); returns
    /// its slab index.
    pub fn insert_alarm(&mut self, id: String, a: AlarmRt) -> usize {
        if self.remove_alarm(&id).is_some() {
            self.routes.clear();
        }
        self.by_group
            .insert((a.def_id.clone(), a.group.clone()), id.clone());
        self.alarms.insert(id, a)
    }

    /// Forgets alarm `id` with its windows and group. The caller clears the routes.
    pub fn remove_alarm(&mut self, id: &str) -> Option<AlarmRt> {
        let a = self.alarms.remove(id)?;
        for sub in &a.subs {
            self.windows.release(sub.window);
        }
        let group = (a.def_id.clone(), a.group.clone());
        if self.by_group.get(&group).is_some_and(|x| x == id) {
            self.by_group.remove(&group);
        }
        Some(a)
    }
}

/// How far back (seconds) the windows of `subs` reach: the longest sub-expression's periods
/// and one more; what a refill reads from the store.
pub(crate) fn window_span_s(subs: &[SubExpr]) -> i64 {
    subs.iter()
        .map(|s| i64::from(s.period) * (i64::from(s.periods) + 1))
        .max()
        .unwrap_or(60)
}

/// The state of a new alarm: OK when every sub-expression is deterministic.
pub(crate) fn initial_state(subs: &[SubExpr]) -> AlarmState {
    if subs.iter().all(|s| s.deterministic) {
        AlarmState::Ok
    } else {
        AlarmState::Undetermined
    }
}

pub(crate) fn sub_initial(s: &SubExpr) -> AlarmState {
    if s.deterministic {
        AlarmState::Ok
    } else {
        AlarmState::Undetermined
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(host: &str) -> Arc<SeriesKey> {
        Arc::new(SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: BTreeMap::from([("hostname".into(), host.into())]),
        })
    }

    fn route(alarm: usize) -> [Target; 1] {
        [Target { alarm, window: 0 }]
    }

    #[test]
    fn a_window_place_is_given_back_once() {
        let expr = alarm_expr::parse("avg(cpu) > 1").unwrap();
        let sub = expr.sub_expressions()[0].clone();
        let mut w = Windows::default();
        let (a, b) = (w.add(Window::new(&sub, 0)), w.add(Window::new(&sub, 0)));
        assert_ne!(a, b);
        w.release(a);
        w.release(a);
        // Two new windows get the one place given back and a new one, never the same twice.
        let (c, d) = (w.add(Window::new(&sub, 0)), w.add(Window::new(&sub, 0)));
        assert_eq!(c, a);
        assert!(d != a && d != b, "{d}");
    }

    #[test]
    fn routes_are_found_by_address_or_by_value_and_bounded() {
        let mut t = RouteTable::default();
        let a = key("a");
        t.insert(a.clone(), &route(1));
        assert_eq!(t.get(&a).map(|r| r[0].alarm), Some(1));
        // The same series under another `Arc`: found by value, then by its address too.
        let again = key("a");
        assert_eq!(t.get(&again).map(|r| r[0].alarm), Some(1));
        assert_eq!(t.by_address.len(), 2);
        assert!(t.get(&key("b")).is_none());
        // Replacing a series' routes reaches every address it was seen at.
        t.insert(key("a"), &route(2));
        assert_eq!(t.get(&again).map(|r| r[0].alarm), Some(2));
        // Many fresh `Arc`s of one series do not grow the address map without bound.
        for _ in 0..5_000 {
            assert!(t.get(&key("a")).is_some());
        }
        assert!(t.by_address.len() <= 2 * t.by_key.len() + 1_024);
        t.clear();
        assert!(t.get(&a).is_none());
    }
}
