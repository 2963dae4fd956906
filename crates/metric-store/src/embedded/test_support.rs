//! Fixtures for unit tests of one job at a time: an engine state with no threads running, and
//! small real block files.

use std::{path::Path, sync::Arc};

use super::{
    EmbeddedOptions, Inner,
    block::{Block, BlockWriter},
    head::Head,
    registry::{Gid, Registry},
};
use crate::{Point, StoreError};

/// The shared state of a store over `dir` holding `blocks` (in override order) and nothing else.
pub(super) fn inner(dir: &Path, opts: EmbeddedOptions, blocks: Vec<Arc<Block>>) -> Inner {
    let newest = blocks
        .iter()
        .map(|b| b.meta.max_t)
        .max()
        .unwrap_or(i64::MIN);
    Inner::new(
        dir.to_path_buf(),
        opts,
        Registry::default(),
        Head::default(),
        blocks,
        newest,
    )
}

/// Writes a block of `partition` holding seal sequences `seq_lo..=seq_hi`, one point a
/// `(series, timestamp, value)` (series ascending, timestamps ascending within a series).
pub(super) fn block(
    dir: &Path,
    partition: i64,
    (seq_lo, seq_hi): (u64, u64),
    level: u32,
    points: &[(Gid, i64, f64)],
) -> Result<Arc<Block>, StoreError> {
    let mut w = BlockWriter::create(dir, partition, seq_lo, seq_hi, level)?;
    let mut rest = points;
    while let Some(&(gid, _, _)) = rest.first() {
        let end = rest.partition_point(|(g, _, _)| *g == gid);
        let pts: Vec<Point> = rest[..end]
            .iter()
            .map(|&(_, timestamp, value)| Point {
                timestamp,
                value,
                value_meta: None,
            })
            .collect();
        w.add(gid, &pts)?;
        rest = &rest[end..];
    }
    Ok(Arc::new(w.finish()?))
}
