//! Every series the store knows, interned: strings live once in a symbol table and a series
//! key is a short list of symbol ids, so a million series cost tens of bytes each rather than
//! a `BTreeMap` of owned strings. Also the inverted index from (tenant, name) and (tenant,
//! dimension key, value) to series ids, which answers name and dimension queries without
//! touching any point.
//!
//! Series ids ([`Gid`]) are persistent: the registry file (`series.vgs`) lists every series in
//! id order, so blocks name series by id and keys are stored once per store, not per block.
//! The file is append-only; the writer appends the series it has added before each seal and
//! fsyncs them before any block naming them is written, so a block never names an id the file
//! lacks. A torn tail (a crash mid-append) is cut off at open; the log still holds those
//! series and gives them ids again.

use std::{
    collections::{BTreeMap, HashMap},
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::codec::{Cursor, put_uvarint};
use crate::{DimMatch, SeriesFilter, SeriesKey, StoreError, hash_key_strs};

pub(crate) const SERIES_FILE: &str = "series.vgs";
const SERIES_MAGIC: &[u8; 8] = b"VGSERIES";
const SERIES_VERSION: u32 = 1;
const SERIES_HEADER: usize = 16;

pub(crate) type Gid = u32;

#[derive(Default)]
struct Symbols {
    map: HashMap<Arc<str>, u32, RandomState>,
    strs: Vec<Arc<str>>,
}

impl Symbols {
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

/// Keeps the ids of sorted `acc` that sorted `other` holds: a search per id when `other` is
/// much longer, else one walk over both.
fn intersect(acc: &mut Vec<Gid>, other: &[Gid]) {
    if acc.len().saturating_mul(16) < other.len() {
        acc.retain(|id| other.binary_search(id).is_ok());
        return;
    }
    let mut j = 0;
    acc.retain(|id| {
        while other.get(j).is_some_and(|o| o < id) {
            j += 1;
        }
        other.get(j) == Some(id)
    });
}

#[derive(Default)]
pub(crate) struct Registry {
    syms: Symbols,
    /// gid -> `[tenant, name, k1, v1, k2, v2, ...]`, dimensions in key order.
    keys: Vec<Box<[u32]>>,
    /// Series ids by a hash of their key's strings. A lookup hashes the caller's strings and
    /// compares them with the few candidates, so finding a known series costs one hash and
    /// no symbol lookups, and the map holds 4 bytes per series rather than a second key.
    by_hash: HashTable<Gid>,
    hasher: RandomState,
    tenants: HashMap<Arc<str>, TenantIndex, RandomState>,
}

impl Registry {
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The id of `key` if known.
    pub(crate) fn lookup(&self, key: &SeriesKey) -> Option<Gid> {
        self.lookup_parts(key.strs(), 2 + 2 * key.dimensions.len())
    }

    /// The id of the key whose `n` strings are `parts` (`[tenant, name, k1, v1, ...]`, dimensions
    /// in key order), if known.
    fn lookup_parts<'a, I>(&self, parts: I, n: usize) -> Option<Gid>
    where
        I: Iterator<Item = &'a str> + Clone,
    {
        let hash = hash_key_strs(&self.hasher, parts.clone());
        self.by_hash
            .find(hash, |&id| {
                let k = &self.keys[id as usize];
                k.len() == n && sym_strs(&self.syms.strs, k).eq(parts.clone())
            })
            .copied()
    }

    pub(crate) fn insert(&mut self, key: &SeriesKey) -> Gid {
        if let Some(id) = self.lookup(key) {
            return id;
        }
        let parts: Vec<&str> = key.strs().collect();
        self.insert_parts(&parts)
    }

    /// Inserts a key given as `[tenant, name, k1, v1, ...]` with dimensions in key order.
    pub(crate) fn insert_parts<S: AsRef<str>>(&mut self, parts: &[S]) -> Gid {
        let syms: Box<[u32]> = parts.iter().map(|s| self.syms.intern(s.as_ref())).collect();
        self.insert_syms(syms)
    }

    /// Room for `n` more series without growing the key table.
    fn reserve(&mut self, n: usize) {
        let (keys, strs, hasher) = (&self.keys, &self.syms.strs, &self.hasher);
        self.by_hash.reserve(n, |&id| {
            hash_key_strs(hasher, sym_strs(strs, &keys[id as usize]))
        });
        self.keys.reserve(n);
    }

    /// Inserts a key given as string ids (which must exist).
    fn insert_syms(&mut self, syms: Box<[u32]>) -> Gid {
        let hash = hash_key_strs(&self.hasher, sym_strs(&self.syms.strs, &syms));
        if let Some(id) = self
            .by_hash
            .find(hash, |&id| self.keys[id as usize] == syms)
        {
            return *id;
        }
        let id = self.keys.len() as Gid;
        let (keys, strs, hasher) = (&self.keys, &self.syms.strs, &self.hasher);
        self.by_hash.insert_unique(hash, id, |&other| {
            hash_key_strs(hasher, sym_strs(strs, &keys[other as usize]))
        });
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
            intersect(&mut acc, s);
        }
        acc
    }

    /// Rough heap bytes held per series (keys, key map, postings), for reports.
    pub(crate) fn approx_bytes(&self) -> usize {
        let key_words: usize = self.keys.iter().map(|k| k.len()).sum();
        let strings: usize = self.syms.strs.iter().map(|s| s.len() + 16 + 40).sum();
        // Each key is a boxed slice (a fat pointer and an allocation's header); a hash slot
        // is ~5 bytes; each posting is 4 bytes.
        key_words * 4 + self.keys.len() * (16 + 16 + 5) + key_words / 2 * 4 + strings
    }
}

/// The strings of a key held as symbol ids.
fn sym_strs<'a>(strs: &'a [Arc<str>], key: &'a [u32]) -> impl Iterator<Item = &'a str> {
    key.iter().map(|s| &*strs[*s as usize])
}

/// The registry file, open for appending, and what of the registry it holds.
pub(crate) struct SeriesFile {
    path: PathBuf,
    file: File,
    len: u64,
    /// Series ids below this are durable in the file.
    persisted: usize,
    /// Likewise for the string table: records carry the strings new since the last one and
    /// keys as string ids, so each distinct string is stored once.
    syms_persisted: usize,
    /// Set when a failed append could not be cut off: nothing more is appended after bytes
    /// that may be a stray record (seals wait; the log keeps everything).
    broken: Option<String>,
}

impl SeriesFile {
    /// Loads every series of the registry file in `dir` into `reg` (which must be empty),
    /// creating the file if missing and cutting off a torn tail.
    pub(crate) fn load(dir: &Path, reg: &mut Registry) -> Result<SeriesFile, StoreError> {
        let path = dir.join(SERIES_FILE);
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.clone(),
            reason,
        };
        let mut buf = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut buf).map_err(StoreError::io(&path))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&path)(e)),
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(StoreError::io(&path))?;
        if buf.len() < SERIES_HEADER {
            // New (or never got past its header): start it over, durably.
            file.set_len(0).map_err(StoreError::io(&path))?;
            let mut h = Vec::with_capacity(SERIES_HEADER);
            h.extend_from_slice(SERIES_MAGIC);
            h.extend_from_slice(&SERIES_VERSION.to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes());
            file.write_all(&h).map_err(StoreError::io(&path))?;
            file.sync_all().map_err(StoreError::io(&path))?;
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(StoreError::io(dir))?;
            return Ok(SeriesFile {
                path,
                file,
                len: SERIES_HEADER as u64,
                persisted: 0,
                syms_persisted: 0,
                broken: None,
            });
        }
        if &buf[..8] != SERIES_MAGIC {
            return Err(corrupt("not a series registry (bad magic)".into()));
        }
        let version = u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]);
        if version != SERIES_VERSION {
            return Err(StoreError::UnsupportedVersion {
                path,
                version,
                supported: SERIES_VERSION,
            });
        }
        let mut pos = SERIES_HEADER;
        let mut parts: Vec<u32> = Vec::new();
        while let Some(payload) = record_at(&buf[pos..]) {
            let ok = (|| {
                let mut c = Cursor(payload);
                for _ in 0..c.uvarint()? {
                    let s = std::str::from_utf8(c.bytes()?).ok()?;
                    // Ids must come out as the file numbers them: no duplicates.
                    let expected = reg.syms.strs.len() as u32;
                    (reg.syms.intern(s) == expected).then_some(())?;
                }
                let count = usize::try_from(c.uvarint()?).ok()?;
                // Room for the record's series at once: growing the table step by step would
                // hash every key again at each step, reading its strings from all over memory.
                reg.reserve(count.min(payload.len()));
                for _ in 0..count {
                    let k = usize::try_from(c.uvarint()?).ok()?;
                    // No cap on dimensions beyond the record's own size: ingest takes any
                    // number, and a key this refused would make the store unopenable.
                    if k < 2 || k % 2 != 0 || k > payload.len() {
                        return None;
                    }
                    parts.clear();
                    for _ in 0..k {
                        let id = u32::try_from(c.uvarint()?).ok()?;
                        (reg.syms.strs.len() > id as usize).then_some(())?;
                        parts.push(id);
                    }
                    let expected = reg.len();
                    (reg.insert_syms(parts.as_slice().into()) as usize == expected).then_some(())?;
                }
                c.0.is_empty().then_some(())
            })();
            if ok.is_none() {
                return Err(corrupt(format!("bad series record at byte {pos}")));
            }
            pos += 8 + payload.len();
        }
        if pos < buf.len() {
            // Only a seal's append that never completed can be torn: its fsync came first.
            tracing::warn!(path = %path.display(), offset = pos, "truncating torn tail of series registry");
            file.set_len(pos as u64).map_err(StoreError::io(&path))?;
            file.sync_all().map_err(StoreError::io(&path))?;
        }
        Ok(SeriesFile {
            path,
            file,
            len: pos as u64,
            persisted: reg.len(),
            syms_persisted: reg.syms.strs.len(),
            broken: None,
        })
    }

    /// The record of the series `reg` added since the last [`SeriesFile::write`], if any.
    pub(crate) fn pending(&self, reg: &Registry) -> Option<PendingSeries> {
        let upto = reg.len();
        if upto <= self.persisted {
            return None;
        }
        let syms_upto = reg.syms.strs.len();
        let mut payload = Vec::with_capacity((upto - self.persisted) * 16);
        put_uvarint(&mut payload, (syms_upto - self.syms_persisted) as u64);
        for s in &reg.syms.strs[self.syms_persisted..syms_upto] {
            put_uvarint(&mut payload, s.len() as u64);
            payload.extend_from_slice(s.as_bytes());
        }
        put_uvarint(&mut payload, (upto - self.persisted) as u64);
        for id in self.persisted..upto {
            let key = &reg.keys[id];
            put_uvarint(&mut payload, key.len() as u64);
            for s in key.iter() {
                put_uvarint(&mut payload, u64::from(*s));
            }
        }
        let mut rec = Vec::with_capacity(payload.len() + 8);
        rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        rec.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        rec.extend_from_slice(&payload);
        Some(PendingSeries {
            rec,
            upto,
            syms_upto,
        })
    }

    /// Appends and fsyncs a record from [`SeriesFile::pending`]. On failure the file is cut
    /// back, so a later attempt appends after intact records only.
    pub(crate) fn write(&mut self, p: PendingSeries) -> Result<(), StoreError> {
        let PendingSeries {
            rec,
            upto,
            syms_upto,
        } = p;
        if let Some(reason) = &self.broken {
            return Err(StoreError::Poisoned(reason.clone()));
        }
        let r = self
            .file
            .write_all(&rec)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = r {
            let cut = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_data());
            if let Err(cut) = cut {
                self.broken = Some(format!(
                    "{}: a failed append could not be cut off ({cut}); restart to recover",
                    self.path.display()
                ));
            }
            return Err(StoreError::io(&self.path)(e));
        }
        self.len += rec.len() as u64;
        self.persisted = upto;
        self.syms_persisted = syms_upto;
        Ok(())
    }
}

/// Series (and strings) not yet in the registry file, encoded as one record.
pub(crate) struct PendingSeries {
    rec: Vec<u8>,
    upto: usize,
    syms_upto: usize,
}

/// The payload of the intact record at the start of `buf`, if any.
fn record_at(buf: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(buf.get(4..8)?.try_into().ok()?);
    let payload = buf.get(8..8 + len)?;
    (crc32fast::hash(payload) == crc).then_some(payload)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn intersections_by_walk_and_by_search_agree() {
        let other: Vec<Gid> = (0..2_000).filter(|i| i % 3 != 0).collect();
        for acc in [
            (0..2_000).filter(|i| i % 2 == 0).collect::<Vec<Gid>>(),
            vec![0, 1, 2, 3, 999, 1_998, 1_999, 5_000],
            Vec::new(),
        ] {
            let mut got = acc.clone();
            intersect(&mut got, &other);
            let want: Vec<Gid> = acc.into_iter().filter(|id| other.contains(id)).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn a_key_of_thousands_of_dimensions_is_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let key = SeriesKey {
            tenant: "t".into(),
            name: "wide".into(),
            dimensions: (0..3_000)
                .map(|i| (format!("k{i}"), "v".to_string()))
                .collect(),
        };
        let mut reg = Registry::default();
        let mut file = SeriesFile::load(dir.path(), &mut reg).unwrap();
        let id = reg.insert(&key);
        let pending = file.pending(&reg).unwrap();
        file.write(pending).unwrap();
        let mut again = Registry::default();
        SeriesFile::load(dir.path(), &mut again).unwrap();
        assert_eq!(again.lookup(&key), Some(id));
    }

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

    #[test]
    fn keys_that_share_their_bytes_stay_apart() {
        let key = |dims: &[(&str, &str)]| SeriesKey {
            tenant: "t".into(),
            name: "cpu".into(),
            dimensions: dims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let mut r = Registry::default();
        let a = r.insert(&key(&[("ab", "c")]));
        let b = r.insert(&key(&[("a", "bc")]));
        let c = r.insert(&key(&[]));
        assert_eq!([a, b, c], [0, 1, 2]);
        for i in 0..10_000 {
            r.insert(&key(&[("host", &format!("h{i}"))]));
        }
        assert_eq!(r.lookup(&key(&[("ab", "c")])), Some(a));
        assert_eq!(r.lookup(&key(&[("a", "bc")])), Some(b));
        assert_eq!(r.lookup(&key(&[("host", "h9999")])), Some(10_002));
        assert_eq!(r.lookup(&key(&[("host", "h10000")])), None);
    }
}
