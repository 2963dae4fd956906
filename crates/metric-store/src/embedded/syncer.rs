//! The log's fsync on a thread of its own, so that the writer appends and applies the next
//! group while the previous one is being made durable (pipelined group commit). One fsync
//! covers every group appended before it began, so under load the fsyncs batch themselves.
//!
//! A group is acknowledged when both halves are done, whichever ends last: its fsync (here) and
//! its apply to the head (on the writer). A 204 still means durable and visible; readers may
//! see a group during its fsync. After a failed fsync the file's state is unknown, so every
//! group still waiting, and every later one, fails (the store refuses writes).

use std::{
    fs::File,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicU8, Ordering},
    },
    thread::JoinHandle,
    time::Instant,
};

use super::{Inner, writer::Done};
use crate::StoreError;

/// The acknowledgements of one commit, sent once its fsync and its apply are both done.
pub(super) struct Group {
    dones: Mutex<Vec<Done>>,
    /// Halves not yet done: the fsync and the apply.
    remaining: AtomicU8,
    failure: Mutex<Option<String>>,
}

impl Group {
    pub(super) fn new(dones: Vec<Done>) -> Arc<Self> {
        Arc::new(Group {
            dones: Mutex::new(dones),
            remaining: AtomicU8::new(2),
            failure: Mutex::new(None),
        })
    }

    /// One half is done; the last one answers every waiter.
    pub(super) fn half_done(&self, result: Result<(), String>) {
        if let Err(e) = result {
            lock(&self.failure).get_or_insert(e);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let failure = lock(&self.failure).take();
        for done in std::mem::take(&mut *lock(&self.dones)) {
            let _ = done.send(match &failure {
                None => Ok(()),
                Some(e) => Err(StoreError::Poisoned(e.clone())),
            });
        }
    }
}

#[derive(Default)]
struct Queue {
    waiting: Vec<(Arc<File>, Arc<Group>)>,
    /// A batch is being synced.
    busy: bool,
    failed: Option<String>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

pub(super) struct Syncer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Syncer {
    pub(super) fn start(inner: Arc<Inner>) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            changed: Condvar::new(),
        });
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("vigil-sync".into())
            .spawn(move || sync_loop(&inner, &theirs))
            .map_err(StoreError::io("vigil-sync"))?;
        Ok(Syncer {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues `group`, whose records are already appended to `file`, for the next fsync.
    pub(super) fn submit(&self, file: Arc<File>, group: Arc<Group>) {
        let mut q = lock(&self.shared.queue);
        q.waiting.push((file, group));
        self.shared.changed.notify_all();
    }

    /// Waits until every submitted group's fsync is done (before the log moves to a new file).
    pub(super) fn drain(&self) {
        let mut q = lock(&self.shared.queue);
        while !q.waiting.is_empty() || q.busy {
            q = self
                .shared
                .changed
                .wait(q)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Why an fsync failed, once one has.
    pub(super) fn failed(&self) -> Option<String> {
        lock(&self.shared.queue).failed.clone()
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        lock(&self.shared.queue).closed = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sync_loop(inner: &Inner, shared: &Shared) {
    loop {
        let (batch, failed) = {
            let mut q = lock(&shared.queue);
            while q.waiting.is_empty() && !q.closed {
                q = shared.changed.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            if q.waiting.is_empty() {
                return;
            }
            q.busy = true;
            (std::mem::take(&mut q.waiting), q.failed.clone())
        };
        // Every group in the batch was appended before this fsync starts; the writer drains
        // the queue before it changes files, so they all share the last one's file.
        let result = match (failed, batch.last()) {
            (Some(e), _) => Err(e),
            (None, Some((file, _))) => {
                // A panic here would leave every waiter hanging: count it as a failed fsync.
                let synced = catch_unwind(AssertUnwindSafe(|| timed_sync(inner, file)))
                    .unwrap_or_else(|_| Err(std::io::Error::other("the fsync panicked")));
                synced.map_err(|e| {
                    tracing::error!(error = %e, "fsync of the write-ahead log failed; refusing further writes");
                    inner.healthy.store(false, Ordering::Relaxed);
                    e.to_string()
                })
            }
            (None, None) => Ok(()),
        };
        {
            let mut q = lock(&shared.queue);
            q.busy = false;
            if let Err(e) = &result {
                q.failed.get_or_insert_with(|| e.clone());
            }
            shared.changed.notify_all();
        }
        for (_, group) in batch {
            group.half_done(result.clone());
        }
    }
}

fn timed_sync(inner: &Inner, wal: &File) -> std::io::Result<()> {
    let t = Instant::now();
    let r = wal.sync_data();
    let c = &inner.counters;
    c.fsyncs.fetch_add(1, Ordering::Relaxed);
    c.fsync_nanos
        .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio::sync::oneshot::{self, error::TryRecvError};

    use super::*;

    #[test]
    fn a_group_answers_once_both_halves_are_done_and_a_failure_wins() {
        for (first, second, ok) in [
            (Ok(()), Ok(()), true),
            (Err("disk gone".to_string()), Ok(()), false),
            (Ok(()), Err("disk gone".to_string()), false),
        ] {
            let (tx, mut rx) = oneshot::channel();
            let group = Group::new(vec![tx]);
            group.half_done(first);
            assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
            group.half_done(second);
            match rx.try_recv().unwrap() {
                Ok(()) => assert!(ok),
                Err(e) => assert!(!ok && e.to_string().contains("disk gone"), "{e}"),
            }
        }
    }

    #[test]
    fn drain_waits_for_every_submitted_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let inner = Arc::new(crate::embedded::test_support::inner(
            dir.path(),
            crate::EmbeddedOptions::default(),
            Vec::new(),
        ));
        let syncer = Syncer::start(inner.clone()).unwrap();
        let file = Arc::new(File::create(dir.path().join("log")).unwrap());
        let mut waiting = Vec::new();
        for _ in 0..50 {
            let (tx, rx) = oneshot::channel();
            let group = Group::new(vec![tx]);
            syncer.submit(file.clone(), group.clone());
            group.half_done(Ok(()));
            waiting.push(rx);
        }
        syncer.drain();
        let synced = inner.counters.fsyncs.load(Ordering::Relaxed);
        assert!((1..=50).contains(&synced), "{synced}");
        drop(syncer);
        for mut rx in waiting {
            assert!(matches!(rx.try_recv(), Ok(Ok(()))));
        }
    }
}
