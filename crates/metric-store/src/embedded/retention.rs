//! Retention: drops whole blocks whose newest point is older than the retention period.

use std::{
    fs,
    sync::{Arc, atomic::Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use super::{Inner, block::Block, disk::sync_dir};
use crate::StoreError;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Drops whole blocks whose newest point is older than the retention period.
pub(super) fn apply_retention(inner: &Inner) -> Result<(), StoreError> {
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
