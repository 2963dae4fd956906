//! The groups of recent `group_by` queries, kept for the pages that follow. A client reads a
//! big answer page by page, and each page would otherwise find and group every matching
//! series again: at 100,000 series that was nearly all of a page's time. An entry holds while
//! the store's series generation is unchanged (no series added), which is exactly while
//! finding and grouping would give the same groups.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use super::Groups;

/// Queries remembered at once.
const ENTRIES: usize = 4;
/// Fewer groups than this are quick to find again and not kept.
const MIN_GROUPS: usize = 1_000;
/// Answers over more series than this are not kept, which bounds the memory (~30 bytes a
/// series and group) at a few tens of MiB.
const MAX_SERIES: usize = 250_000;

#[derive(Default)]
pub struct GroupCache {
    entries: Mutex<VecDeque<Entry>>,
}

struct Entry {
    query: String,
    generation: u64,
    groups: Arc<Groups>,
}

impl GroupCache {
    /// The groups of `query` (a key naming tenant, filter and grouping) if still current.
    pub fn get(&self, query: &str, generation: u64) -> Option<Arc<Groups>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.generation == generation);
        entries
            .iter()
            .find(|e| e.query == query)
            .map(|e| e.groups.clone())
    }

    pub fn put(&self, query: String, generation: u64, groups: &Arc<Groups>) {
        let series = groups.series_count();
        if groups.len() < MIN_GROUPS || series > MAX_SERIES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.query != query);
        if entries.len() >= ENTRIES {
            entries.pop_front();
        }
        entries.push_back(Entry {
            query,
            generation,
            groups: groups.clone(),
        });
    }
}
