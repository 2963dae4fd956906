//! Retention: drops whole blocks whose newest point is older than the retention period.

use std::{
    fs,
    sync::{Arc, atomic::Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use super::{Inner, block::Block, disk::sync_dir};
use crate::StoreError;

pub(super) fn now_ms() -> i64 {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::embedded::{
        EmbeddedOptions,
        test_support::{block, inner},
    };

    const HOUR: i64 = 3_600_000;

    fn paths(inner: &Inner) -> Vec<std::path::PathBuf> {
        inner.read().blocks.iter().map(|b| b.path.clone()).collect()
    }

    #[test]
    fn drops_the_blocks_whose_newest_point_is_past_the_cut_and_keeps_straddling_ones() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        let old = block(
            dir.path(),
            1,
            (1, 1),
            0,
            &[(0, now - 3 * HOUR, 1.0), (1, now - 2 * HOUR, 1.0)],
        )
        .unwrap();
        // Older points than the cut, but one inside: the whole block stays.
        let straddling = block(
            dir.path(),
            1,
            (2, 2),
            0,
            &[(0, now - 3 * HOUR, 1.0), (0, now - HOUR / 2, 1.0)],
        )
        .unwrap();
        let fresh = block(dir.path(), 2, (3, 3), 0, &[(1, now - 60_000, 1.0)]).unwrap();
        let opts = EmbeddedOptions {
            retention: Some(Duration::from_secs(3600)),
            ..EmbeddedOptions::default()
        };
        let inner = inner(
            dir.path(),
            opts,
            vec![old.clone(), straddling.clone(), fresh.clone()],
        );

        apply_retention(&inner).unwrap();

        assert_eq!(paths(&inner), [straddling.path.clone(), fresh.path.clone()]);
        assert!(!old.path.exists());
        assert!(straddling.path.exists() && fresh.path.exists());
        assert_eq!(inner.counters.dropped.load(Ordering::Relaxed), 1);

        // Nothing more is past the cut: a second pass changes nothing.
        apply_retention(&inner).unwrap();
        assert_eq!(paths(&inner).len(), 2);
        assert_eq!(inner.counters.dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn without_a_retention_period_every_block_stays() {
        let dir = tempfile::tempdir().unwrap();
        let ancient = block(dir.path(), 0, (1, 1), 0, &[(0, 1, 1.0)]).unwrap();
        let inner = inner(
            dir.path(),
            EmbeddedOptions::default(),
            vec![ancient.clone()],
        );
        apply_retention(&inner).unwrap();
        assert_eq!(paths(&inner), std::slice::from_ref(&ancient.path));
        assert!(ancient.path.exists());
    }
}
