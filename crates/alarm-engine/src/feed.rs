//! The engine behind the ingest path: acknowledged batches go to the engine in order through
//! a bounded queue, several per transaction when it falls behind.

use std::sync::Arc;

use metric_store::Sample;

use crate::Engine;

/// The engine's handle for the API: feeds it batches and tells it about changed definitions,
/// each on the blocking pool.
#[derive(Clone)]
pub struct Alarming {
    pub engine: Arc<Engine>,
    /// Acknowledged batches on their way to the engine, in order.
    feed: tokio::sync::mpsc::Sender<Arc<Vec<Sample>>>,
}

/// Batches waiting for the engine before ingest has to wait for it.
const FEED_DEPTH: usize = 64;

impl Alarming {
    /// Starts the task that feeds `engine`; it ends when the last handle is dropped. Call
    /// inside a Tokio runtime.
    pub fn start(engine: Arc<Engine>) -> Self {
        let (feed, mut rx) = tokio::sync::mpsc::channel::<Arc<Vec<Sample>>>(FEED_DEPTH);
        // A request is answered once its batch is durable; the engine takes the batches in
        // order behind it.
        let e = engine.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batches = vec![first];
                while batches.len() < FEED_DEPTH {
                    match rx.try_recv() {
                        Ok(b) => batches.push(b),
                        Err(_) => break,
                    }
                }
                let e = e.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let all: Vec<&[Sample]> = batches.iter().map(|b| b.as_slice()).collect();
                    e.observe_all(&all);
                })
                .await;
                if done.is_err() {
                    tracing::error!("threshold engine panicked on a batch");
                }
            }
        });
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
