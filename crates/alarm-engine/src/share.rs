//! Evaluation shared among nodes: the definitions this node holds a lease on are the only ones
//! it loads and evaluates. Taking one over loads its alarms as last written, then refills its
//! windows from the shared metric store once the other nodes have had time to send this node
//! the definition's samples ([`crate::cluster`]); giving one up forgets it.

use std::{
    hash::{BuildHasher, Hash},
    sync::Arc,
};

use config_repo::monasca::threshold::StoredAlarm;
use metric_store::{DimMatch, MetricStore, Sample, SeriesFilter, SeriesKey, TimeRange};

use crate::{
    Engine,
    state::{AlarmRt, State, SubRt, Touched, sub_initial, window_span_s},
    window::Window,
};

/// The hash a series is noted by while its definition is refilled.
pub(crate) fn series_hash(key: &SeriesKey) -> u64 {
    // Fixed seed: the same key hashes alike on every call.
    let mut h = foldhash::fast::FixedState::with_seed(0x0076_6967_696c).build_hasher();
    key.hash(&mut h);
    std::hash::Hasher::finish(&h)
}

impl Engine {
    /// Whether this node evaluates definition `id`.
    pub fn owns(&self, id: &str) -> bool {
        self.lock().owned.as_ref().is_none_or(|o| o.contains(id))
    }

    /// The definitions this node evaluates (sorted); every one on a single node is `None`.
    pub fn owned(&self) -> Option<Vec<String>> {
        self.lock().owned.as_ref().map(|o| {
            let mut v: Vec<String> = o.iter().cloned().collect();
            v.sort();
            v
        })
    }

    /// Starts evaluating definition `id` (its lease was just taken): loads it and its alarms
    /// as stored, with empty windows, and notes its samples until [`Engine::refill`].
    ///
    /// # Errors
    /// The repository fails; nothing is taken on then.
    pub fn take_over(&self, id: &str) -> anyhow::Result<()> {
        let Some(def) = self.repo.definition(id)? else {
            return Ok(());
        };
        let alarms = self.repo.alarms_of(id)?;
        let now = self.now_s();
        let mut st = self.lock();
        if st.owned.as_ref().is_some_and(|o| o.contains(id)) {
            return Ok(());
        }
        forget(&mut st, id);
        st.add_definition(def);
        for a in alarms {
            install_alarm(&mut st, a, now);
        }
        st.filling.insert(id.to_string(), Default::default());
        st.owned
            .get_or_insert_with(Default::default)
            .insert(id.to_string());
        st.routes.clear();
        Ok(())
    }

    /// Stops evaluating definition `id` (its lease went to another node or lapsed).
    pub fn give_up(&self, id: &str) {
        let mut st = self.lock();
        if let Some(o) = st.owned.as_mut() {
            o.remove(id);
        }
        forget(&mut st, id);
    }

    /// Refills the windows of definition `id`, taken over a moment ago, from the store:
    /// every series its sub-expressions match, over the longest window, fed as the live path
    /// would (creating alarms for groups first seen there), except samples this node already
    /// saw since taking it over. Then the definition is evaluated like any other.
    ///
    /// # Errors
    /// The store fails; the definition stays waiting, and the caller retries.
    pub async fn refill(self: &Arc<Self>, store: &dyn MetricStore, id: &str) -> anyhow::Result<()> {
        let subs = {
            let st = self.lock();
            if !st.filling.contains_key(id) {
                return Ok(());
            }
            match st.defs.get(id) {
                Some(d) => (d.def.tenant.clone(), d.subs.clone()),
                None => return Ok(()),
            }
        };
        let (tenant, subs) = subs;
        let from_ms = (self.now_s() - window_span_s(&subs)) * 1000;
        let range = TimeRange::new(Some(from_ms), None);
        let mut samples: Vec<Sample> = Vec::new();
        let mut seen_series = std::collections::HashSet::new();
        for sub in &subs {
            let mut filter = SeriesFilter::tenant(tenant.clone()).name(sub.metric_name.clone());
            for (k, v) in &sub.dimensions {
                filter = filter.dimension(k.clone(), DimMatch::AnyOf(vec![v.clone()]));
            }
            for s in store.find_series(&filter, range).await? {
                if !seen_series.insert(s.id) {
                    continue;
                }
                let key = Arc::new(s.key);
                for p in store.read_points(&[s.id], range, None, 1_000_000).await? {
                    samples.push(Sample {
                        series: key.clone(),
                        timestamp: p.timestamp,
                        value: p.value,
                        value_meta: None,
                    });
                }
            }
        }
        samples.sort_by_key(|s| s.timestamp);
        tracing::info!(
            definition = id,
            samples = samples.len(),
            "windows refilled from the store"
        );
        let (engine, id) = (self.clone(), id.to_string());
        tokio::task::spawn_blocking(move || engine.refill_blocking(&id, &samples)).await?
    }

    /// The write of [`Engine::refill`]: the samples not noted meanwhile, in one batch.
    fn refill_blocking(&self, id: &str, samples: &[Sample]) -> anyhow::Result<()> {
        let mut transitions = Vec::new();
        self.repo.write_batch(&mut |w| {
            let now = self.now_s();
            let mut guard = self.lock();
            let st = &mut *guard;
            let Some(noted) = st.filling.remove(id) else {
                return;
            };
            let mut touched = Touched::default();
            for s in samples {
                if noted.contains(&(series_hash(&s.series), s.timestamp)) {
                    continue;
                }
                let _ = self.feed_definitions(w, st, s, vec![id.to_string()], now, &mut touched);
            }
            transitions.extend(
                touched
                    .alarms
                    .into_iter()
                    .filter_map(|idx| self.evaluate(w, st, idx, now)),
            );
        })?;
        self.publish(transitions);
        Ok(())
    }

    /// The API changed alarm `id` on some node: its state, link and lifecycle state are read
    /// again (or the alarm forgotten once deleted), if this node evaluates it.
    pub fn alarm_changed_elsewhere(&self, id: &str) {
        if self.lock().alarms.idx(id).is_none() {
            return;
        }
        match self.repo.alarm(id) {
            Ok(Some(a)) => self.alarm_updated(id, a.state, a.link, a.lifecycle_state),
            Ok(None) => self.alarm_deleted(id),
            Err(e) => tracing::error!(error = %e, "cannot reload alarm"),
        }
    }
}

/// Drops definition `id` and its alarms from the runtime state.
fn forget(st: &mut State, id: &str) {
    st.routes.clear();
    st.remove_definition_index(id);
    st.defs.remove(id);
    st.filling.remove(id);
    st.waiting.retain(|(d, _), _| d != id);
    for a in st.alarms.ids_where(|a| a.def_id == id) {
        st.remove_alarm(&a);
    }
}

/// Adds a stored alarm with empty windows (nothing when its definition is not loaded).
pub(crate) fn install_alarm(st: &mut State, stored: StoredAlarm, now: i64) {
    let StoredAlarm {
        id,
        definition_id,
        tenant,
        group_key,
        state,
        link,
        lifecycle_state,
        metrics,
        mut sub_alarms,
    } = stored;
    let Some(def) = st.defs.get(&definition_id) else {
        return;
    };
    let subs: Vec<SubRt> = def
        .subs
        .iter()
        .enumerate()
        .map(|(i, s)| SubRt {
            window: st.windows.add(Window::new(s, now)),
            current: sub_alarms.remove(&i).unwrap_or(
                config_repo::monasca::threshold::SubAlarmState {
                    state: sub_initial(s),
                    values: Vec::new(),
                },
            ),
        })
        .collect();
    st.insert_alarm(
        id,
        AlarmRt {
            def_id: definition_id,
            tenant,
            group: group_key,
            state,
            metrics: metrics
                .into_iter()
                .map(|m| (m.name, m.dimensions))
                .collect(),
            subs,
            link,
            lifecycle_state,
            resend: false,
        },
    );
}
