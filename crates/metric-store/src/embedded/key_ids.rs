//! Series ids by the address of a shared series key. A server that hands out one
//! `Arc<SeriesKey>` per series (as Vigil's ingest path does) sends the same allocation batch
//! after batch, so its id is found from the address alone, without hashing and comparing the
//! key's strings against the registry's.
//!
//! An entry holds a `Weak` of the key: the allocation cannot be freed and its address reused
//! by another key while the entry exists, so an address found here is still that key. A key
//! whose last `Arc` is gone costs only its allocation's few dozen bytes until the map starts
//! over.

use std::{
    collections::HashMap,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
};

use foldhash::fast::RandomState;

use super::registry::Gid;
use crate::SeriesKey;

/// Once batches find fewer of their keys here than they miss while the map is full (keys are
/// not shared, or the fleet outgrew the map), the map is cold: batches skip it, and only one
/// in this many tries it again, starting it over.
const RETRY_EVERY: u32 = 16;

pub(crate) struct KeyIds {
    map: HashMap<usize, (Weak<SeriesKey>, Gid), RandomState>,
    /// Entries held at most before the map starts over (~100 bytes each).
    capacity: usize,
    /// Atomics, so that batches on many cores look ids up under a shared read lock.
    cold: AtomicBool,
    skipped: AtomicU32,
}

impl Default for KeyIds {
    /// Twice the ingest path's shared keys: a cache that started over hands out new keys
    /// while entries of the old ones are still here.
    fn default() -> Self {
        Self::with_capacity(2 * crate::series_cache_capacity())
    }
}

fn address(key: &Arc<SeriesKey>) -> usize {
    Arc::as_ptr(key) as usize
}

impl KeyIds {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        KeyIds {
            map: HashMap::default(),
            capacity,
            cold: AtomicBool::new(false),
            skipped: AtomicU32::new(0),
        }
    }

    /// Whether this batch should use the map (always, unless it is cold).
    pub(crate) fn worth_trying(&self) -> bool {
        if !self.cold.load(Ordering::Relaxed) {
            return true;
        }
        let skipped = self.skipped.fetch_add(1, Ordering::Relaxed) + 1;
        skipped.is_multiple_of(RETRY_EVERY)
    }

    /// Whether batches skip the map for now.
    pub(crate) fn is_cold(&self) -> bool {
        self.cold.load(Ordering::Relaxed)
    }

    pub(crate) fn get(&self, key: &Arc<SeriesKey>) -> Option<Gid> {
        self.map.get(&address(key)).map(|(_, id)| *id)
    }

    /// Remembers the ids found the slow way (`found`) for a batch that found `hits` keys here.
    pub(crate) fn remember<'a>(
        &mut self,
        found: impl ExactSizeIterator<Item = (&'a Arc<SeriesKey>, Gid)>,
        hits: usize,
    ) {
        let n = found.len();
        let full = self.map.len() + n > self.capacity;
        self.cold.store(hits < n && full, Ordering::Relaxed);
        if full {
            self.map.clear();
        }
        for (key, id) in found {
            self.map.insert(address(key), (Arc::downgrade(key), id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: &str) -> Arc<SeriesKey> {
        Arc::new(SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: [("host".to_string(), host.to_string())].into(),
        })
    }

    #[test]
    fn found_by_address_while_the_allocation_lives() {
        let mut ids = KeyIds::default();
        let a = key("a");
        ids.remember([(&a, 7)].into_iter(), 0);
        assert_eq!(ids.get(&a), Some(7));
        // An equal key elsewhere is not this one: the registry decides for it.
        assert_eq!(ids.get(&key("a")), None);
        // The entry keeps the allocation: a new key cannot take the old one's address.
        let addr = Arc::as_ptr(&a) as usize;
        drop(a);
        let others: Vec<Arc<SeriesKey>> = (0..1000).map(|i| key(&i.to_string())).collect();
        assert!(others.iter().all(|k| Arc::as_ptr(k) as usize != addr));
        assert!(others.iter().all(|k| ids.get(k).is_none()));
    }

    #[test]
    fn goes_cold_when_keys_are_not_shared() {
        const CAPACITY: usize = 1000;
        let mut ids = KeyIds::with_capacity(CAPACITY);
        let keep: Vec<Arc<SeriesKey>> = (0..CAPACITY).map(|i| key(&i.to_string())).collect();
        ids.remember(
            keep.iter().map(|k| (k, 1)).collect::<Vec<_>>().into_iter(),
            0,
        );
        assert!(ids.worth_trying());
        // A batch of unshared keys finds the map full: it goes cold.
        let fresh: Vec<Arc<SeriesKey>> = (0..10).map(|i| key(&format!("n{i}"))).collect();
        ids.remember(
            fresh.iter().map(|k| (k, 2)).collect::<Vec<_>>().into_iter(),
            0,
        );
        let tries: Vec<bool> = (0..RETRY_EVERY).map(|_| ids.worth_trying()).collect();
        assert_eq!(tries.iter().filter(|t| **t).count(), 1);
        assert!(tries[RETRY_EVERY as usize - 1]);
        // The retry found its keys (the map started over with them): warm again.
        assert_eq!(ids.get(&fresh[0]), Some(2));
        ids.remember(std::iter::empty::<(&Arc<SeriesKey>, Gid)>(), 10);
        assert!(ids.worth_trying());
    }
}
