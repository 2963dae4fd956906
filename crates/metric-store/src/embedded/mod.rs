//! The durable embedded engine.
//!
//! Writes go through a write-ahead log with group commit: one writer thread takes every batch
//! waiting at that moment, appends them, calls `fdatasync` once, applies them to the in-memory
//! head and only then acknowledges them, so an acknowledged write survives `kill -9` and readers
//! never see data that is not yet durable. When the log grows past a threshold the head is
//! written to a snapshot (atomically, by rename) and older log segments are removed.
//!
//! Issue #4 replaces the in-memory head's long-term storage with compressed immutable blocks;
//! the log and the recovery protocol stay.

mod codec;
mod index;

use std::{
    fs::{self, File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::JoinHandle,
};

use async_trait::async_trait;
use codec::{Next, decode_record, encode_record};
use index::Head;
use tokio::sync::oneshot;

use crate::{
    Bucket, MetricStore, Point, Sample, SeriesFilter, SeriesId, SeriesInfo, Stat, StoreError,
    TimeRange,
};

const SNAPSHOT: &str = "snapshot.dat";
const SNAPSHOT_MAGIC: &[u8; 8] = b"VGSNAP01";
/// Samples per snapshot record, so that reading one back needs little memory at a time.
const SNAPSHOT_CHUNK: usize = 4096;

/// Tuning of the embedded engine.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Write a snapshot and start a new log segment after this many log bytes.
    pub checkpoint_bytes: u64,
    /// Call `fdatasync` before acknowledging. Only tests that measure something else turn it off.
    pub sync: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            checkpoint_bytes: 256 << 20,
            sync: true,
        }
    }
}

/// The embedded, durable [`MetricStore`].
pub struct EmbeddedStore {
    head: Arc<RwLock<Head>>,
    healthy: Arc<AtomicBool>,
    tx: Mutex<Option<mpsc::Sender<Cmd>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

enum Cmd {
    Write {
        record: Vec<u8>,
        samples: Arc<Vec<Sample>>,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
    Close(oneshot::Sender<Result<(), StoreError>>),
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir` with default options, recovering
    /// everything acknowledged before a crash.
    ///
    /// # Errors
    /// I/O errors, or a snapshot that fails its checksums.
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, EmbeddedOptions::default()).await
    }

    /// Like [`EmbeddedStore::open`] with explicit options.
    ///
    /// # Errors
    /// As [`EmbeddedStore::open`].
    pub async fn open_with(dir: &Path, opts: EmbeddedOptions) -> Result<Self, StoreError> {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(dir, opts))
            .await
            .map_err(|e| StoreError::Poisoned(format!("open task failed: {e}")))?
    }

    fn open_blocking(dir: PathBuf, opts: EmbeddedOptions) -> Result<Self, StoreError> {
        fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
        let mut head = Head::default();
        let covered = load_snapshot(&dir, &mut head)?;
        let mut segments = list_segments(&dir)?;
        segments.retain(|n| *n > covered);
        let mut last = covered;
        for n in &segments {
            replay_segment(&segment_path(&dir, *n), &mut head)?;
            last = *n;
        }
        // Always continue in a fresh segment: a replayed one may end in a truncated tail.
        let seg_no = last + 1;
        let wal = open_segment(&dir, seg_no)?;
        tracing::info!(
            dir = %dir.display(),
            points = head.point_count(),
            "metric store opened"
        );
        let head = Arc::new(RwLock::new(head));
        let (tx, rx) = mpsc::channel();
        let healthy = Arc::new(AtomicBool::new(true));
        let writer = Writer {
            healthy: healthy.clone(),
            dir,
            opts,
            head: head.clone(),
            wal,
            seg_no,
            seg_bytes: 0,
            failed: None,
        };
        let handle = std::thread::Builder::new()
            .name("vigil-wal".into())
            .spawn(move || writer.run(rx))
            .map_err(StoreError::io("vigil-wal thread"))?;
        Ok(Self {
            head,
            healthy,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Head> {
        // The writer applies a batch with plain pushes; a panic mid-apply is a bug we would
        // rather surface in queries than hide behind a hard failure of every read.
        self.head.read().unwrap_or_else(|e| e.into_inner())
    }

    fn sender(&self) -> Result<mpsc::Sender<Cmd>, StoreError> {
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::Closed)
    }
}

#[async_trait]
impl MetricStore for EmbeddedStore {
    async fn write(&self, samples: Vec<Sample>) -> Result<(), StoreError> {
        self.write_shared(Arc::new(samples)).await
    }

    async fn write_shared(&self, samples: Arc<Vec<Sample>>) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        let mut record = Vec::with_capacity(samples.len() * 64);
        encode_record(&samples, &mut record);
        let (done, rx) = oneshot::channel();
        self.sender()?
            .send(Cmd::Write {
                record,
                samples,
                done,
            })
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn find_series(
        &self,
        filter: &SeriesFilter,
        range: TimeRange,
    ) -> Result<Vec<SeriesInfo>, StoreError> {
        Ok(self.read().find_series(filter, range))
    }

    async fn read_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Point>, StoreError> {
        Ok(self.read().read_points(series, range, after, limit))
    }

    async fn aggregate(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Bucket>, StoreError> {
        Ok(self.read().aggregate(series, range, period_ms, stats))
    }

    async fn metric_names(&self, filter: &SeriesFilter) -> Result<Vec<String>, StoreError> {
        Ok(self.read().metric_names(filter))
    }

    async fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self.read().dimension_names(tenant, metric, range))
    }

    async fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self.read().dimension_values(tenant, metric, key, range))
    }

    fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    async fn close(&self) -> Result<(), StoreError> {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(tx) = tx else {
            return Ok(());
        };
        let (done, rx) = oneshot::channel();
        let sent = tx.send(Cmd::Close(done)).is_ok();
        drop(tx);
        let result = if sent {
            rx.await.unwrap_or(Err(StoreError::Closed))
        } else {
            Ok(())
        };
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
        result
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Dropping the sender lets the writer thread drain and exit on its own.
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// An encoded record, its samples, and who waits for the acknowledgement.
type PendingWrite = (
    Vec<u8>,
    Arc<Vec<Sample>>,
    oneshot::Sender<Result<(), StoreError>>,
);

struct Writer {
    healthy: Arc<AtomicBool>,
    dir: PathBuf,
    opts: EmbeddedOptions,
    head: Arc<RwLock<Head>>,
    wal: File,
    seg_no: u64,
    seg_bytes: u64,
    failed: Option<String>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Cmd>) {
        let mut buf = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            // Group commit: everything already queued shares this fsync.
            while batch.len() < 4096 {
                match rx.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
            let mut writes = Vec::with_capacity(batch.len());
            let mut close = None;
            for cmd in batch {
                match cmd {
                    Cmd::Write {
                        record,
                        samples,
                        done,
                    } => writes.push((record, samples, done)),
                    Cmd::Close(done) => close = Some(done),
                }
            }
            if !writes.is_empty() {
                self.commit(&mut buf, writes);
            }
            if let Some(done) = close {
                let r = self.sync();
                let _ = done.send(r);
                return;
            }
            if self.failed.is_none() && self.seg_bytes >= self.opts.checkpoint_bytes {
                self.try_checkpoint();
            }
        }
        let _ = self.sync();
    }

    fn try_checkpoint(&mut self) {
        if let Err(e) = self.checkpoint() {
            tracing::error!(error = %e, "checkpoint failed; the log keeps growing");
            // Retry only after another full segment's worth of data.
            self.seg_bytes = 0;
        }
    }

    fn commit(&mut self, buf: &mut Vec<u8>, writes: Vec<PendingWrite>) {
        if let Some(reason) = &self.failed {
            for (_, _, done) in writes {
                let _ = done.send(Err(StoreError::Poisoned(reason.clone())));
            }
            return;
        }
        buf.clear();
        for (record, _, _) in &writes {
            buf.extend_from_slice(record);
        }
        let path = segment_path(&self.dir, self.seg_no);
        let result = self
            .wal
            .write_all(buf)
            .and_then(|()| {
                if self.opts.sync {
                    self.wal.sync_data()
                } else {
                    Ok(())
                }
            })
            .map_err(StoreError::io(&path));
        match result {
            Ok(()) => {
                self.seg_bytes += buf.len() as u64;
                let mut head = self.head.write().unwrap_or_else(|e| e.into_inner());
                let mut dones = Vec::with_capacity(writes.len());
                for (_, samples, done) in writes {
                    head.apply(&samples);
                    dones.push(done);
                }
                drop(head);
                for d in dones {
                    let _ = d.send(Ok(()));
                }
            }
            Err(e) => {
                // After a failed write or fsync the file's state is unknown (the kernel may
                // have dropped dirty pages), so refuse further writes rather than guess.
                tracing::error!(error = %e, "write-ahead log failed; refusing further writes");
                self.failed = Some(e.to_string());
                self.healthy.store(false, Ordering::Relaxed);
                for (_, _, done) in writes {
                    let _ = done.send(Err(StoreError::Poisoned(e.to_string())));
                }
            }
        }
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.wal
            .sync_all()
            .map_err(StoreError::io(segment_path(&self.dir, self.seg_no)))
    }

    /// Writes the whole head to a new snapshot covering segments up to the current one, then
    /// moves to a new segment and removes the covered ones.
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        let tmp = self.dir.join("snapshot.tmp");
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&self.seg_no.to_le_bytes());
        {
            let head = self.head.read().unwrap_or_else(|e| e.into_inner());
            let mut chunk: Vec<Sample> = Vec::with_capacity(SNAPSHOT_CHUNK);
            head.for_each_series(|key, points| {
                for p in points {
                    chunk.push(Sample {
                        series: key.clone(),
                        timestamp: p.timestamp,
                        value: p.value,
                        value_meta: p.value_meta.clone(),
                    });
                    if chunk.len() == SNAPSHOT_CHUNK {
                        encode_record(&chunk, &mut out);
                        chunk.clear();
                    }
                }
            });
            if !chunk.is_empty() {
                encode_record(&chunk, &mut out);
            }
        }
        let mut f = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        f.write_all(&out).map_err(StoreError::io(&tmp))?;
        f.sync_all().map_err(StoreError::io(&tmp))?;
        drop(f);
        let snap = self.dir.join(SNAPSHOT);
        fs::rename(&tmp, &snap).map_err(StoreError::io(&snap))?;
        sync_dir(&self.dir)?;
        let covered = self.seg_no;
        self.wal = open_segment(&self.dir, covered + 1)?;
        self.seg_no = covered + 1;
        self.seg_bytes = 0;
        for n in list_segments(&self.dir)? {
            if n <= covered {
                let p = segment_path(&self.dir, n);
                fs::remove_file(&p).map_err(StoreError::io(&p))?;
            }
        }
        tracing::info!(covered, bytes = out.len(), "snapshot written");
        Ok(())
    }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("wal-{n:010}.log"))
}

fn list_segments(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(StoreError::io(dir))? {
        let e = e.map_err(StoreError::io(dir))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("wal-")
            .and_then(|s| s.strip_suffix(".log"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn open_segment(dir: &Path, n: u64) -> Result<File, StoreError> {
    let p = segment_path(dir, n);
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .map_err(StoreError::io(&p))?;
    // The new file's directory entry must be durable before anything in it is acknowledged.
    sync_dir(dir)?;
    Ok(f)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(dir))
}

fn read_all(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(StoreError::io(path))?;
    Ok(buf)
}

/// Loads the snapshot if there is one; returns the last segment number it covers (0 if none).
fn load_snapshot(dir: &Path, head: &mut Head) -> Result<u64, StoreError> {
    let path = dir.join(SNAPSHOT);
    if !path.exists() {
        return Ok(0);
    }
    let buf = read_all(&path)?;
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.clone(),
        reason,
    };
    if buf.len() < 16 || &buf[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt("bad header".into()));
    }
    let covered = u64::from_le_bytes(
        buf[8..16]
            .try_into()
            .map_err(|_| corrupt("bad header".into()))?,
    );
    let mut pos = 16;
    loop {
        match decode_record(&buf[pos..]) {
            Next::Record { samples, len } => {
                head.apply(&samples);
                pos += len;
            }
            Next::End => return Ok(covered),
            // A snapshot is renamed into place only once complete, so damage here is real
            // corruption, not a torn write.
            Next::Torn(reason) => return Err(corrupt(format!("{reason} at byte {pos}"))),
        }
    }
}

/// Replays one log segment, cutting off a torn tail left by a crash mid-append.
fn replay_segment(path: &Path, head: &mut Head) -> Result<(), StoreError> {
    let buf = read_all(path)?;
    let mut pos = 0;
    loop {
        match decode_record(&buf[pos..]) {
            Next::Record { samples, len } => {
                head.apply(&samples);
                pos += len;
            }
            Next::End => return Ok(()),
            Next::Torn(reason) => {
                // Only a write that was never acknowledged can be torn: acknowledgement waits
                // for the fsync of the whole group.
                tracing::warn!(
                    path = %path.display(),
                    offset = pos,
                    reason,
                    "truncating torn tail of write-ahead log"
                );
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(StoreError::io(path))?;
                f.set_len(pos as u64).map_err(StoreError::io(path))?;
                f.sync_all().map_err(StoreError::io(path))?;
                return Ok(());
            }
        }
    }
}
