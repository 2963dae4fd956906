//! Every series the store knows, interned: strings live once in a symbol table and a series
//! key is a short list of symbol ids, so a million series cost tens of bytes each rather than
//! a `BTreeMap` of owned strings. Also the inverted index from (tenant, name) and (tenant,
//! dimension key, value) to series ids, which answers name and dimension queries without
//! touching any point.
//!
//! Series ids ([`Gid`]) live as long as the process: at open they are handed out again in the
//! order blocks and the log name the series, so files never store them.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use foldhash::fast::RandomState;

use crate::{DimMatch, SeriesFilter, SeriesKey};

pub(crate) type Gid = u32;

#[derive(Default)]
struct Symbols {
    map: HashMap<Arc<str>, u32, RandomState>,
    strs: Vec<Arc<str>>,
}

impl Symbols {
    fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.map.get(s) {
            return *id;
        }
        let id = self.strs.len() as u32;
        let a: Arc<str> = Arc::from(s);
        self.strs.push(a.clone());
        self.map.insert(a, id);
        id
    }
}

#[derive(Default)]
pub(crate) struct TenantIndex {
    /// Posting lists stay sorted because ids are handed out in increasing order.
    pub(crate) by_name: BTreeMap<Arc<str>, Vec<Gid>>,
    pub(crate) by_dim: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Vec<Gid>>>,
}

#[derive(Default)]
pub(crate) struct Registry {
    syms: Symbols,
    /// gid -> `[tenant, name, k1, v1, k2, v2, ...]`, dimensions in key order.
    keys: Vec<Box<[u32]>>,
    by_key: HashMap<Box<[u32]>, Gid, RandomState>,
    tenants: HashMap<Arc<str>, TenantIndex, RandomState>,
}

impl Registry {
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The id of `key` if known; `buf` is scratch space reused across calls.
    pub(crate) fn lookup(&self, key: &SeriesKey, buf: &mut Vec<u32>) -> Option<Gid> {
        buf.clear();
        buf.push(self.syms.get(&key.tenant)?);
        buf.push(self.syms.get(&key.name)?);
        for (k, v) in &key.dimensions {
            buf.push(self.syms.get(k)?);
            buf.push(self.syms.get(v)?);
        }
        self.by_key.get(buf.as_slice()).copied()
    }

    pub(crate) fn insert(&mut self, key: &SeriesKey) -> Gid {
        let mut buf = Vec::with_capacity(2 + 2 * key.dimensions.len());
        if let Some(id) = self.lookup(key, &mut buf) {
            return id;
        }
        let mut parts: Vec<&str> = vec![&key.tenant, &key.name];
        for (k, v) in &key.dimensions {
            parts.push(k);
            parts.push(v);
        }
        self.insert_parts(&parts)
    }

    /// Inserts a key given as `[tenant, name, k1, v1, ...]` with dimensions in key order.
    pub(crate) fn insert_parts<S: AsRef<str>>(&mut self, parts: &[S]) -> Gid {
        let syms: Box<[u32]> = parts.iter().map(|s| self.syms.intern(s.as_ref())).collect();
        if let Some(id) = self.by_key.get(&syms) {
            return *id;
        }
        let id = self.keys.len() as Gid;
        let s = |i: usize| self.syms.strs[syms[i] as usize].clone();
        let tenant = s(0);
        let name = s(1);
        let dims: Vec<(Arc<str>, Arc<str>)> = (2..syms.len())
            .step_by(2)
            .map(|i| (s(i), s(i + 1)))
            .collect();
        let t = self.tenants.entry(tenant).or_default();
        t.by_name.entry(name).or_default().push(id);
        for (k, v) in dims {
            t.by_dim
                .entry(k)
                .or_default()
                .entry(v)
                .or_default()
                .push(id);
        }
        self.by_key.insert(syms.clone(), id);
        self.keys.push(syms);
        id
    }

    /// The key's strings, `[tenant, name, k1, v1, ...]`.
    pub(crate) fn parts(&self, id: Gid) -> impl Iterator<Item = &Arc<str>> {
        self.keys
            .get(id as usize)
            .into_iter()
            .flat_map(|k| k.iter())
            .map(|s| &self.syms.strs[*s as usize])
    }

    pub(crate) fn name(&self, id: Gid) -> &str {
        self.parts(id).nth(1).map_or("", |s| s)
    }

    pub(crate) fn dims(&self, id: Gid) -> impl Iterator<Item = (&str, &str)> {
        let p: Vec<&Arc<str>> = self.parts(id).skip(2).collect();
        (0..p.len() / 2).map(move |i| (&*p[2 * i] as &str, &*p[2 * i + 1] as &str))
    }

    pub(crate) fn key(&self, id: Gid) -> SeriesKey {
        let mut p = self.parts(id);
        let tenant = p.next().map(|s| s.to_string()).unwrap_or_default();
        let name = p.next().map(|s| s.to_string()).unwrap_or_default();
        let mut dimensions = BTreeMap::new();
        while let (Some(k), Some(v)) = (p.next(), p.next()) {
            dimensions.insert(k.to_string(), v.to_string());
        }
        SeriesKey {
            tenant,
            name,
            dimensions,
        }
    }

    pub(crate) fn tenant(&self, tenant: &str) -> Option<&TenantIndex> {
        self.tenants.get(tenant)
    }

    /// Ids matching the filter's tenant and dimensions (and name when `use_name`), sorted.
    pub(crate) fn candidates(&self, filter: &SeriesFilter, use_name: bool) -> Vec<Gid> {
        let Some(t) = self.tenants.get(filter.tenant.as_str()) else {
            return Vec::new();
        };
        let mut sets: Vec<Vec<Gid>> = Vec::new();
        if let (true, Some(name)) = (use_name, &filter.name) {
            match t.by_name.get(name.as_str()) {
                Some(ids) => sets.push(ids.clone()),
                None => return Vec::new(),
            }
        }
        for (k, m) in &filter.dimensions {
            let Some(values) = t.by_dim.get(k.as_str()) else {
                return Vec::new();
            };
            let mut ids: Vec<Gid> = match m {
                DimMatch::Exists => values.values().flatten().copied().collect(),
                DimMatch::AnyOf(vs) => vs
                    .iter()
                    .filter_map(|v| values.get(v.as_str()))
                    .flatten()
                    .copied()
                    .collect(),
            };
            ids.sort_unstable();
            ids.dedup();
            sets.push(ids);
        }
        if sets.is_empty() {
            let mut all: Vec<Gid> = t.by_name.values().flatten().copied().collect();
            all.sort_unstable();
            return all;
        }
        sets.sort_by_key(Vec::len);
        let mut acc = sets.swap_remove(0);
        for s in &sets {
            acc.retain(|id| s.binary_search(id).is_ok());
        }
        acc
    }

    /// Rough heap bytes held per series (keys, key map, postings), for reports.
    pub(crate) fn approx_bytes(&self) -> usize {
        let key_words: usize = self.keys.iter().map(|k| k.len()).sum();
        let strings: usize = self.syms.strs.iter().map(|s| s.len() + 16 + 40).sum();
        // Each key is held twice (list + map) with a fat pointer; a map slot is ~24 bytes;
        // each posting is 4 bytes.
        key_words * 4 * 2 + self.keys.len() * (16 + 24 + 4) + key_words / 2 * 4 + strings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_indexes() {
        let mut r = Registry::default();
        let k = SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: [("h".to_string(), "a".to_string())].into(),
        };
        let id = r.insert(&k);
        assert_eq!(r.insert(&k), id);
        assert_eq!(r.key(id), k);
        assert_eq!(r.name(id), "cpu");
        assert_eq!(r.dims(id).collect::<Vec<_>>(), [("h", "a")]);
        let f = SeriesFilter::tenant("t").dimension("h", DimMatch::Exists);
        assert_eq!(r.candidates(&f, true), [id]);
    }
}
