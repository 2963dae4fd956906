//! Routing samples to alarms: the fast path for a known series, and the slow path that
//! matches a new series to definitions, creates an alarm per `match_by` group and records the
//! series as an alarm metric.

use std::collections::{BTreeMap, BTreeSet};

use alarm_expr::SubExpr;
use config_repo::monasca::threshold::{NewAlarm, SubAlarmState, ThresholdWrites};
use metric_store::Sample;

use crate::{
    AlarmState, Engine, Transition,
    state::{
        AlarmRt, MetricKey, State, SubRt, Target, Touched, WAITING_SAMPLES, initial_state,
        sub_initial,
    },
    window::Window,
};

/// Whether a series of `name` with `dims` feeds sub-expression `sub`.
pub(crate) fn sub_matches(sub: &SubExpr, name: &str, dims: &BTreeMap<String, String>) -> bool {
    sub.metric_name == name
        && sub
            .dimensions
            .iter()
            .all(|(k, v)| dims.get(k).is_some_and(|x| x == v))
}

/// The alarm a series belongs to within its definition: its `match_by` dimensions, `k=v`
/// sorted and comma-joined.
pub(crate) fn group_key(match_by: &[String], dims: &BTreeMap<String, String>) -> String {
    let mut parts: Vec<String> = match_by
        .iter()
        .filter_map(|k| dims.get(k).map(|v| format!("{k}={v}")))
        .collect();
    parts.sort();
    parts.join(",")
}

impl Engine {
    /// Adds one batch to the windows, creating alarms as needed, and evaluates the alarms a
    /// decisive value reached; transitions go to `out`.
    pub(crate) fn observe_in(
        &self,
        w: &dyn ThresholdWrites,
        samples: &[Sample],
        out: &mut Vec<Transition>,
    ) {
        let now = self.now_s();
        let mut guard = self.lock();
        let st = &mut *guard;
        let mut touched = Touched::default();
        for s in samples {
            if !st.filling.is_empty() {
                note_while_filling(st, s);
            }
            // A series with routes: one lookup, the common case.
            if let Some(targets) = st.routes.get(&s.series) {
                for t in targets {
                    if let Some(window) = st.windows.get_mut(t.window) {
                        window.add(s.timestamp, s.value);
                        // Other values wait for their period to close: the clock evaluates them.
                        if window.decisive() {
                            touched.insert(t.alarm);
                        }
                    }
                }
                continue;
            }
            if st.by_metric.watches(&s.series.tenant, &s.series.name) {
                self.route_new_series(w, st, s, now, &mut touched);
            }
        }
        out.extend(
            touched
                .alarms
                .into_iter()
                .filter_map(|idx| self.evaluate(w, st, idx, now)),
        );
    }

    /// The slow path for a series not seen since the routes were last cleared: find the
    /// definitions it matches, create alarms as needed, record it as an alarm metric, add its
    /// value, and remember the routes (unless a compound alarm is still waiting for it).
    fn route_new_series(
        &self,
        w: &dyn ThresholdWrites,
        st: &mut State,
        s: &Sample,
        now: i64,
        touched: &mut Touched,
    ) {
        let targets = targets_for(st, s);
        let (windows, cacheable) = self.feed_definitions(w, st, s, targets, now, touched);
        if cacheable {
            st.routes.insert(s.series.clone(), &windows);
        }
    }

    /// Feeds `s` to the alarms of each of `targets` (definitions it matches), creating them
    /// as needed; returns the windows it fed (the series' routes) and whether they may be
    /// remembered (not while a compound alarm still waits for the series' group, nor for a
    /// definition whose lease lapsed).
    pub(crate) fn feed_definitions(
        &self,
        w: &dyn ThresholdWrites,
        st: &mut State,
        s: &Sample,
        targets: Vec<String>,
        now: i64,
        touched: &mut Touched,
    ) -> (Vec<Target>, bool) {
        let mut routes: Vec<Target> = Vec::new();
        let mut cacheable = true;
        for def_id in targets {
            if !w.holds(&def_id) {
                cacheable = false;
                continue;
            }
            let Some(def) = st.defs.get(&def_id) else {
                continue;
            };
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
                    let waiting = st.waiting.entry(gk.clone()).or_default();
                    if waiting.seen.len() != n {
                        waiting.seen = vec![false; n];
                    }
                    for i in &matching {
                        if let Some(seen) = waiting.seen.get_mut(*i) {
                            *seen = true;
                        }
                    }
                    if waiting.samples.len() < WAITING_SAMPLES {
                        waiting.samples.push(s.clone());
                    }
                    if !waiting.seen.iter().all(|x| *x) {
                        cacheable = false;
                        continue;
                    }
                    let pending = st
                        .waiting
                        .remove(&gk)
                        .map(|waited| waited.samples)
                        .unwrap_or_default();
                    let Some(id) = self.create_alarm(w, st, &def_id, &group, now) else {
                        cacheable = false;
                        continue;
                    };
                    // The samples kept while waiting include this one.
                    for p in pending {
                        add_sample(w, st, &id, &p);
                    }
                    let Some(id) = st.alarms.idx(&id) else {
                        continue;
                    };
                    touched.insert(id);
                    push_targets(st, id, &matching, &mut routes);
                    continue;
                }
            };
            add_sample(w, st, &alarm_id, s);
            let Some(id) = st.alarms.idx(&alarm_id) else {
                continue;
            };
            touched.insert(id);
            push_targets(st, id, &matching, &mut routes);
        }
        (routes, cacheable)
    }

    /// Creates the alarm of group `group` of definition `def_id`; `None` if it cannot be
    /// stored (the definition may have been deleted a moment ago).
    fn create_alarm(
        &self,
        w: &dyn ThresholdWrites,
        st: &mut State,
        def_id: &str,
        group: &str,
        now: i64,
    ) -> Option<String> {
        let def = st.defs.get(def_id)?;
        let id = uuid::Uuid::new_v4().to_string();
        let state = initial_state(&def.subs);
        let sub_states: Vec<AlarmState> = def.subs.iter().map(sub_initial).collect();
        let tenant = def.def.tenant.clone();
        let created = w.create_alarm(&NewAlarm {
            id: &id,
            definition_id: def_id,
            tenant: &tenant,
            group_key: group,
            state,
            created_ms: self.clock.now_ms(),
            sub_alarm_states: &sub_states,
        });
        if let Err(e) = created {
            tracing::warn!(error = %e, definition = def_id, "cannot create alarm");
            return None;
        }
        // Debug, not info: a new definition over a fleet creates thousands at once.
        tracing::debug!(alarm = %id, definition = def_id, group, "alarm created");
        // Window places are taken only for an alarm that exists (one refused would keep them).
        let subs: Vec<SubRt> = def
            .subs
            .iter()
            .zip(sub_states)
            .map(|(s, state)| SubRt {
                window: st.windows.add(Window::new(s, now)),
                current: SubAlarmState {
                    state,
                    values: Vec::new(),
                },
            })
            .collect();
        st.insert_alarm(
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
}

/// Adds the windows of alarm `alarm`'s sub-alarms `subs` to `out`.
fn push_targets(st: &mut State, alarm: usize, subs: &[usize], out: &mut Vec<Target>) {
    if let Some(a) = st.alarms.at_mut(alarm) {
        out.extend(subs.iter().filter_map(|i| {
            a.subs.get(*i).map(|sub| Target {
                alarm,
                window: sub.window,
            })
        }));
    }
}

/// The definitions with a sub-expression `s`'s series feeds, each once; only those are copied
/// out of the index (a name may be watched by hundreds).
fn targets_for(st: &State, s: &Sample) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for (def_id, sub_idx) in st
        .by_metric
        .get(&s.series.tenant, &s.series.name)
        .into_iter()
        .flatten()
    {
        let feeds = st.defs.get(def_id).is_some_and(|def| {
            def.subs
                .get(*sub_idx)
                .is_some_and(|sub| sub_matches(sub, &s.series.name, &s.series.dimensions))
        });
        if feeds && !targets.contains(def_id) {
            targets.push(def_id.clone());
        }
    }
    targets
}

/// Notes `s` for each definition being taken over that watches its name, so the refill from
/// the store skips it.
fn note_while_filling(st: &mut State, s: &Sample) {
    let Some(watchers) = st.by_metric.get(&s.series.tenant, &s.series.name) else {
        return;
    };
    let seen = (crate::share::series_hash(&s.series), s.timestamp);
    for (def_id, _) in watchers {
        if let Some(noted) = st.filling.get_mut(def_id) {
            noted.insert(seen);
        }
    }
}

/// Adds `s` to the alarm's matching windows, recording its series as an alarm metric first.
fn add_sample(w: &dyn ThresholdWrites, st: &mut State, alarm_id: &str, s: &Sample) {
    let Some(a) = st.alarms.get_mut(alarm_id) else {
        return;
    };
    let Some(def) = st.defs.get(&a.def_id) else {
        return;
    };
    let key: MetricKey = (s.series.name.clone(), s.series.dimensions.clone());
    if !a.metrics.contains(&key) {
        if let Err(e) = w.add_alarm_metric(alarm_id, &key.0, &key.1) {
            tracing::error!(error = %e, "cannot record alarm metric");
        }
        a.metrics.insert(key);
    }
    for (sub, rt) in def.subs.iter().zip(a.subs.iter()) {
        if sub_matches(sub, &s.series.name, &s.series.dimensions)
            && let Some(window) = st.windows.get_mut(rt.window)
        {
            window.add(s.timestamp, s.value);
        }
    }
}
