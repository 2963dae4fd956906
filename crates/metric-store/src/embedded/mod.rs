//! The durable embedded engine: write-ahead log, in-memory head, compressed immutable blocks.
//!
//! * **Writes** go through a write-ahead log with group commit: one writer thread takes every
//!   batch waiting at that moment, appends them, calls `fdatasync` once, applies them to the
//!   head and only then acknowledges them, so an acknowledged write survives `kill -9` and
//!   readers never see data that is not yet durable.
//! * **Seal**: when the live log segment passes [`EmbeddedOptions::checkpoint_bytes`] (or the head
//!   [`EmbeddedOptions::head_max_points`]), the writer starts a new segment and freezes the head;
//!   a background thread writes it as one block file per time partition (fsync file, rename,
//!   fsync directory), swaps the blocks in for the frozen head, and only then deletes the log
//!   segments it covered. Readers see the frozen head until the blocks replace it.
//! * **Series registry**: every series key is stored once, in `series.vgs`, which gives it a
//!   persistent id; blocks name series by id only. The writer appends new series and fsyncs
//!   them before a seal writes any block naming them.
//! * **Merge**: a second background thread merges a partition's newest run of same-level blocks
//!   once [`EmbeddedOptions::merge_fanin`] of them exist, and every block of a partition once
//!   the data has moved a full partition past it, streaming the inputs in id order (memory does
//!   not grow with their size). The result is written aside, swapped in under a short write
//!   lock, then the inputs are deleted; a crash in between leaves inputs whose sequence range a
//!   bigger block covers, which the next open deletes.
//! * **Retention** drops whole blocks whose newest point is older than the retention period.
//! * **Duplicates**: a point rewritten at the same timestamp replaces the older one. Every block
//!   carries the seal sequence numbers it holds; reads apply blocks in sequence order, then the
//!   frozen head, then the head, and the last one wins.

mod block;
mod codec;
mod head;
mod key_ids;
mod registry;

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::{self, File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use block::{Block, BlockWriter, PageCache};
use codec::{Next, decode_record, encode_record};
use head::Head;
use key_ids::KeyIds;
use registry::{Gid, Registry, SeriesFile};
use tokio::sync::oneshot;

use crate::{
    Accumulator, Bucket, MetricStore, Point, Sample, SeriesFilter, SeriesId, SeriesInfo, Stat,
    StoreError, TimeRange, bucket_start,
};

/// Written by earlier versions, which checkpointed the whole head; still read at open and
/// removed by the first seal.
const SNAPSHOT: &str = "snapshot.dat";
const SNAPSHOT_MAGIC: &[u8; 8] = b"VGSNAP01";

/// Tuning of the embedded engine.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Seal the head into blocks once the live log segment holds this many bytes.
    pub checkpoint_bytes: u64,
    /// Seal the head once it holds this many points, whatever the log size.
    pub head_max_points: usize,
    /// Call `fdatasync` before acknowledging. Only tests that measure something else turn it off.
    pub sync: bool,
    /// Width of a block's time partition. Retention drops data in these units. At most 7 days.
    pub partition: Duration,
    /// Drop blocks whose newest point is older than this (checked every
    /// [`EmbeddedOptions::maintenance_interval`]). `None` keeps everything. Granularity is a
    /// whole block, i.e. one partition: a point is deleted between `retention` and
    /// `retention + partition` (+ the check interval) after its timestamp, once sealed; the
    /// head is never trimmed, so recent-but-late points older than the cut stay until sealed.
    pub retention: Option<Duration>,
    /// How often the background thread checks retention and merges.
    pub maintenance_interval: Duration,
    /// Merge a partition's newest blocks once this many of the same level exist.
    pub merge_fanin: usize,
    /// Seal the head on [`MetricStore::close`], so a restart reads no log and disk holds only
    /// compressed blocks.
    pub seal_on_close: bool,
}

/// The options of [`EmbeddedStore::open_with`].
pub type StoreOptions = EmbeddedOptions;

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            // With a million series written time-major, a seal of N points holds about N / 1M
            // points a series, and every block and merge pays per series; 4M points (64 MiB of
            // head, 16 bytes a point) keeps that overhead low while the head stays bounded.
            checkpoint_bytes: 384 << 20,
            head_max_points: 4_000_000,
            sync: true,
            partition: Duration::from_secs(2 * 3600),
            retention: None,
            maintenance_interval: Duration::from_secs(10),
            merge_fanin: 4,
            seal_on_close: true,
        }
    }
}

/// What the engine holds and has done, for `/metrics` and benchmarks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreStats {
    /// Series the store knows (head and blocks).
    pub series: u64,
    /// Series with points in the head (the live one and one being sealed).
    pub head_series: u64,
    /// Points in the head (the live one and one being sealed).
    pub head_points: u64,
    pub blocks: u64,
    pub block_points: u64,
    pub block_bytes: u64,
    /// Bytes of log segments on disk.
    pub wal_bytes: u64,
    /// Every file in the data directory.
    pub disk_bytes: u64,
    /// Partitions waiting for a merge at the last check.
    pub merge_backlog: u64,
    /// Whether a seal is being written now.
    pub sealing: bool,
    pub seals: u64,
    pub merges: u64,
    pub blocks_dropped_by_retention: u64,
    pub blocks_quarantined: u64,
    pub wal_fsyncs: u64,
    pub wal_fsync_seconds_sum: f64,
    /// Estimated heap bytes of the series registry and inverted index.
    pub index_bytes: u64,
}

struct State {
    reg: Registry,
    head: Head,
    /// The head being written into blocks; still read until the blocks replace it.
    frozen: Option<Arc<Head>>,
    /// Sorted by `seq_hi`: the order in which equal timestamps override each other.
    blocks: Arc<Vec<Arc<Block>>>,
}

#[derive(Default)]
struct Counters {
    fsyncs: AtomicU64,
    fsync_nanos: AtomicU64,
    seals: AtomicU64,
    merges: AtomicU64,
    dropped: AtomicU64,
    quarantined: AtomicU64,
    merge_backlog: AtomicU64,
}

struct Inner {
    dir: PathBuf,
    opts: EmbeddedOptions,
    state: RwLock<State>,
    healthy: AtomicBool,
    sealing: AtomicBool,
    /// The seal in progress failed at least once and is being retried.
    seal_failing: AtomicBool,
    stopping: AtomicBool,
    /// Newest timestamp written, to tell when a partition has gone cold.
    newest: AtomicI64,
    counters: Counters,
}

impl Inner {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic under the lock is a bug we would rather surface in queries than turn into a
        // hard failure of every read.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn partition_ms(&self) -> i64 {
        (self.opts.partition.as_millis() as i64).clamp(1, 7 * 86_400_000)
    }

    /// Takes a damaged block out of service: out of the read set, renamed to `*.corrupt` so
    /// it is neither read again nor lost to an operator who wants to look at it.
    fn quarantine(&self, block: &Arc<Block>, err: &StoreError) {
        let mut st = self.write();
        let before = st.blocks.len();
        let kept: Vec<Arc<Block>> = st
            .blocks
            .iter()
            .filter(|b| !Arc::ptr_eq(b, block))
            .cloned()
            .collect();
        if kept.len() == before {
            return; // someone else did it already
        }
        st.blocks = Arc::new(kept);
        drop(st);
        quarantine_file(&block.path, err);
        self.counters.quarantined.fetch_add(1, Ordering::Relaxed);
    }
}

fn quarantine_file(path: &Path, err: &StoreError) {
    let mut to = path.as_os_str().to_owned();
    to.push(".corrupt");
    tracing::error!(
        file = %path.display(),
        error = %err,
        "block file is damaged: its points are no longer served; moved aside as *.corrupt"
    );
    if let Err(e) = fs::rename(path, &to) {
        tracing::error!(file = %path.display(), error = %e, "could not move damaged block aside");
    }
}

/// The embedded, durable [`MetricStore`].
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// Ids of the series keys callers share between batches, by address.
    key_ids: Mutex<KeyIds>,
    tx: Mutex<Option<mpsc::Sender<Cmd>>>,
    merge_tx: Mutex<Option<mpsc::Sender<MergeCmd>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

type Done = oneshot::Sender<Result<(), StoreError>>;

enum Cmd {
    Write(PendingWrite),
    Seal(Done),
    Close(Done),
}

struct SealJob {
    head: Arc<Head>,
    covered_segment: u64,
    seq: u64,
    waiters: Vec<Done>,
}

enum MergeCmd {
    Compact(Done),
}

impl EmbeddedStore {
    /// The ids of the samples' series that exist: by key address when the caller shares its
    /// keys, else from the registry.
    fn known_ids(&self, samples: &[Sample]) -> Vec<Option<Gid>> {
        let mut key_ids = self.key_ids.lock().unwrap_or_else(|e| e.into_inner());
        if !key_ids.worth_trying() {
            drop(key_ids);
            let st = self.inner.read();
            return samples.iter().map(|s| st.reg.lookup(&s.series)).collect();
        }
        let mut ids: Vec<Option<Gid>> = samples.iter().map(|s| key_ids.get(&s.series)).collect();
        let hits = ids.iter().filter(|id| id.is_some()).count();
        if hits == ids.len() {
            return ids;
        }
        let mut found = Vec::new();
        {
            let st = self.inner.read();
            for (s, id) in samples.iter().zip(ids.iter_mut()) {
                if id.is_none() {
                    *id = st.reg.lookup(&s.series);
                    if let Some(gid) = *id {
                        found.push((&s.series, gid));
                    }
                }
            }
        }
        key_ids.remember(found.into_iter(), hits);
        ids
    }

    /// Opens (creating if needed) the store in `dir` with default options, recovering
    /// everything acknowledged before a crash.
    ///
    /// # Errors
    /// I/O errors, a legacy snapshot that fails its checksums, or a block file written by a
    /// newer format version ([`StoreError::UnsupportedVersion`]). Damaged blocks are moved
    /// aside with an error log instead.
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
        let started = Instant::now();
        fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
        let mut reg = Registry::default();
        let series_file = SeriesFile::load(&dir, &mut reg)?;
        let blocks = open_blocks(&dir, reg.len())?;
        let next_seq = blocks.iter().map(|b| b.meta.seq_hi).max().unwrap_or(0) + 1;
        let mut head = Head::default();
        let covered = load_snapshot(&dir, &mut reg, &mut head)?;
        let mut segments = list_segments(&dir)?;
        segments.retain(|n| *n > covered);
        let mut last = covered;
        for n in &segments {
            replay_segment(&segment_path(&dir, *n), &mut reg, &mut head)?;
            last = *n;
        }
        // Always continue in a fresh segment: a replayed one may end in a truncated tail.
        let seg_no = last + 1;
        let wal = open_segment(&dir, seg_no)?;
        let newest = blocks
            .iter()
            .map(|b| b.meta.max_t)
            .chain(head.newest())
            .max()
            .unwrap_or(i64::MIN);
        tracing::info!(
            dir = %dir.display(),
            series = reg.len(),
            blocks = blocks.len(),
            head_points = head.point_count(),
            ms = started.elapsed().as_millis() as u64,
            "metric store opened"
        );
        let inner = Arc::new(Inner {
            dir,
            opts,
            state: RwLock::new(State {
                reg,
                head,
                frozen: None,
                blocks: Arc::new(blocks),
            }),
            healthy: AtomicBool::new(true),
            sealing: AtomicBool::new(false),
            seal_failing: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            newest: AtomicI64::new(newest),
            counters: Counters::default(),
        });
        let (tx, rx) = mpsc::channel();
        let (seal_tx, seal_rx) = mpsc::channel();
        let (merge_tx, merge_rx) = mpsc::channel();
        let writer = Writer {
            inner: inner.clone(),
            wal,
            seg_no,
            seg_bytes: 0,
            failed: None,
            next_seq,
            series_file,
            seal_tx,
            waiters: Vec::new(),
            want_seal: false,
        };
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(StoreError::io(name))
        };
        let i1 = inner.clone();
        let i2 = inner.clone();
        let threads = vec![
            spawn("vigil-wal", Box::new(move || writer.run(rx)))?,
            spawn("vigil-seal", Box::new(move || seal_loop(&i1, seal_rx)))?,
            spawn("vigil-merge", Box::new(move || merge_loop(&i2, merge_rx)))?,
        ];
        Ok(Self {
            key_ids: Mutex::default(),
            inner,
            tx: Mutex::new(Some(tx)),
            merge_tx: Mutex::new(Some(merge_tx)),
            threads: Mutex::new(threads),
        })
    }

    fn sender(&self) -> Result<mpsc::Sender<Cmd>, StoreError> {
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::Closed)
    }

    /// Seals everything written so far into blocks and deletes the log segments it covered.
    ///
    /// # Errors
    /// A closed store, or a failure writing the blocks (the data stays in the log and the
    /// seal is retried in the background).
    pub async fn seal(&self) -> Result<(), StoreError> {
        let (done, rx) = oneshot::channel();
        self.sender()?
            .send(Cmd::Seal(done))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Seals the head, then merges every partition into a single block: the smallest disk
    /// footprint, for benchmarks and tests.
    ///
    /// # Errors
    /// As [`EmbeddedStore::seal`], or a failed merge.
    pub async fn compact(&self) -> Result<(), StoreError> {
        self.seal().await?;
        let (done, rx) = oneshot::channel();
        self.merge_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(MergeCmd::Compact(done))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Counters and sizes for monitoring.
    pub fn stats(&self) -> StoreStats {
        let c = &self.inner.counters;
        let mut s = StoreStats {
            merge_backlog: c.merge_backlog.load(Ordering::Relaxed),
            sealing: self.inner.sealing.load(Ordering::Relaxed),
            seals: c.seals.load(Ordering::Relaxed),
            merges: c.merges.load(Ordering::Relaxed),
            blocks_dropped_by_retention: c.dropped.load(Ordering::Relaxed),
            blocks_quarantined: c.quarantined.load(Ordering::Relaxed),
            wal_fsyncs: c.fsyncs.load(Ordering::Relaxed),
            wal_fsync_seconds_sum: c.fsync_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            ..StoreStats::default()
        };
        {
            let st = self.inner.read();
            s.series = st.reg.len() as u64;
            s.index_bytes = (st.reg.approx_bytes()
                + st.blocks.iter().map(|b| b.mem_bytes()).sum::<usize>())
                as u64;
            s.head_series = st.head.series_count() as u64;
            s.head_points = st.head.point_count() as u64;
            if let Some(f) = &st.frozen {
                s.head_series += f.series_count() as u64;
                s.head_points += f.point_count() as u64;
            }
            s.blocks = st.blocks.len() as u64;
            s.block_points = st.blocks.iter().map(|b| b.meta.points).sum();
            s.block_bytes = st.blocks.iter().map(|b| b.bytes).sum();
        }
        if let Ok(rd) = fs::read_dir(&self.inner.dir) {
            for e in rd.flatten() {
                let len = e.metadata().map_or(0, |m| m.len());
                s.disk_bytes += len;
                if e.file_name().to_string_lossy().starts_with("wal-") {
                    s.wal_bytes += len;
                }
            }
        }
        s
    }

    /// Reads one block, taking it out of service if it turns out damaged.
    fn block_read<T: Default>(
        &self,
        b: &Arc<Block>,
        f: impl FnOnce(&Block) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match f(b) {
            Err(e @ StoreError::Corrupt { .. }) => {
                self.inner.quarantine(b, &e);
                Ok(T::default())
            }
            r => r,
        }
    }

    /// Every point of each series in `range`, sources merged (newest wins per timestamp),
    /// handed to `f` one series at a time so a query over many series never holds them all.
    fn for_each_series(
        &self,
        ids: &[Gid],
        range: TimeRange,
        mut f: impl FnMut(Vec<Point>),
    ) -> Result<(), StoreError> {
        let (blocks, heads) = {
            let st = self.inner.read();
            let heads: Vec<(Vec<Point>, Vec<Point>)> = ids
                .iter()
                .map(|id| {
                    (
                        st.frozen
                            .as_ref()
                            .map(|f| f.in_range(*id, range))
                            .unwrap_or_default(),
                        st.head.in_range(*id, range),
                    )
                })
                .collect();
            (st.blocks.clone(), heads)
        };
        // Ids ascending with a page cache per block, so each table page is read once.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&i| ids[i]);
        let blocks: Vec<&Arc<Block>> = blocks.iter().filter(|b| b.overlaps(range)).collect();
        let mut caches: Vec<PageCache> = blocks.iter().map(|_| PageCache::default()).collect();
        let mut heads: Vec<Option<(Vec<Point>, Vec<Point>)>> =
            heads.into_iter().map(Some).collect();
        for i in order {
            let mut lists = Vec::with_capacity(blocks.len() + 2);
            for (b, cache) in blocks.iter().zip(caches.iter_mut()) {
                lists.push(self.block_read(b, |b| b.read(ids[i], range, cache))?);
            }
            if let Some((frozen, live)) = heads[i].take() {
                lists.push(frozen);
                lists.push(live);
            }
            f(merge_points(lists));
        }
        Ok(())
    }

    /// The subset of `ids` (sorted) with at least one point in `range`.
    fn alive(&self, ids: Vec<Gid>, range: TimeRange) -> Result<Vec<Gid>, StoreError> {
        if range.is_all() || ids.is_empty() {
            return Ok(ids);
        }
        let (mut found, mut rest) = (Vec::new(), Vec::new());
        let (blocks, _) = {
            let st = self.inner.read();
            for id in ids {
                let in_head = st.head.has_in_range(id, range)
                    || st
                        .frozen
                        .as_ref()
                        .is_some_and(|f| f.has_in_range(id, range));
                if in_head {
                    found.push(id);
                } else {
                    rest.push(id);
                }
            }
            (st.blocks.clone(), ())
        };
        for b in blocks.iter().filter(|b| b.overlaps(range)) {
            let mut still = Vec::with_capacity(rest.len());
            let mut cache = PageCache::default();
            for id in rest {
                if self.block_read(b, |b| b.has_points(id, range, &mut cache))? {
                    found.push(id);
                } else {
                    still.push(id);
                }
            }
            rest = still;
            if rest.is_empty() {
                break;
            }
        }
        found.sort_unstable();
        Ok(found)
    }
}

/// Merges per-source point lists given oldest source first; on equal timestamps the later
/// source wins.
fn merge_points(mut lists: Vec<Vec<Point>>) -> Vec<Point> {
    lists.retain(|l| !l.is_empty());
    if lists.len() <= 1 {
        return lists.pop().unwrap_or_default();
    }
    let mut all: Vec<Point> = lists.into_iter().flatten().collect();
    all.sort_by_key(|p| p.timestamp); // stable: sources keep their order on ties
    let mut out: Vec<Point> = Vec::with_capacity(all.len());
    for p in all {
        match out.last_mut() {
            Some(last) if last.timestamp == p.timestamp => *last = p,
            _ => out.push(p),
        }
    }
    out
}

#[async_trait]
impl MetricStore for EmbeddedStore {
    fn stats(&self) -> Option<StoreStats> {
        Some(EmbeddedStore::stats(self))
    }

    async fn write(&self, samples: Vec<Sample>) -> Result<(), StoreError> {
        self.write_shared(Arc::new(samples)).await
    }

    fn series_generation(&self) -> Option<u64> {
        // Series are only ever added, so the count changes with every addition.
        Some(self.inner.read().reg.len() as u64)
    }

    async fn write_shared(&self, samples: Arc<Vec<Sample>>) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        let mut record = Vec::with_capacity(samples.len() * 64);
        encode_record(&samples, &mut record);
        // Ids of known series are found here, on the caller's thread, so the one writer thread
        // (which every connection waits on) only adds new series and points.
        let ids = self.known_ids(&samples);
        let (done, rx) = oneshot::channel();
        self.sender()?
            .send(Cmd::Write(PendingWrite {
                record,
                samples,
                ids,
                done,
            }))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn find_series(
        &self,
        filter: &SeriesFilter,
        range: TimeRange,
    ) -> Result<Vec<SeriesInfo>, StoreError> {
        let ids = self.inner.read().reg.candidates(filter, true);
        let ids = self.alive(ids, range)?;
        let st = self.inner.read();
        let mut out: Vec<SeriesInfo> = ids
            .into_iter()
            .map(|id| SeriesInfo {
                id: SeriesId::from(id),
                key: st.reg.key(id),
            })
            .collect();
        drop(st);
        out.sort_by(|a, b| (&a.key.name, &a.key.dimensions).cmp(&(&b.key.name, &b.key.dimensions)));
        Ok(out)
    }

    async fn read_points(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Point>, StoreError> {
        let range = match after {
            Some(a) if a >= range.start => TimeRange {
                start: a.saturating_add(1),
                ..range
            },
            _ => range,
        };
        let ids: Vec<Gid> = series
            .iter()
            .filter_map(|id| Gid::try_from(*id).ok())
            .collect();
        let mut out = Vec::new();
        self.for_each_series(&ids, range, |mut pts| {
            pts.truncate(limit);
            out.append(&mut pts);
        })?;
        if ids.len() > 1 {
            out.sort_by_key(|p| p.timestamp);
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn aggregate(
        &self,
        series: &[SeriesId],
        range: TimeRange,
        period_ms: i64,
        stats: &[Stat],
    ) -> Result<Vec<Bucket>, StoreError> {
        let ids: Vec<Gid> = series
            .iter()
            .filter_map(|id| Gid::try_from(*id).ok())
            .collect();
        let mut buckets: BTreeMap<i64, Accumulator> = BTreeMap::new();
        self.for_each_series(&ids, range, |pts| {
            let mut current: Option<(i64, Accumulator)> = None;
            for p in &pts {
                let b = bucket_start(p.timestamp, period_ms);
                match &mut current {
                    Some((cb, acc)) if *cb == b => acc.add(p.value),
                    _ => {
                        if let Some((cb, acc)) = current.take() {
                            buckets.entry(cb).or_default().merge(&acc);
                        }
                        let mut acc = Accumulator::default();
                        acc.add(p.value);
                        current = Some((b, acc));
                    }
                }
            }
            if let Some((cb, acc)) = current {
                buckets.entry(cb).or_default().merge(&acc);
            }
        })?;
        Ok(buckets
            .into_iter()
            .map(|(start, acc)| Bucket {
                start,
                values: stats.iter().map(|s| acc.get(*s)).collect(),
            })
            .collect())
    }

    async fn metric_names(&self, filter: &SeriesFilter) -> Result<Vec<String>, StoreError> {
        let st = self.inner.read();
        let Some(t) = st.reg.tenant(&filter.tenant) else {
            return Ok(Vec::new());
        };
        if filter.dimensions.is_empty() {
            return Ok(t.by_name.keys().map(|k| k.to_string()).collect());
        }
        let names: BTreeSet<&str> = st
            .reg
            .candidates(filter, false)
            .into_iter()
            .map(|id| st.reg.name(id))
            .collect();
        Ok(names.into_iter().map(str::to_owned).collect())
    }

    async fn dimension_names(
        &self,
        tenant: &str,
        metric: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<Gid> = {
            let st = self.inner.read();
            let Some(t) = st.reg.tenant(tenant) else {
                return Ok(Vec::new());
            };
            match metric {
                None if range.is_all() => {
                    return Ok(t.by_dim.keys().map(|k| k.to_string()).collect());
                }
                None => {
                    let mut ids: Vec<Gid> = t
                        .by_dim
                        .values()
                        .flat_map(|v| v.values().flatten().copied())
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                }
                Some(m) => t.by_name.get(m).cloned().unwrap_or_default(),
            }
        };
        let ids = self.alive(ids, range)?;
        let st = self.inner.read();
        let names: BTreeSet<&str> = ids
            .iter()
            .flat_map(|id| st.reg.dims(*id).map(|(k, _)| k))
            .collect();
        Ok(names.into_iter().map(str::to_owned).collect())
    }

    async fn dimension_values(
        &self,
        tenant: &str,
        metric: Option<&str>,
        key: &str,
        range: TimeRange,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<Gid> = {
            let st = self.inner.read();
            let Some(values) = st.reg.tenant(tenant).and_then(|t| t.by_dim.get(key)) else {
                return Ok(Vec::new());
            };
            if metric.is_none() && range.is_all() {
                return Ok(values.keys().map(|k| k.to_string()).collect());
            }
            let mut ids: Vec<Gid> = values
                .values()
                .flatten()
                .copied()
                .filter(|id| metric.is_none_or(|m| st.reg.name(*id) == m))
                .collect();
            ids.sort_unstable();
            ids
        };
        let ids = self.alive(ids, range)?;
        let st = self.inner.read();
        let values: BTreeSet<&str> = ids
            .iter()
            .filter_map(|id| st.reg.dims(*id).find(|(k, _)| *k == key).map(|(_, v)| v))
            .collect();
        Ok(values.into_iter().map(str::to_owned).collect())
    }

    fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    async fn close(&self) -> Result<(), StoreError> {
        if self.sender().is_err() {
            return Ok(());
        }
        if self.inner.opts.seal_on_close
            && let Err(e) = self.seal().await
        {
            tracing::warn!(error = %e, "sealing at close failed; the log keeps the data");
        }
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
        self.inner.stopping.store(true, Ordering::Relaxed);
        self.merge_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        result
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Dropping the senders lets every thread drain and exit on its own.
        self.inner.stopping.store(true, Ordering::Relaxed);
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.merge_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

/// An encoded record, its samples, their series' ids where already known (ids never change
/// once given), and who waits for the acknowledgement.
struct PendingWrite {
    record: Vec<u8>,
    samples: Arc<Vec<Sample>>,
    ids: Vec<Option<Gid>>,
    done: Done,
}

struct Writer {
    inner: Arc<Inner>,
    wal: File,
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
    fn run(mut self, rx: mpsc::Receiver<Cmd>) {
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
                let r = self.sync();
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
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "final fsync of a log segment failed");
        }
        let covered_segment = self.seg_no;
        self.wal = new_seg;
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
        let result = self
            .wal
            .write_all(buf)
            .and_then(|()| {
                if self.inner.opts.sync {
                    let t = Instant::now();
                    let r = self.wal.sync_data();
                    let c = &self.inner.counters;
                    c.fsyncs.fetch_add(1, Ordering::Relaxed);
                    c.fsync_nanos
                        .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    r
                } else {
                    Ok(())
                }
            })
            .map_err(StoreError::io(&path));
        match result {
            Ok(()) => {
                self.seg_bytes += buf.len() as u64;
                self.apply(&writes);
                for w in writes {
                    let _ = w.done.send(Ok(()));
                }
            }
            Err(e) => {
                // After a failed write or fsync the file's state is unknown (the kernel may
                // have dropped dirty pages), so refuse further writes rather than guess.
                tracing::error!(error = %e, "write-ahead log failed; refusing further writes");
                self.failed = Some(e.to_string());
                self.inner.healthy.store(false, Ordering::Relaxed);
                for w in writes {
                    let _ = w.done.send(Err(StoreError::Poisoned(e.to_string())));
                }
            }
        }
    }

    /// Adds the points under the write lock; only series unknown when the write was queued
    /// are looked up again (another write may have added them since) or added.
    fn apply(&self, writes: &[PendingWrite]) {
        let mut newest = i64::MIN;
        let mut st = self.inner.write();
        let st = &mut *st;
        for w in writes {
            for (s, id) in w.samples.iter().zip(&w.ids) {
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
        self.inner.newest.fetch_max(newest, Ordering::Relaxed);
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.wal
            .sync_all()
            .map_err(StoreError::io(segment_path(&self.inner.dir, self.seg_no)))
    }
}

/// Writes frozen heads into blocks, retrying a failed seal until it succeeds or the store stops
/// (the log still holds the data, so nothing is lost meanwhile).
fn seal_loop(inner: &Inner, rx: mpsc::Receiver<SealJob>) {
    while let Ok(mut job) = rx.recv() {
        loop {
            match seal(inner, &job) {
                Ok(()) => {
                    inner.seal_failing.store(false, Ordering::Relaxed);
                    for w in job.waiters.drain(..) {
                        let _ = w.send(Ok(()));
                    }
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "sealing the head into blocks failed; will retry");
                    inner.seal_failing.store(true, Ordering::Relaxed);
                    for w in job.waiters.drain(..) {
                        let _ = w.send(Err(StoreError::Poisoned(format!("seal failed: {e}"))));
                    }
                    if inner.stopping.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
        inner.sealing.store(false, Ordering::Release);
    }
}

fn seal(inner: &Inner, job: &SealJob) -> Result<(), StoreError> {
    let pms = inner.partition_ms();
    let mut writers: BTreeMap<i64, BlockWriter> = BTreeMap::new();
    let result = (|| {
        // The head iterates in id order, as block writers need.
        for (id, pts) in job.head.iter() {
            let mut rest: &[Point] = &pts;
            while let Some(first) = rest.first() {
                let p = first.timestamp.div_euclid(pms);
                let end = rest.partition_point(|x| x.timestamp.div_euclid(pms) == p);
                let w = match writers.entry(p) {
                    std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(BlockWriter::create(&inner.dir, p, job.seq, job.seq, 0)?)
                    }
                };
                w.add(id, &rest[..end])?;
                rest = &rest[end..];
            }
        }
        let mut blocks = Vec::new();
        while let Some((_, w)) = writers.pop_first() {
            blocks.push(Arc::new(w.finish()?));
        }
        sync_dir(&inner.dir)?;
        Ok(blocks)
    })();
    let new_blocks = match result {
        Ok(b) => b,
        Err(e) => {
            for (_, w) in writers {
                w.abandon();
            }
            return Err(e);
        }
    };
    {
        let mut st = inner.write();
        let mut all: Vec<Arc<Block>> = st.blocks.iter().cloned().collect();
        all.extend(new_blocks);
        all.sort_by_key(|b| (b.meta.seq_hi, b.meta.partition));
        st.blocks = Arc::new(all);
        st.frozen = None;
    }
    inner.counters.seals.fetch_add(1, Ordering::Relaxed);
    // The blocks and the directory entries are durable: the log segments are redundant now.
    for n in list_segments(&inner.dir)? {
        if n <= job.covered_segment {
            let p = segment_path(&inner.dir, n);
            fs::remove_file(&p).map_err(StoreError::io(&p))?;
        }
    }
    let snap = inner.dir.join(SNAPSHOT);
    if snap.exists() {
        fs::remove_file(&snap).map_err(StoreError::io(&snap))?;
    }
    sync_dir(&inner.dir)?;
    tracing::debug!(
        seq = job.seq,
        points = job.head.point_count(),
        "head sealed into blocks"
    );
    Ok(())
}

fn merge_loop(inner: &Inner, rx: mpsc::Receiver<MergeCmd>) {
    loop {
        let done = match rx.recv_timeout(inner.opts.maintenance_interval) {
            Ok(MergeCmd::Compact(done)) => Some(done),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if inner.stopping.load(Ordering::Relaxed) {
            if let Some(d) = done {
                let _ = d.send(Err(StoreError::Closed));
            }
            return;
        }
        let r = apply_retention(inner).and_then(|()| run_merges(inner, done.is_some()));
        if let Err(e) = &r {
            tracing::error!(error = %e, "background merge failed; inputs kept");
        }
        if let Some(d) = done {
            let _ = d.send(r);
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Drops whole blocks whose newest point is older than the retention period.
fn apply_retention(inner: &Inner) -> Result<(), StoreError> {
    let Some(ret) = inner.opts.retention else {
        return Ok(());
    };
    let cutoff = now_ms().saturating_sub(ret.as_millis() as i64);
    let dropped: Vec<Arc<Block>> = {
        let mut st = inner.write();
        let (old, keep): (Vec<Arc<Block>>, Vec<Arc<Block>>) = st
            .blocks
            .iter()
            .cloned()
            .partition(|b| b.meta.max_t < cutoff);
        if old.is_empty() {
            return Ok(());
        }
        st.blocks = Arc::new(keep);
        old
    };
    for b in &dropped {
        fs::remove_file(&b.path).map_err(StoreError::io(&b.path))?;
        tracing::info!(file = %b.path.display(), "block dropped by retention");
    }
    sync_dir(&inner.dir)?;
    inner
        .counters
        .dropped
        .fetch_add(dropped.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// Which blocks to merge now, each plan a contiguous run (by sequence) of one partition's
/// blocks, so the merged block takes the place of its inputs in the override order.
fn merge_plans(inner: &Inner, all: bool) -> Vec<Vec<Arc<Block>>> {
    let blocks = inner.read().blocks.clone();
    let mut by_part: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
    for b in blocks.iter() {
        by_part.entry(b.meta.partition).or_default().push(b.clone());
    }
    let pms = inner.partition_ms();
    let newest = inner.newest.load(Ordering::Relaxed);
    let fanin = inner.opts.merge_fanin.max(2);
    let mut plans = Vec::new();
    for (p, bs) in by_part {
        if bs.len() < 2 {
            continue;
        }
        // A partition a full partition behind the newest data gets few late points more.
        let cold = p.saturating_add(2).saturating_mul(pms) <= newest;
        if all || cold {
            plans.push(bs);
            continue;
        }
        let Some(last) = bs.last() else { continue };
        let level = last.meta.level;
        let run = bs
            .iter()
            .rev()
            .take_while(|b| b.meta.level == level)
            .count();
        if run >= fanin {
            plans.push(bs[bs.len() - run..].to_vec());
        }
    }
    plans
}

fn run_merges(inner: &Inner, all: bool) -> Result<(), StoreError> {
    let plans = merge_plans(inner, all);
    inner
        .counters
        .merge_backlog
        .store(plans.len() as u64, Ordering::Relaxed);
    for plan in plans {
        if inner.stopping.load(Ordering::Relaxed) {
            break;
        }
        merge(inner, &plan)?;
        inner.counters.merge_backlog.fetch_sub(1, Ordering::Relaxed);
    }
    Ok(())
}

fn merge(inner: &Inner, inputs: &[Arc<Block>]) -> Result<(), StoreError> {
    let (Some(first), Some(_)) = (inputs.first(), inputs.get(1)) else {
        return Ok(());
    };
    let seq_lo = inputs.iter().map(|b| b.meta.seq_lo).min().unwrap_or(0);
    let seq_hi = inputs.iter().map(|b| b.meta.seq_hi).max().unwrap_or(0);
    let level = inputs.iter().map(|b| b.meta.level).max().unwrap_or(0) + 1;
    let mut w = BlockWriter::create(&inner.dir, first.meta.partition, seq_lo, seq_hi, level)?;
    match merge_into(inner, inputs, &mut w) {
        Ok(true) => {}
        Ok(false) => {
            w.abandon();
            return Ok(());
        }
        Err((e, culprit)) => {
            w.abandon();
            if let (StoreError::Corrupt { .. }, Some(b)) = (&e, culprit.and_then(|i| inputs.get(i)))
            {
                inner.quarantine(b, &e);
            }
            return Err(e);
        }
    }
    if w.is_empty() {
        w.abandon();
        return Ok(());
    }
    let merged = Arc::new(w.finish()?);
    sync_dir(&inner.dir)?;
    {
        let mut st = inner.write();
        let mut all: Vec<Arc<Block>> = st
            .blocks
            .iter()
            .filter(|b| !inputs.iter().any(|i| Arc::ptr_eq(i, b)))
            .cloned()
            .collect();
        all.push(merged.clone());
        all.sort_by_key(|b| (b.meta.seq_hi, b.meta.partition));
        st.blocks = Arc::new(all);
    }
    // Readers holding the old set keep reading through their open handles.
    for b in inputs {
        if let Err(e) = fs::remove_file(&b.path) {
            tracing::warn!(file = %b.path.display(), error = %e, "could not delete merged block");
        }
    }
    sync_dir(&inner.dir)?;
    inner.counters.merges.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(
        file = %merged.path.display(),
        inputs = inputs.len(),
        points = merged.meta.points,
        series = merged.series_count(),
        "blocks merged"
    );
    Ok(())
}

/// Streams the inputs' series in id order into `w`, merging series present in several (later
/// inputs win on equal timestamps). `Ok(false)` when the store is stopping; an error names the
/// input it came from, if any.
fn merge_into(
    inner: &Inner,
    inputs: &[Arc<Block>],
    w: &mut BlockWriter,
) -> Result<bool, (StoreError, Option<usize>)> {
    let at = |i: usize| move |e: StoreError| (e, Some(i));
    let mut scans = Vec::with_capacity(inputs.len());
    let mut next = Vec::with_capacity(inputs.len());
    for (i, b) in inputs.iter().enumerate() {
        let mut s = b.scan().map_err(at(i))?;
        next.push(s.next_entry().map_err(at(i))?);
        scans.push(s);
    }
    let mut buf = Vec::new();
    let mut n = 0u64;
    while let Some(gid) = next.iter().flatten().map(|e| e.gid).min() {
        let mut lists = Vec::with_capacity(inputs.len());
        for (i, (scan, slot)) in scans.iter_mut().zip(next.iter_mut()).enumerate() {
            let Some(e) = slot.filter(|e| e.gid == gid) else {
                continue;
            };
            scan.chunk(&e, &mut buf).map_err(at(i))?;
            lists.push(inputs[i].decode(&e, &buf).map_err(at(i))?);
            *slot = scan.next_entry().map_err(at(i))?;
        }
        w.add(gid, &merge_points(lists)).map_err(|e| (e, None))?;
        n += 1;
        if n.is_multiple_of(4096) && inner.stopping.load(Ordering::Relaxed) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Opens every block in `dir`, moving damaged ones aside and deleting the inputs of a merge
/// whose output is already durable.
fn open_blocks(dir: &Path, known_series: usize) -> Result<Vec<Arc<Block>>, StoreError> {
    let mut paths = Vec::new();
    for e in fs::read_dir(dir).map_err(StoreError::io(dir))? {
        let e = e.map_err(StoreError::io(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("blk-") && name.ends_with(".tmp") {
            // An unfinished block write: its data is still in the log or in its inputs.
            let _ = fs::remove_file(e.path());
        } else if name.starts_with("blk-") && name.ends_with(block::SUFFIX) {
            paths.push(e.path());
        }
    }
    paths.sort();
    let mut blocks: Vec<Arc<Block>> = Vec::new();
    for p in paths {
        match Block::open(&p, known_series) {
            Ok(b) => blocks.push(Arc::new(b)),
            Err(e @ StoreError::Corrupt { .. }) => quarantine_file(&p, &e),
            Err(e) => return Err(e),
        }
    }
    let covered = |a: &Block| {
        blocks.iter().any(|b| {
            b.meta.partition == a.meta.partition
                && b.path != a.path
                && b.meta.seq_lo <= a.meta.seq_lo
                && a.meta.seq_hi <= b.meta.seq_hi
        })
    };
    let (leftover, mut keep): (Vec<Arc<Block>>, Vec<Arc<Block>>) =
        blocks.iter().cloned().partition(|a| covered(a));
    for b in &leftover {
        tracing::info!(file = %b.path.display(), "removing input of a finished merge");
        fs::remove_file(&b.path).map_err(StoreError::io(&b.path))?;
    }
    keep.sort_by_key(|b| (b.meta.seq_hi, b.meta.partition));
    Ok(keep)
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

fn apply_samples(reg: &mut Registry, head: &mut Head, samples: &[Sample]) {
    for s in samples {
        let id = reg.insert(&s.series);
        head.upsert(
            id,
            Point {
                timestamp: s.timestamp,
                value: s.value,
                value_meta: s.value_meta.clone(),
            },
        );
    }
}

/// Loads a snapshot left by an earlier version; returns the last segment it covers (0 if none).
fn load_snapshot(dir: &Path, reg: &mut Registry, head: &mut Head) -> Result<u64, StoreError> {
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
                apply_samples(reg, head, &samples);
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
fn replay_segment(path: &Path, reg: &mut Registry, head: &mut Head) -> Result<(), StoreError> {
    let buf = read_all(path)?;
    let mut pos = 0;
    loop {
        match decode_record(&buf[pos..]) {
            Next::Record { samples, len } => {
                apply_samples(reg, head, &samples);
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
