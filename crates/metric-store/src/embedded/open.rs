//! Opening a data directory: the series registry, the blocks (moving damaged ones aside and
//! finishing an interrupted merge), the legacy snapshot and the log; then the three threads.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock, mpsc},
    time::Instant,
};

use super::{
    EmbeddedOptions, EmbeddedStore, Inner,
    block::{self, Block},
    compact::merge_loop,
    disk::quarantine_file,
    head::Head,
    registry::{Registry, SeriesFile},
    seal::seal_loop,
    syncer::Syncer,
    wal::{list_segments, load_snapshot, open_segment, replay_segment, segment_path},
    writer::Writer,
};
use crate::StoreError;

impl EmbeddedStore {
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
        let newest_segment = segments.last().copied();
        for n in &segments {
            let is_last = Some(*n) == newest_segment;
            replay_segment(&segment_path(&dir, *n), &mut reg, &mut head, is_last)?;
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
        let inner = Arc::new(Inner::new(dir, opts, reg, head, blocks, newest));
        let (tx, rx) = mpsc::channel();
        let (seal_tx, seal_rx) = mpsc::channel();
        let (merge_tx, merge_rx) = mpsc::channel();
        let syncer = Syncer::start(inner.clone())?;
        let writer = Writer::new(
            inner.clone(),
            wal,
            seg_no,
            next_seq,
            series_file,
            seal_tx,
            syncer,
        );
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
            key_ids: RwLock::default(),
            inner,
            tx: Mutex::new(Some(tx)),
            merge_tx: Mutex::new(Some(merge_tx)),
            threads: Mutex::new(threads),
        })
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::embedded::test_support::block;

    fn names(blocks: &[Arc<Block>]) -> Vec<String> {
        blocks
            .iter()
            .map(|b| b.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn finishes_an_interrupted_merge_and_sets_aside_what_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let input_a = block(d, 0, (1, 1), 0, &[(0, 1, 1.0)]).unwrap();
        let input_b = block(d, 0, (2, 2), 0, &[(0, 2, 2.0)]).unwrap();
        let merged = block(d, 0, (1, 2), 1, &[(0, 1, 1.0), (0, 2, 2.0)]).unwrap();
        let other = block(d, 1, (3, 3), 0, &[(1, 1_000, 3.0)]).unwrap();
        // Names series 7 while the registry holds 2: written against another registry.
        let stranger = block(d, 2, (4, 4), 0, &[(7, 2_000, 4.0)]).unwrap();
        let unfinished = d.join("blk-p0-s0000000005-0000000005.tmp");
        fs::write(&unfinished, b"half a block").unwrap();
        let want = names(&[merged.clone(), other.clone()]);
        let (a, b, s) = (
            input_a.path.clone(),
            input_b.path.clone(),
            stranger.path.clone(),
        );
        drop((input_a, input_b, merged, other, stranger));

        let blocks = open_blocks(d, 2).unwrap();

        assert_eq!(names(&blocks), want);
        assert!(!a.exists() && !b.exists(), "merge inputs are deleted");
        assert!(!unfinished.exists());
        assert!(!s.exists());
        let mut set_aside = s.into_os_string();
        set_aside.push(".corrupt");
        assert!(Path::new(&set_aside).exists());
    }
}
