//! Evaluation on the clock: periods close, late data stops being waited for after the grace
//! delay, and alarms without data go UNDETERMINED (or OK when deterministic).

use std::sync::Arc;

use config_repo::monasca::threshold::ThresholdWrites;

use crate::{Engine, Transition};

impl Engine {
    /// Evaluates every alarm at the clock's time; transitions go to `out`.
    pub(crate) fn tick_in(&self, w: &dyn ThresholdWrites, out: &mut Vec<Transition>) {
        let now = self.now_s();
        let mut guard = self.lock();
        let st = &mut *guard;
        let delay = self.cfg.delay_s;
        for idx in st.alarms.indices() {
            // Nothing new in any window and no API-set state waiting for the data's word:
            // evaluating would change nothing.
            let settled = st.alarms.at_mut(idx).is_some_and(|a| {
                !a.resend
                    && a.subs.iter().all(|sub| {
                        st.windows
                            .get_mut(sub.window)
                            .is_none_or(|w| w.settled(now, delay))
                    })
            });
            if !settled {
                out.extend(self.evaluate(w, st, idx, now));
            }
        }
    }

    /// Runs [`Engine::tick`] every `tick` of the configuration until the returned handle is
    /// aborted.
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
}
