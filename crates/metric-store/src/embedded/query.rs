//! Reading: every source of a series (blocks in sequence order, the frozen head, the head)
//! merged so the newest write of a timestamp wins.

use std::sync::Arc;

use super::{
    EmbeddedStore,
    block::{Block, PageCache},
    registry::Gid,
};
use crate::{Point, StoreError, TimeRange};

impl EmbeddedStore {
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
    pub(super) fn for_each_series(
        &self,
        ids: &[Gid],
        range: TimeRange,
        mut f: impl FnMut(Gid, Vec<Point>) -> bool,
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
            if !f(ids[i], merge_points(lists)) {
                break;
            }
        }
        Ok(())
    }

    /// The subset of `ids` (sorted) with at least one point in `range`.
    pub(super) fn alive(&self, ids: Vec<Gid>, range: TimeRange) -> Result<Vec<Gid>, StoreError> {
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
pub(super) fn merge_points(mut lists: Vec<Vec<Point>>) -> Vec<Point> {
    lists.retain(|l| !l.is_empty());
    if lists.len() <= 1 {
        return lists.pop().unwrap_or_default();
    }
    // Blocks of successive time ranges, the usual case: each list starts after the previous
    // one ends, so joining them is the merge.
    let disjoint = lists.windows(2).all(|w| match (w[0].last(), w[1].first()) {
        (Some(a), Some(b)) => a.timestamp < b.timestamp,
        _ => false,
    });
    if disjoint {
        let mut out = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        for l in lists {
            out.extend(l);
        }
        return out;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(list: &[(i64, f64)]) -> Vec<Point> {
        list.iter()
            .map(|&(timestamp, value)| Point {
                timestamp,
                value,
                value_meta: None,
            })
            .collect()
    }

    #[test]
    fn later_sources_win_on_equal_timestamps() {
        let merged = merge_points(vec![
            pts(&[(1, 1.0), (3, 1.0), (5, 1.0)]),
            Vec::new(),
            pts(&[(3, 2.0), (4, 2.0)]),
            pts(&[(5, 3.0)]),
        ]);
        assert_eq!(merged, pts(&[(1, 1.0), (3, 2.0), (4, 2.0), (5, 3.0)]));
        assert_eq!(
            merge_points(vec![Vec::new(), pts(&[(2, 1.0)])]),
            pts(&[(2, 1.0)])
        );
        assert!(merge_points(Vec::new()).is_empty());
    }

    #[test]
    fn successive_lists_join_and_others_merge() {
        let joined = merge_points(vec![pts(&[(1, 1.0), (2, 1.0)]), pts(&[(3, 2.0)])]);
        assert_eq!(joined, pts(&[(1, 1.0), (2, 1.0), (3, 2.0)]));
        // Touching at one timestamp: the later list wins there.
        let touching = merge_points(vec![pts(&[(1, 1.0), (2, 1.0)]), pts(&[(2, 2.0), (3, 2.0)])]);
        assert_eq!(touching, pts(&[(1, 1.0), (2, 2.0), (3, 2.0)]));
        // Out of time order: sorted.
        let reversed = merge_points(vec![pts(&[(5, 1.0)]), pts(&[(1, 2.0)])]);
        assert_eq!(reversed, pts(&[(1, 2.0), (5, 1.0)]));
    }
}
