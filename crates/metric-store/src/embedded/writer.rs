//! The single writer thread: group commit to the write-ahead log, then apply to the head while
//! the syncer makes the group durable, acknowledged when both are done; it also decides when
//! the head is frozen and handed to the seal thread.

use std::{
    fs::File,
    io::Write,
    sync::{Arc, atomic::Ordering, mpsc},
    time::Duration,
};

use tokio::sync::oneshot;

use super::{
    Inner,
    registry::{Gid, SeriesFile},
    seal::SealJob,
    syncer::{Group, Syncer},
    wal::{open_segment, segment_path},
};
use crate::{Point, Sample, StoreError};

pub(super) type Done = oneshot::Sender<Result<(), StoreError>>;

pub(super) enum Cmd {
    Write(PendingWrite),
    Seal(Done),
    Close(Done),
}

/// An encoded record, its samples, their series' ids where already known (ids never change
/// once given), and who waits for the acknowledgement.
pub(super) struct PendingWrite {
    pub(super) record: Vec<u8>,
    pub(super) samples: Arc<Vec<Sample>>,
    pub(super) ids: Vec<Option<Gid>>,
    pub(super) done: Done,
}

pub(super) struct Writer {
    inner: Arc<Inner>,
    /// Shared with the syncer.
    wal: Arc<File>,
    syncer: Syncer,
    seg_no: u64,
    seg_bytes: u64,
    failed: Option<String>,
    next_seq: u64,
    series_file: SeriesFile,
    seal_tx: mpsc::Sender<SealJob>,
    /// `seal()` callers waiting for the next seal to start.
    waiters: Vec<Done>,
    want_seal: bool,
}

impl Writer {
    /// A writer appending to segment `seg_no` (empty and already durable in the directory).
    pub(super) fn new(
        inner: Arc<Inner>,
        wal: File,
        seg_no: u64,
        next_seq: u64,
        series_file: SeriesFile,
        seal_tx: mpsc::Sender<SealJob>,
        syncer: Syncer,
    ) -> Self {
        Self {
            inner,
            wal: Arc::new(wal),
            syncer,
            seg_no,
            seg_bytes: 0,
            failed: None,
            next_seq,
            series_file,
            seal_tx,
            waiters: Vec::new(),
            want_seal: false,
        }
    }

    pub(super) fn run(mut self, rx: mpsc::Receiver<Cmd>) {
        let mut buf = Vec::new();
        loop {
            // While a seal waits for the previous one to finish, poll for its end.
            let first = if self.want_seal || self.over_threshold() {
                match rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(c) => Some(c),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(c) => Some(c),
                    Err(_) => break,
                }
            };
            let mut batch: Vec<Cmd> = first.into_iter().collect();
            // Group commit: everything already queued shares this fsync.
            while !batch.is_empty() && batch.len() < 4096 {
                match rx.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
            let mut writes = Vec::with_capacity(batch.len());
            let mut close = None;
            for cmd in batch {
                match cmd {
                    Cmd::Write(w) => writes.push(w),
                    Cmd::Seal(done) => {
                        self.waiters.push(done);
                        self.want_seal = true;
                    }
                    Cmd::Close(done) => close = Some(done),
                }
            }
            if !writes.is_empty() {
                self.commit(&mut buf, writes);
            }
            if let Some(done) = close {
                self.syncer.drain();
                // A log that failed once is not made whole by a later fsync that succeeds.
                let r = match self.failed.clone().or_else(|| self.syncer.failed()) {
                    Some(reason) => Err(StoreError::Poisoned(reason)),
                    None => self.sync(),
                };
                for w in self.waiters.drain(..) {
                    let _ = w.send(Err(StoreError::Closed));
                }
                let _ = done.send(r);
                return;
            }
            if (self.want_seal || self.over_threshold())
                && !self.inner.sealing.load(Ordering::Acquire)
            {
                self.start_seal();
            } else if self.want_seal && self.inner.seal_failing.load(Ordering::Relaxed) {
                // Don't keep `seal()` (or `close()`) waiting behind a seal that keeps failing.
                self.want_seal = false;
                for w in self.waiters.drain(..) {
                    let _ = w.send(Err(StoreError::Poisoned(
                        "an earlier seal is failing and being retried".into(),
                    )));
                }
            }
        }
        self.syncer.drain();
        let _ = self.sync();
    }

    fn over_threshold(&self) -> bool {
        self.failed.is_none()
            && (self.seg_bytes >= self.inner.opts.checkpoint_bytes
                || self.inner.read().head.point_count() >= self.inner.opts.head_max_points)
    }

    /// Freezes the head and hands it to the seal thread; the log moves to a new segment so the
    /// frozen data's segments can be deleted once its blocks are durable.
    fn start_seal(&mut self) {
        self.want_seal = false;
        let waiters = std::mem::take(&mut self.waiters);
        if let Some(reason) = &self.failed {
            for w in waiters {
                let _ = w.send(Err(StoreError::Poisoned(reason.clone())));
            }
            return;
        }
        if self.inner.read().head.is_empty() {
            for w in waiters {
                let _ = w.send(Ok(()));
            }
            return;
        }
        // Blocks name series by id: the ids must be durable in the registry file first. Only
        // this thread adds series, so the registry cannot change under us.
        let pending = self.series_file.pending(&self.inner.read().reg);
        let persisted = pending.map_or(Ok(()), |p| self.series_file.write(p));
        if let Err(e) = persisted {
            tracing::error!(error = %e, "could not append to the series registry; seal postponed");
            self.seg_bytes = 0;
            for w in waiters {
                let _ = w.send(Err(StoreError::Poisoned(e.to_string())));
            }
            return;
        }
        let new_seg = match open_segment(&self.inner.dir, self.seg_no + 1) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "could not start a new log segment; seal postponed");
                // Retry only after another full segment's worth of data.
                self.seg_bytes = 0;
                for w in waiters {
                    let _ = w.send(Err(StoreError::Poisoned(e.to_string())));
                }
                return;
            }
        };
        // The groups in flight belong to this segment: their fsyncs end before it is left. A
        // failed one stops the store here, before anything it refused is sealed into blocks.
        self.syncer.drain();
        if let Some(reason) = self.syncer.failed() {
            self.failed = Some(reason.clone());
            for w in waiters {
                let _ = w.send(Err(StoreError::Poisoned(reason.clone())));
            }
            return;
        }
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "final fsync of a log segment failed");
        }
        let covered_segment = self.seg_no;
        self.wal = Arc::new(new_seg);
        self.seg_no += 1;
        self.seg_bytes = 0;
        let seq = self.next_seq;
        self.next_seq += 1;
        let head = {
            let mut st = self.inner.write();
            let h = Arc::new(std::mem::take(&mut st.head));
            st.frozen = Some(h.clone());
            h
        };
        self.inner.sealing.store(true, Ordering::Release);
        let job = SealJob {
            head,
            covered_segment,
            seq,
            waiters,
        };
        if let Err(mpsc::SendError(job)) = self.seal_tx.send(job) {
            for w in job.waiters {
                let _ = w.send(Err(StoreError::Closed));
            }
        }
    }

    fn commit(&mut self, buf: &mut Vec<u8>, writes: Vec<PendingWrite>) {
        if self.failed.is_none() {
            self.failed = self.syncer.failed();
        }
        if let Some(reason) = &self.failed {
            for w in writes {
                let _ = w.done.send(Err(StoreError::Poisoned(reason.clone())));
            }
            return;
        }
        buf.clear();
        for w in &writes {
            buf.extend_from_slice(&w.record);
        }
        let path = segment_path(&self.inner.dir, self.seg_no);
        if let Err(e) = (&*self.wal).write_all(buf) {
            // After a failed write the file's state is unknown (a partial record, dropped
            // pages), so refuse further writes rather than guess.
            let e = StoreError::io(&path)(e);
            tracing::error!(error = %e, "write-ahead log failed; refusing further writes");
            self.failed = Some(e.to_string());
            self.inner.healthy.store(false, Ordering::Relaxed);
            for w in writes {
                let _ = w.done.send(Err(StoreError::Poisoned(e.to_string())));
            }
            return;
        }
        self.seg_bytes += buf.len() as u64;
        let mut dones = Vec::with_capacity(writes.len());
        let mut batches = Vec::with_capacity(writes.len());
        for w in writes {
            dones.push(w.done);
            batches.push((w.samples, w.ids));
        }
        let group = Group::new(dones);
        if self.inner.opts.sync {
            self.syncer.submit(self.wal.clone(), group.clone());
        } else {
            group.half_done(Ok(()));
        }
        apply(
            &self.inner,
            batches.iter().map(|(s, ids)| (&s[..], &ids[..])),
        );
        group.half_done(Ok(()));
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.wal
            .sync_all()
            .map_err(StoreError::io(segment_path(&self.inner.dir, self.seg_no)))
    }
}

/// Adds the points under the write lock; only series unknown when the write was queued are
/// looked up again (another write may have added them since) or added.
fn apply<'a>(inner: &Inner, writes: impl Iterator<Item = (&'a [Sample], &'a [Option<Gid>])>) {
    let mut newest = i64::MIN;
    let mut st = inner.write();
    let st = &mut *st;
    for (samples, ids) in writes {
        for (s, id) in samples.iter().zip(ids) {
            let id = match id {
                Some(id) => *id,
                None => st.reg.insert(&s.series),
            };
            newest = newest.max(s.timestamp);
            st.head.upsert(
                id,
                Point {
                    timestamp: s.timestamp,
                    value: s.value,
                    value_meta: s.value_meta.clone(),
                },
            );
        }
    }
    inner.newest.fetch_max(newest, Ordering::Relaxed);
}
