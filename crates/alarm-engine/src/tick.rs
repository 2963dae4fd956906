//! Evaluation on the clock: periods close, late data stops being waited for after the grace
//! delay, and alarms without data go UNDETERMINED (or OK when deterministic).

use std::sync::Arc;

use config_repo::monasca::threshold::ThresholdWrites;

use crate::{Engine, Transition};

impl Engine {
    /// Evaluates every alarm at the clock's time; transitions go to `out`.
    pub(crate) fn tick_in(&self, w: &dyn ThresholdWrites, out: &mut Vec<Transition>) {
        let now = self.now_s();
        let mut st = self.lock();
        for idx in st.alarms.indices() {
            out.extend(self.evaluate(w, &mut st, idx, now));
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
