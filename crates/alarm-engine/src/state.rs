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

/// One sub-alarm: its window and the state last decided (and saved).
pub(crate) struct SubRt {
    pub window: Window,
    pub current: SubAlarmState,
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

/// The alarms a batch touched, each once, by slab index.
#[derive(Default)]
pub(crate) struct Touched {
    seen: foldhash::HashSet<usize>,
    pub alarms: Vec<usize>,
}

impl Touched {
    pub fn insert(&mut self, idx: usize) {
        if self.seen.insert(idx) {
            self.alarms.push(idx);
        }
    }
}

/// Alarms by id, stored in a slab so the per-sample path reaches one by index.
#[derive(Default)]
pub(crate) struct Alarms {
    slots: Vec<Option<(String, AlarmRt)>>,
    index: foldhash::HashMap<String, usize>,
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
        let i = self.slots.len();
        self.index.insert(id.clone(), i);
        self.slots.push(Some((id, a)));
        i
    }
    pub fn remove(&mut self, id: &str) -> Option<AlarmRt> {
        let i = self.index.remove(id)?;
        self.slots.get_mut(i)?.take().map(|(_, a)| a)
    }
    pub fn indices(&self) -> Vec<usize> {
        self.index.values().copied().collect()
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

/// Where a series' values go once its alarms are known: the alarm and the sub-alarms whose
/// sub-expression the series matches.
pub(crate) struct Route {
    pub alarm: usize,
    pub subs: Vec<usize>,
}

/// The routes of each series seen, reached from the sample's key. The ingest path hands out
/// one shared `Arc` per series, so the common case is a lookup by the key's address (an
/// integer hash, no string compared); a key met at a new address is found by value once and
/// its address remembered. Each remembered address keeps its `Arc` alive, so an address can
/// never name another key; their number is bounded, in case the ingest path's own cache
/// hands out new `Arc`s for the same series.
#[derive(Default)]
pub(crate) struct RouteTable {
    by_key: foldhash::HashMap<Arc<SeriesKey>, usize>,
    by_address: foldhash::HashMap<usize, (Arc<SeriesKey>, usize)>,
    lists: Vec<Vec<Route>>,
}

impl RouteTable {
    /// The routes of `key`'s series, if known.
    pub fn get(&mut self, key: &Arc<SeriesKey>) -> Option<&[Route]> {
        let address = Arc::as_ptr(key) as usize;
        if let Some((_, i)) = self.by_address.get(&address) {
            return self.lists.get(*i).map(Vec::as_slice);
        }
        let i = *self.by_key.get(key)?;
        self.remember(key, i);
        self.lists.get(i).map(Vec::as_slice)
    }

    pub fn insert(&mut self, key: Arc<SeriesKey>, routes: Vec<Route>) {
        let i = match self.by_key.get(&key) {
            Some(i) => *i,
            None => {
                self.lists.push(Vec::new());
                self.lists.len() - 1
            }
        };
        if let Some(list) = self.lists.get_mut(i) {
            *list = routes;
        }
        self.remember(&key, i);
        self.by_key.insert(key, i);
    }

    fn remember(&mut self, key: &Arc<SeriesKey>, i: usize) {
        if self.by_address.len() >= 2 * self.by_key.len() + 1_024 {
            self.by_address.clear();
        }
        self.by_address
            .insert(Arc::as_ptr(key) as usize, (key.clone(), i));
    }

    pub fn clear(&mut self) {
        self.by_key.clear();
        self.by_address.clear();
        self.lists.clear();
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
    use super::*;

    fn key(host: &str) -> Arc<SeriesKey> {
        Arc::new(SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: BTreeMap::from([("hostname".into(), host.into())]),
        })
    }

    fn route(alarm: usize) -> Vec<Route> {
        vec![Route {
            alarm,
            subs: vec![0],
        }]
    }

    #[test]
    fn routes_are_found_by_address_or_by_value_and_bounded() {
        let mut t = RouteTable::default();
        let a = key("a");
        t.insert(a.clone(), route(1));
        assert_eq!(t.get(&a).map(|r| r[0].alarm), Some(1));
        // The same series under another `Arc`: found by value, then by its address too.
        let again = key("a");
        assert_eq!(t.get(&again).map(|r| r[0].alarm), Some(1));
        assert_eq!(t.by_address.len(), 2);
        assert!(t.get(&key("b")).is_none());
        // Replacing a series' routes reaches every address it was seen at.
        t.insert(key("a"), route(2));
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
