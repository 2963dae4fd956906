//! Start-up: definitions and alarms from the repository, then each alarm's windows refilled
//! from the metric store, so alarms neither lose their state nor flap after a restart.

use alarm_expr::SubExpr;
use metric_store::{DimMatch, MetricStore, SeriesFilter, TimeRange};

use crate::{
    Engine,
    route::sub_matches,
    share::install_alarm,
    state::{MetricKey, window_span_s},
};

/// A metric of a loaded alarm and where to start replaying its stored points.
pub(crate) struct Replay {
    alarm_id: String,
    tenant: String,
    metric: MetricKey,
    from_ms: i64,
}

impl Engine {
    /// Loads definitions and alarms into the runtime state; returns what to replay.
    pub(crate) fn load_state(&self) -> anyhow::Result<Vec<Replay>> {
        let now = self.now_s();
        // Lock order everywhere: repository, then engine.
        let defs = self.repo.definitions()?;
        let alarms = self.repo.alarms()?;
        let mut st = self.lock();
        for d in defs {
            st.add_definition(d);
        }
        let mut replay = Vec::new();
        for stored in alarms {
            let Some(def) = st.defs.get(&stored.definition_id) else {
                continue;
            };
            let from = window_span_s(&def.subs);
            for m in &stored.metrics {
                replay.push(Replay {
                    alarm_id: stored.id.clone(),
                    tenant: stored.tenant.clone(),
                    metric: (m.name.clone(), m.dimensions.clone()),
                    from_ms: (now - from) * 1000,
                });
            }
            install_alarm(&mut st, stored, now);
        }
        Ok(replay)
    }

    /// Refills the windows with what the store holds for each alarm's metrics.
    pub(crate) async fn replay(
        &self,
        store: &dyn MetricStore,
        replay: Vec<Replay>,
    ) -> anyhow::Result<()> {
        for Replay {
            alarm_id,
            tenant,
            metric: (name, dims),
            from_ms,
        } in replay
        {
            let mut filter = SeriesFilter::tenant(tenant).name(name);
            for (k, v) in &dims {
                filter = filter.dimension(k.clone(), DimMatch::AnyOf(vec![v.clone()]));
            }
            let series = store.find_series(&filter, TimeRange::ALL).await?;
            let Some(s) = series.into_iter().find(|s| s.key.dimensions == dims) else {
                continue;
            };
            let points = store
                .read_points(
                    &[s.id],
                    TimeRange::new(Some(from_ms), None),
                    None,
                    1_000_000,
                )
                .await?;
            let mut guard = self.lock();
            let st = &mut *guard;
            if let Some(a) = st.alarms.get_mut(&alarm_id) {
                let def_subs: Vec<SubExpr> = st
                    .defs
                    .get(&a.def_id)
                    .map(|d| d.subs.clone())
                    .unwrap_or_default();
                for (sub, rt) in def_subs.iter().zip(a.subs.iter()) {
                    if sub_matches(sub, &s.key.name, &s.key.dimensions)
                        && let Some(window) = st.windows.get_mut(rt.window)
                    {
                        for p in &points {
                            window.add(p.timestamp, p.value);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
