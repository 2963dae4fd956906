//! Series keys shared across requests. Agents send the same series batch after batch; building
//! every sample's key anew (tenant, name and dimension strings, a map: seven allocations, and
//! seven frees once the batch is stored) was most of ingest's allocator work. Here a known
//! series costs one hash of the body's strings and a reference count. The cache holds as
//! many series as [`metric_store::series_cache_capacity`] allows (by the machine's memory).

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicU32, Ordering},
};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use metric_store::{SeriesKey, hash_key_strs};

/// When the cache is full and a body finds fewer keys than it misses, the fleet is bigger
/// than the cache: starting over would only churn, so only one such body in this many does.
const RESTART_EVERY: u32 = 16;

pub struct SeriesKeys {
    table: RwLock<HashTable<Cached>>,
    hasher: RandomState,
    /// Keys held at most (one of two dimensions takes ~0.7 KiB); then the cache starts over,
    /// so a fleet bigger than this, whose batches cycle through more series than fit, costs
    /// what it would without a cache.
    capacity: usize,
    /// Bodies that found the cache full and mostly missed.
    thrashing: AtomicU32,
}

/// A shared key with its strings laid end to end (each after its length), so that checking a
/// candidate reads one short buffer instead of following the key's six allocations and its
/// map's node: with more series than the caches hold, those were a cache miss each.
struct Cached {
    key: Arc<SeriesKey>,
    flat: Box<[u8]>,
}

fn flatten<'a>(strs: impl Iterator<Item = &'a str>) -> Box<[u8]> {
    let mut out = Vec::new();
    for s in strs {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    out.into_boxed_slice()
}

/// A series as written in a request body: dimensions sorted by key, no key twice.
pub struct Parts<'a> {
    pub tenant: &'a str,
    pub name: &'a str,
    pub dimensions: &'a [(&'a str, &'a str)],
}

impl Parts<'_> {
    /// The strings in [`SeriesKey::strs`] order.
    fn strs(&self) -> impl Iterator<Item = &str> + Clone {
        [self.tenant, self.name]
            .into_iter()
            .chain(self.dimensions.iter().flat_map(|(k, v)| [*k, *v]))
    }

    fn matches(&self, flat: &[u8]) -> bool {
        let mut rest = flat;
        for s in self.strs() {
            let Some((len, tail)) = rest.split_first_chunk::<4>() else {
                return false;
            };
            let n = u32::from_le_bytes(*len) as usize;
            if n != s.len() || tail.get(..n) != Some(s.as_bytes()) {
                return false;
            }
            rest = &tail[n..];
        }
        rest.is_empty()
    }

    fn to_key(&self) -> SeriesKey {
        SeriesKey {
            tenant: self.tenant.to_string(),
            name: self.name.to_string(),
            dimensions: self
                .dimensions
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// The keys a [`Reader`] built and how many it found, without its lock.
pub struct Found {
    new: Vec<(u64, Arc<SeriesKey>)>,
    hits: usize,
}

/// Lookups for one request body under one read lock; the keys it had to build join the cache
/// at [`Reader::finish`].
pub struct Reader<'c> {
    cache: &'c SeriesKeys,
    table: std::sync::RwLockReadGuard<'c, HashTable<Cached>>,
    new: Vec<(u64, Arc<SeriesKey>)>,
    hits: usize,
}

impl Default for SeriesKeys {
    fn default() -> Self {
        Self::with_capacity(metric_store::series_cache_capacity())
    }
}

impl SeriesKeys {
    pub fn with_capacity(capacity: usize) -> Self {
        SeriesKeys {
            table: RwLock::default(),
            hasher: RandomState::default(),
            capacity: capacity.max(1),
            thrashing: AtomicU32::new(0),
        }
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader {
            cache: self,
            table: self.table.read().unwrap_or_else(|e| e.into_inner()),
            new: Vec::new(),
            hits: 0,
        }
    }

    fn hash_key(&self, k: &Cached) -> u64 {
        hash_key_strs(&self.hasher, k.key.strs())
    }

    /// Adds the keys readers built (on any thread) to the cache.
    pub fn remember(&self, found: impl IntoIterator<Item = Found>) {
        let (mut new, mut hits) = (Vec::new(), 0);
        for f in found {
            new.extend(f.new);
            hits += f.hits;
        }
        if !new.is_empty() {
            self.insert(new, hits);
        }
    }

    fn insert(&self, new: Vec<(u64, Arc<SeriesKey>)>, hits: usize) {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        if table.len() + new.len() > self.capacity
            && hits < new.len()
            && !(self.thrashing.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(RESTART_EVERY)
        {
            return;
        }
        for (hash, key) in new {
            if table.len() >= self.capacity {
                table.clear();
            }
            if table.find(hash, |k| *k.key == *key).is_none() {
                let flat = flatten(key.strs());
                table.insert_unique(hash, Cached { key, flat }, |k| self.hash_key(k));
            }
        }
    }
}

impl Reader<'_> {
    /// The shared key of `parts`, built (and remembered at `finish`) if new. A series new
    /// to the cache that repeats within the body gets a key per sample: equal, not shared.
    pub fn key(&mut self, parts: &Parts<'_>) -> Arc<SeriesKey> {
        let hash = hash_key_strs(&self.cache.hasher, parts.strs());
        if let Some(k) = self.table.find(hash, |k| parts.matches(&k.flat)) {
            self.hits += 1;
            return k.key.clone();
        }
        let key = Arc::new(parts.to_key());
        self.new.push((hash, key.clone()));
        key
    }
}

impl Reader<'_> {
    /// Ends the reads and adds the keys they built. A body that fails to parse skips this:
    /// its keys are then simply not remembered.
    pub fn finish(self) {
        let cache = self.cache;
        cache.remember([self.into_found()]);
    }

    /// What [`Reader::finish`] would add to the cache, to add later with
    /// [`SeriesKeys::remember`]; the read lock is released here.
    pub fn into_found(self) -> Found {
        Found {
            new: self.new,
            hits: self.hits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(tenant: &'a str, dims: &'a [(&'a str, &'a str)]) -> Parts<'a> {
        Parts {
            tenant,
            name: "cpu",
            dimensions: dims,
        }
    }

    #[test]
    fn one_key_per_series_and_tenant() {
        let cache = SeriesKeys::default();
        let dims = [("host", "a"), ("svc", "b")];
        let mut r = cache.reader();
        let a = r.key(&parts("t1", &dims));
        r.finish();
        let mut r = cache.reader();
        assert!(Arc::ptr_eq(&a, &r.key(&parts("t1", &dims))));
        let other_tenant = r.key(&parts("t2", &dims));
        assert_eq!(other_tenant.tenant, "t2");
        // The same bytes split differently are another series.
        let shifted = r.key(&parts("t1", &[("hos", "ta"), ("svc", "b")]));
        assert_eq!(
            shifted.dimensions.get("hos").map(String::as_str),
            Some("ta")
        );
        assert_eq!(*a, parts("t1", &dims).to_key());
        r.finish();
    }

    const CAPACITY: usize = 1000;

    #[test]
    fn starts_over_when_full() {
        let cache = SeriesKeys::with_capacity(CAPACITY);
        let first = {
            let mut r = cache.reader();
            let k = r.key(&parts("t", &[("h", "first")]));
            r.finish();
            k
        };
        // A body that mostly finds its keys but brings more than fit starts the cache over.
        let mut r = cache.reader();
        let names: Vec<String> = (0..CAPACITY).map(|i| format!("h{i}")).collect();
        for n in &names {
            r.key(&parts("t", &[("h", "first")]));
            r.key(&parts("t", &[("h", n)]));
        }
        r.finish();
        let len = cache.table.read().map(|t| t.len()).unwrap_or(0);
        assert!(len < CAPACITY, "{len}");
        let mut r = cache.reader();
        let again = r.key(&parts("t", &[("h", "first")]));
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(first, again);
    }

    #[test]
    fn a_fleet_bigger_than_the_cache_does_not_churn_it() {
        let cache = SeriesKeys::with_capacity(CAPACITY);
        let hosts: Vec<String> = (0..CAPACITY + 16 * 10).map(|i| format!("h{i}")).collect();
        let mut r = cache.reader();
        let kept = r.key(&parts("t", &[("h", &hosts[0])]));
        for h in &hosts[1..CAPACITY] {
            r.key(&parts("t", &[("h", h)]));
        }
        r.finish();
        // Bodies of only new series find the cache full: 15 of 16 leave it as it is.
        for body in 0..16 {
            let mut r = cache.reader();
            for h in &hosts[CAPACITY + body * 10..CAPACITY + body * 10 + 10] {
                r.key(&parts("t", &[("h", h)]));
            }
            r.finish();
            let mut r = cache.reader();
            let again = r.key(&parts("t", &[("h", &hosts[0])]));
            assert_eq!(Arc::ptr_eq(&kept, &again), body < 15, "body {body}");
        }
    }
}
