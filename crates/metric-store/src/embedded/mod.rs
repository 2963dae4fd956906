//! The durable embedded engine: write-ahead log, in-memory head, compressed immutable blocks.
//!
//! * **Writes** go through a write-ahead log with group commit: one writer thread takes every
//!   batch waiting at that moment, appends them (a known series as its id, a new one as its
//!   key) and applies them to the head while the syncer thread's `fdatasync` makes them durable;
//!   one fsync covers every group appended before it began, and a write is acknowledged only
//!   when both are done, so an acknowledged write survives `kill -9`. Readers may see a group
//!   during its fsync.
//! * **Seal**: when the live log segment passes [`EmbeddedOptions::checkpoint_bytes`] (or the head
//!   [`EmbeddedOptions::head_max_points`]), the writer starts a new segment and freezes the head;
//!   a background thread writes it as one block file per time partition (points far from the
//!   present share wider buckets, so any spread of timestamps makes few files; fsync file, rename,
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
//!
//! One file per job: `wal` (segments, replay), `writer` (the writer thread: group commit,
//! apply, freezing the head), `syncer` (the log's fsyncs), `seal`, `compact` (merges), `retention`, `open` (recovery and
//! startup), `query` (merged reads), `store` (the [`MetricStore`](crate::MetricStore)
//! implementation), `stats`; `block`, `head`, `registry` and `codec` hold the data structures
//! and formats. This file holds the options and the state the threads share.

mod block;
mod codec;
mod compact;
mod disk;
mod head;
mod key_ids;
mod open;
mod partitioning;
mod query;
mod registry;
mod retention;
mod seal;
mod stats;
mod store;
mod syncer;
#[cfg(test)]
mod test_support;
mod wal;
mod writer;

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::Duration,
};

use block::Block;
use compact::MergeCmd;
use disk::quarantine_file;
use head::Head;
use key_ids::KeyIds;
use registry::Registry;
pub use stats::StoreStats;
use writer::Cmd;

use crate::StoreError;

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
    /// Seal the head on [`MetricStore::close`](crate::MetricStore::close), so a restart reads no log and disk holds only
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
    /// The state of a store just opened: nothing frozen, no seal running, healthy.
    fn new(
        dir: PathBuf,
        opts: EmbeddedOptions,
        reg: Registry,
        head: Head,
        blocks: Vec<Arc<Block>>,
        newest: i64,
    ) -> Self {
        Self {
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
        }
    }

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

/// The embedded, durable [`MetricStore`](crate::MetricStore).
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// Ids of the series keys callers share between batches, by address.
    key_ids: RwLock<KeyIds>,
    tx: Mutex<Option<mpsc::Sender<Cmd>>>,
    merge_tx: Mutex<Option<mpsc::Sender<MergeCmd>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}
