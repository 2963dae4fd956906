//! The engine behind the ingest path: acknowledged batches go to the engine in order through
//! a bounded queue, several per transaction when it falls behind.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use metric_store::Sample;

use crate::Engine;

/// The engine's handle for the API: feeds it batches (on a thread of its own) and tells it
/// about changed definitions (on the blocking pool).
#[derive(Clone)]
pub struct Alarming {
    pub engine: Arc<Engine>,
    /// Acknowledged batches on their way to the engine, in order.
    feed: tokio::sync::mpsc::Sender<Arc<Vec<Sample>>>,
}

/// Batches waiting for the engine before ingest has to wait for it.
const FEED_DEPTH: usize = 64;

/// The feeding thread's nice value. The engine works behind the ingest (a request's 204 does
/// not wait for it): where cores are short, the request threads and their helpers go first,
/// so on 2 cores the engine no longer takes the core a request's body would be parsed on. It
/// cannot fall far behind: with `FEED_DEPTH` batches waiting, ingest waits for it.
#[cfg(target_os = "linux")]
const ENGINE_NICE: i32 = 10;

impl Alarming {
    /// Starts the thread that feeds `engine`; it ends when the last handle is dropped.
    pub fn start(engine: Arc<Engine>) -> Self {
        let (feed, rx) = tokio::sync::mpsc::channel::<Arc<Vec<Sample>>>(FEED_DEPTH);
        let e = engine.clone();
        let started = std::thread::Builder::new()
            .name("vigil-alarms".into())
            .spawn(move || feed_loop(&e, rx));
        if let Err(err) = started {
            // The feed is then closed: every batch logs it, and the clock still evaluates.
            tracing::error!(error = %err, "cannot start the threshold engine's feed");
        }
        Self { engine, feed }
    }

    /// Tells the engine that definition `id` was created, changed or deleted.
    pub async fn definition_changed(&self, id: &str) {
        let (engine, id) = (self.engine.clone(), id.to_string());
        let _ = tokio::task::spawn_blocking(move || engine.definition_changed(&id)).await;
    }

    /// Hands an acknowledged batch to the engine; a batch no definition watches costs a name
    /// check per run of the same name. Waits only when the engine is far behind.
    pub async fn observe(&self, samples: Arc<Vec<Sample>>) {
        if samples.is_empty() || !self.engine.watches_any(&samples) {
            return;
        }
        if self.engine.inline() {
            let engine = self.engine.clone();
            let _ = tokio::task::spawn_blocking(move || engine.observe(&samples)).await;
            return;
        }
        if self.feed.send(samples).await.is_err() {
            tracing::error!("threshold engine feed closed");
        }
    }
}

/// Takes acknowledged batches in order, several per transaction when behind.
fn feed_loop(engine: &Engine, mut rx: tokio::sync::mpsc::Receiver<Arc<Vec<Sample>>>) {
    // Linux keeps a nice value per thread: this lowers the feeding thread only (elsewhere it
    // would lower the whole process, so it is left alone there).
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::nice(ENGINE_NICE) {
        tracing::debug!(error = %e, "threshold engine feed keeps its priority");
    }
    while let Some(first) = rx.blocking_recv() {
        let mut batches = vec![first];
        while batches.len() < FEED_DEPTH {
            match rx.try_recv() {
                Ok(b) => batches.push(b),
                Err(_) => break,
            }
        }
        let all: Vec<&[Sample]> = batches.iter().map(|b| b.as_slice()).collect();
        if catch_unwind(AssertUnwindSafe(|| engine.observe_all(&all))).is_err() {
            tracing::error!("threshold engine panicked on a batch");
        }
    }
}
