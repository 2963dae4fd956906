//! Immutable, compressed block files: the points of one time partition written by one seal
//! (or several, merged), addressed by persistent series id ([`Gid`], see `registry.rs`).
//!
//! Layout (format 3; format 2 lacks only the `pco`-coded value_meta symbols and is read as
//! well), integers little-endian, varints LEB128 (signed ones zigzag):
//!
//! ```text
//! header     "VIGILBLK" | version: u32 | 0: u32
//! chunks     one per series, in id order: count | kinds: u8 | timestamps | values |
//!            value_meta | crc32: u32
//! pages      the series table, PAGE series a page: (id delta, chunk len, min_t - block min_t,
//!            max_t - min_t) varints | crc32: u32
//! directory  value_meta strings | page count | per page: (first id delta, page len,
//!            chunk bytes) | crc32 in the footer
//! footer     directory offset, len, crc | level | partition | seq range | min/max time |
//!            points | series | max id | crc32 of the footer | "VGBLKEND"
//! ```
//!
//! Only the directory is held in memory (a few dozen bytes per page, well under a byte per
//! series), so an open block costs almost nothing however many series it holds; a lookup
//! reads one page with a positioned read. Keys are not repeated per block: the registry file
//! maps ids to keys once for the whole store. Format 1 blocks (keys inside, no registry file)
//! are refused with [`StoreError::UnsupportedVersion`].
//!
//! Timestamps are `first, delta` when evenly spaced (the usual agent case: a few bytes per
//! series), varint deltas for short irregular chunks, otherwise `pco`; values are one
//! constant, raw for short chunks (pco's headers cost more than they save there), or `pco`
//! (measured against Gorilla XOR: 0.8 vs 7.3 bytes a value on the benchmark's data, 1.8 vs 6.7
//! on two-decimal gauges, 2.1 vs 2.7 on counters); value_meta is symbols into a per-block
//! table, run-length coded, so a repeated value_meta costs nothing per point, or `pco`-coded
//! when it changes from point to point (0.4 instead of 2 bytes a point on four alternating
//! texts). Every chunk, page and
//! the directory carry a CRC, so a damaged file is detected before it is decoded.

use std::{
    collections::HashMap,
    fs::{self, File},
    io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::Arc,
};

use foldhash::fast::RandomState;

use super::{
    codec::{Cursor, put_ivarint, put_uvarint},
    registry::Gid,
};
use crate::{Point, StoreError, TimeRange};

/// The block format this build writes.
pub(crate) const VERSION: u32 = 3;
/// The oldest block format this build reads.
const OLDEST_VERSION: u32 = 2;
const MAGIC: &[u8; 8] = b"VIGILBLK";
const FOOTER_MAGIC: &[u8; 8] = b"VGBLKEND";
const HEADER_LEN: u64 = 16;
const FOOTER_LEN: usize = 96;
pub(crate) const SUFFIX: &str = ".vgb";
/// Series per table page: a lookup decodes at most this many entries.
const PAGE: usize = 64;

/// What a block covers; stored in its footer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockMeta {
    /// `timestamp.div_euclid(partition_ms)` of every point inside.
    pub(crate) partition: i64,
    /// Seal sequence numbers merged into this block; a newer sequence wins on equal timestamps.
    pub(crate) seq_lo: u64,
    pub(crate) seq_hi: u64,
    /// 0 for a sealed head, one more than its inputs for a merge.
    pub(crate) level: u32,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) points: u64,
    pub(crate) series: u64,
    /// Largest series id inside; must be known to the registry.
    pub(crate) max_gid: Gid,
}

impl BlockMeta {
    pub(crate) fn file_name(&self) -> String {
        format!(
            "blk-p{}-s{:010}-{:010}{SUFFIX}",
            self.partition, self.seq_lo, self.seq_hi
        )
    }
}

/// Where one series' chunk is, and the time it spans.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) gid: Gid,
    off: u64,
    len: u32,
    min_t: i64,
    max_t: i64,
}

/// One page of the series table, as the directory describes it.
struct PageRef {
    first_gid: Gid,
    off: u64,
    len: u32,
    /// Offset of the first chunk the page describes.
    data_off: u64,
}

/// An open block: its footer, its page directory and its value_meta table. Points and the
/// series table stay on disk and are read with positioned reads.
pub(crate) struct Block {
    pub(crate) path: PathBuf,
    file: File,
    pub(crate) meta: BlockMeta,
    pub(crate) bytes: u64,
    pages: Vec<PageRef>,
    /// End of the chunk region (start of the pages).
    data_end: u64,
    metas: Vec<Arc<str>>,
}

/// The last page a caller decoded, so lookups of ascending ids read each page once.
#[derive(Default)]
pub(crate) struct PageCache {
    page: Option<usize>,
    entries: Vec<Entry>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Block {
    pub(crate) fn series_count(&self) -> u64 {
        self.meta.series
    }

    pub(crate) fn overlaps(&self, range: TimeRange) -> bool {
        self.meta.min_t < range.end && self.meta.max_t >= range.start
    }

    /// Heap bytes this open block holds.
    pub(crate) fn mem_bytes(&self) -> usize {
        self.pages.capacity() * std::mem::size_of::<PageRef>()
            + self.metas.iter().map(|m| m.len() + 32).sum::<usize>()
    }

    fn load_page(&self, i: usize, out: &mut Vec<Entry>) -> Result<(), StoreError> {
        let p = &self.pages[i];
        let mut buf = vec![0u8; p.len as usize];
        self.file
            .read_exact_at(&mut buf, p.off)
            .map_err(StoreError::io(&self.path))?;
        decode_page(&buf, p, self.meta.min_t, self.data_end, out).ok_or_else(|| {
            corrupt(
                &self.path,
                format!("series table page at byte {} is damaged", p.off),
            )
        })
    }

    /// The entry of `gid`, if the block holds that series.
    pub(crate) fn entry(
        &self,
        gid: Gid,
        cache: &mut PageCache,
    ) -> Result<Option<Entry>, StoreError> {
        let i = self.pages.partition_point(|p| p.first_gid <= gid);
        let Some(i) = i.checked_sub(1) else {
            return Ok(None);
        };
        if cache.page != Some(i) {
            cache.page = None;
            self.load_page(i, &mut cache.entries)?;
            cache.page = Some(i);
        }
        Ok(cache
            .entries
            .binary_search_by_key(&gid, |e| e.gid)
            .ok()
            .map(|j| cache.entries[j]))
    }

    /// Whether the series has a point in `range`, decoding it only when its bounds cannot tell.
    pub(crate) fn has_points(
        &self,
        gid: Gid,
        range: TimeRange,
        cache: &mut PageCache,
    ) -> Result<bool, StoreError> {
        let Some(e) = self.entry(gid, cache)? else {
            return Ok(false);
        };
        if e.min_t >= range.end || e.max_t < range.start {
            return Ok(false);
        }
        if range.contains(e.min_t) || range.contains(e.max_t) {
            return Ok(true);
        }
        let pts = self.read_entry(&e)?;
        Ok(pts.iter().any(|p| range.contains(p.timestamp)))
    }

    /// The series' points in `range`, or nothing when the block does not hold it there.
    pub(crate) fn read(
        &self,
        gid: Gid,
        range: TimeRange,
        cache: &mut PageCache,
    ) -> Result<Vec<Point>, StoreError> {
        match self.entry(gid, cache)? {
            Some(e) if e.min_t < range.end && e.max_t >= range.start => {
                let mut pts = self.read_entry(&e)?;
                if !(range.contains(e.min_t) && range.contains(e.max_t)) {
                    pts.retain(|p| range.contains(p.timestamp));
                }
                Ok(pts)
            }
            _ => Ok(Vec::new()),
        }
    }

    fn read_entry(&self, e: &Entry) -> Result<Vec<Point>, StoreError> {
        let mut buf = vec![0u8; e.len as usize];
        self.file
            .read_exact_at(&mut buf, e.off)
            .map_err(StoreError::io(&self.path))?;
        self.decode(e, &buf)
    }

    /// Decodes the chunk bytes of `e`.
    pub(crate) fn decode(&self, e: &Entry, buf: &[u8]) -> Result<Vec<Point>, StoreError> {
        decode_chunk(buf, &self.metas).ok_or_else(|| {
            corrupt(
                &self.path,
                format!("series chunk at byte {} is damaged", e.off),
            )
        })
    }

    /// Every series in id order with its chunk bytes, read sequentially (for merges).
    pub(crate) fn scan(&self) -> Result<Scan<'_>, StoreError> {
        let mut f = self.file.try_clone().map_err(StoreError::io(&self.path))?;
        f.seek(SeekFrom::Start(HEADER_LEN))
            .map_err(StoreError::io(&self.path))?;
        Ok(Scan {
            block: self,
            data: BufReader::with_capacity(1 << 20, f),
            pos: HEADER_LEN,
            page: 0,
            entries: Vec::new(),
            next: 0,
        })
    }

    /// Opens a block. Any other format is refused with [`StoreError::UnsupportedVersion`];
    /// damage, or a series id the registry does not know, is [`StoreError::Corrupt`].
    pub(crate) fn open(path: &Path, known_series: usize) -> Result<Block, StoreError> {
        let file = File::open(path).map_err(StoreError::io(path))?;
        let bytes = file.metadata().map_err(StoreError::io(path))?.len();
        if bytes < HEADER_LEN + FOOTER_LEN as u64 {
            return Err(corrupt(path, format!("only {bytes} bytes long")));
        }
        let mut header = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut header, 0)
            .map_err(StoreError::io(path))?;
        if &header[..8] != MAGIC {
            return Err(corrupt(path, "not a block file (bad magic)"));
        }
        let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(StoreError::UnsupportedVersion {
                path: path.to_path_buf(),
                version,
                supported: VERSION,
            });
        }
        let mut footer = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut footer, bytes - FOOTER_LEN as u64)
            .map_err(StoreError::io(path))?;
        let f = parse_footer(&footer).ok_or_else(|| corrupt(path, "damaged footer"))?;
        if f.dir_off < HEADER_LEN || f.dir_off + f.dir_len > bytes - FOOTER_LEN as u64 {
            return Err(corrupt(path, "directory outside the file"));
        }
        if f.meta.series > 0 && f.meta.max_gid as usize >= known_series {
            return Err(corrupt(
                path,
                format!(
                    "names series {} but the registry holds {known_series}",
                    f.meta.max_gid
                ),
            ));
        }
        let mut dir = vec![0u8; f.dir_len as usize];
        file.read_exact_at(&mut dir, f.dir_off)
            .map_err(StoreError::io(path))?;
        if crc32fast::hash(&dir) != f.dir_crc {
            return Err(corrupt(path, "directory checksum mismatch"));
        }
        let (metas, pages, data_end) = parse_dir(&dir, f.dir_off, f.meta.max_gid)
            .ok_or_else(|| corrupt(path, "directory does not decode"))?;
        Ok(Block {
            path: path.to_path_buf(),
            file,
            meta: f.meta,
            bytes,
            pages,
            data_end,
            metas,
        })
    }
}

/// A sequential pass over a block's series (see [`Block::scan`]).
pub(crate) struct Scan<'a> {
    block: &'a Block,
    data: BufReader<File>,
    pos: u64,
    page: usize,
    entries: Vec<Entry>,
    next: usize,
}

impl Scan<'_> {
    /// The next series' entry; its chunk is read by [`Scan::chunk`].
    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>, StoreError> {
        while self.next >= self.entries.len() {
            if self.page >= self.block.pages.len() {
                return Ok(None);
            }
            self.block.load_page(self.page, &mut self.entries)?;
            self.page += 1;
            self.next = 0;
        }
        let e = self.entries[self.next];
        self.next += 1;
        Ok(Some(e))
    }

    /// The chunk bytes of the entry just returned (chunks lie back to back in id order).
    pub(crate) fn chunk(&mut self, e: &Entry, buf: &mut Vec<u8>) -> Result<(), StoreError> {
        let path = &self.block.path;
        if e.off != self.pos {
            return Err(corrupt(
                path,
                format!("chunk at byte {} out of order", e.off),
            ));
        }
        buf.resize(e.len as usize, 0);
        self.data.read_exact(buf).map_err(StoreError::io(path))?;
        self.pos += u64::from(e.len);
        Ok(())
    }
}

fn decode_page(
    buf: &[u8],
    p: &PageRef,
    block_min: i64,
    data_end: u64,
    out: &mut Vec<Entry>,
) -> Option<()> {
    out.clear();
    let (body, crc) = buf.split_at_checked(buf.len().checked_sub(4)?)?;
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().ok()?) {
        return None;
    }
    let mut c = Cursor(body);
    let mut gid = p.first_gid;
    let mut off = p.data_off;
    while !c.0.is_empty() {
        let d = u32::try_from(c.uvarint()?).ok()?;
        if !out.is_empty() && d == 0 {
            return None;
        }
        gid = gid.checked_add(d)?;
        let len = u32::try_from(c.uvarint()?).ok()?;
        let min_t = block_min.checked_add(i64::try_from(c.uvarint()?).ok()?)?;
        let max_t = min_t.checked_add(i64::try_from(c.uvarint()?).ok()?)?;
        if off + u64::from(len) > data_end {
            return None;
        }
        out.push(Entry {
            gid,
            off,
            len,
            min_t,
            max_t,
        });
        off += u64::from(len);
    }
    (!out.is_empty()).then_some(())
}

struct Footer {
    dir_off: u64,
    dir_len: u64,
    dir_crc: u32,
    meta: BlockMeta,
}

fn parse_footer(b: &[u8; FOOTER_LEN]) -> Option<Footer> {
    if &b[FOOTER_LEN - 8..] != FOOTER_MAGIC {
        return None;
    }
    let body = &b[..FOOTER_LEN - 12];
    let crc = u32::from_le_bytes(b[FOOTER_LEN - 12..FOOTER_LEN - 8].try_into().ok()?);
    if crc32fast::hash(body) != crc {
        return None;
    }
    let mut c = Cursor(body);
    let u32_le = |c: &mut Cursor<'_>| -> Option<u32> {
        Some(u32::from_le_bytes(c.take(4)?.try_into().ok()?))
    };
    let dir_off = c.u64_le()?;
    let dir_len = c.u64_le()?;
    let dir_crc = u32_le(&mut c)?;
    let level = u32_le(&mut c)?;
    let partition = c.u64_le()? as i64;
    let seq_lo = c.u64_le()?;
    let seq_hi = c.u64_le()?;
    let min_t = c.u64_le()? as i64;
    let max_t = c.u64_le()? as i64;
    let points = c.u64_le()?;
    let series = c.u64_le()?;
    let max_gid = u32_le(&mut c)?;
    Some(Footer {
        dir_off,
        dir_len,
        dir_crc,
        meta: BlockMeta {
            partition,
            seq_lo,
            seq_hi,
            level,
            min_t,
            max_t,
            points,
            series,
            max_gid,
        },
    })
}

fn parse_strings(c: &mut Cursor<'_>) -> Option<Vec<Arc<str>>> {
    let n = c.uvarint()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        out.push(Arc::from(std::str::from_utf8(c.bytes()?).ok()?));
    }
    Some(out)
}

type Dir = (Vec<Arc<str>>, Vec<PageRef>, u64);

/// Parses the directory; pages lie back to back from the end of the chunks to `dir_off`.
fn parse_dir(dir: &[u8], dir_off: u64, max_gid: Gid) -> Option<Dir> {
    let mut c = Cursor(dir);
    let metas = parse_strings(&mut c)?;
    let data_end = c.uvarint()?;
    let n = c.uvarint()? as usize;
    let mut pages = Vec::with_capacity(n.min(1 << 22));
    let (mut gid, mut off, mut data_off) = (0u32, data_end, HEADER_LEN);
    for i in 0..n {
        let d = u32::try_from(c.uvarint()?).ok()?;
        if i > 0 && d == 0 {
            return None;
        }
        gid = gid.checked_add(d)?;
        let len = u32::try_from(c.uvarint()?).ok()?;
        let data_len = c.uvarint()?;
        if gid > max_gid || len < 4 {
            return None;
        }
        pages.push(PageRef {
            first_gid: gid,
            off,
            len,
            data_off,
        });
        off += u64::from(len);
        data_off += data_len;
    }
    (c.0.is_empty() && off == dir_off && data_off == data_end && data_end >= HEADER_LEN)
        .then_some((metas, pages, data_end))
}

/// Interns strings for one block's tables.
#[derive(Default)]
struct Table {
    map: HashMap<Arc<str>, u32, RandomState>,
    strs: Vec<Arc<str>>,
}

impl Table {
    fn intern(&mut self, s: &Arc<str>) -> u32 {
        if let Some(i) = self.map.get(s) {
            return *i;
        }
        let i = self.strs.len() as u32;
        self.strs.push(s.clone());
        self.map.insert(s.clone(), i);
        i
    }

    fn encode(&self, out: &mut Vec<u8>) {
        put_uvarint(out, self.strs.len() as u64);
        for s in &self.strs {
            put_uvarint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// Writes one block to a temporary file; [`BlockWriter::finish`] makes it durable under its
/// final name (the caller syncs the directory). Series must be added in ascending id order.
pub(crate) struct BlockWriter {
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<File>,
    pos: u64,
    meta: BlockMeta,
    metas: Table,
    /// Entries of the page being filled (their times relative to the block's min are only
    /// known at the end, so pages are encoded in `finish`).
    entries: Vec<(Gid, u32, i64, i64)>,
    chunk: Vec<u8>,
    last_gid: Option<Gid>,
}

impl BlockWriter {
    pub(crate) fn create(
        dir: &Path,
        partition: i64,
        seq_lo: u64,
        seq_hi: u64,
        level: u32,
    ) -> Result<Self, StoreError> {
        let meta = BlockMeta {
            partition,
            seq_lo,
            seq_hi,
            level,
            min_t: i64::MAX,
            max_t: i64::MIN,
            points: 0,
            series: 0,
            max_gid: 0,
        };
        let path = dir.join(meta.file_name());
        let tmp = path.with_extension("tmp");
        let file = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut header = Vec::with_capacity(HEADER_LEN as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        out.write_all(&header).map_err(StoreError::io(&tmp))?;
        Ok(Self {
            tmp,
            path,
            out,
            pos: HEADER_LEN,
            meta,
            metas: Table::default(),
            entries: Vec::new(),
            chunk: Vec::new(),
            last_gid: None,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds one series (ids ascending); `pts` sorted and unique by time.
    pub(crate) fn add(&mut self, gid: Gid, pts: &[Point]) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
            return Ok(());
        };
        if self.last_gid.is_some_and(|g| g >= gid) {
            return Err(StoreError::Poisoned(format!(
                "block writer got series {gid} out of order"
            )));
        }
        self.chunk.clear();
        let metas = &mut self.metas;
        encode_chunk(pts, |m| metas.intern(m), &mut self.chunk)
            .map_err(|e| StoreError::Poisoned(format!("compressing a block chunk: {e}")))?;
        let crc = crc32fast::hash(&self.chunk);
        self.chunk.extend_from_slice(&crc.to_le_bytes());
        self.out
            .write_all(&self.chunk)
            .map_err(StoreError::io(&self.tmp))?;
        let len = self.chunk.len() as u32;
        self.entries
            .push((gid, len, first.timestamp, last.timestamp));
        self.last_gid = Some(gid);
        self.pos += u64::from(len);
        self.meta.min_t = self.meta.min_t.min(first.timestamp);
        self.meta.max_t = self.meta.max_t.max(last.timestamp);
        self.meta.points += pts.len() as u64;
        Ok(())
    }

    /// Writes pages, directory and footer, fsyncs and renames into place; returns the open
    /// block.
    pub(crate) fn finish(mut self) -> Result<Block, StoreError> {
        let tmp = self.tmp.clone();
        let data_end = self.pos;
        let mut dir = Vec::with_capacity(self.entries.len() / PAGE * 8 + 64);
        self.metas.encode(&mut dir);
        put_uvarint(&mut dir, data_end);
        put_uvarint(&mut dir, self.entries.len().div_ceil(PAGE) as u64);
        let mut pages = Vec::with_capacity(self.entries.len().div_ceil(PAGE));
        let mut page = Vec::with_capacity(PAGE * 12);
        let (mut prev_first, mut off, mut data_off) = (0u32, data_end, HEADER_LEN);
        for group in self.entries.chunks(PAGE) {
            page.clear();
            let mut prev = group[0].0;
            let mut data_len = 0u64;
            for &(gid, len, min_t, max_t) in group {
                put_uvarint(&mut page, u64::from(gid - prev));
                put_uvarint(&mut page, u64::from(len));
                put_uvarint(&mut page, min_t.abs_diff(self.meta.min_t));
                put_uvarint(&mut page, max_t.abs_diff(min_t));
                prev = gid;
                data_len += u64::from(len);
            }
            let crc = crc32fast::hash(&page);
            page.extend_from_slice(&crc.to_le_bytes());
            self.out.write_all(&page).map_err(StoreError::io(&tmp))?;
            let first = group[0].0;
            put_uvarint(&mut dir, u64::from(first - prev_first));
            put_uvarint(&mut dir, page.len() as u64);
            put_uvarint(&mut dir, data_len);
            pages.push(PageRef {
                first_gid: first,
                off,
                len: page.len() as u32,
                data_off,
            });
            prev_first = first;
            off += page.len() as u64;
            data_off += data_len;
        }
        self.meta.series = self.entries.len() as u64;
        self.meta.max_gid = self.last_gid.unwrap_or(0);
        let mut footer = Vec::with_capacity(FOOTER_LEN);
        footer.extend_from_slice(&off.to_le_bytes());
        footer.extend_from_slice(&(dir.len() as u64).to_le_bytes());
        footer.extend_from_slice(&crc32fast::hash(&dir).to_le_bytes());
        footer.extend_from_slice(&self.meta.level.to_le_bytes());
        footer.extend_from_slice(&self.meta.partition.to_le_bytes());
        footer.extend_from_slice(&self.meta.seq_lo.to_le_bytes());
        footer.extend_from_slice(&self.meta.seq_hi.to_le_bytes());
        footer.extend_from_slice(&self.meta.min_t.to_le_bytes());
        footer.extend_from_slice(&self.meta.max_t.to_le_bytes());
        footer.extend_from_slice(&self.meta.points.to_le_bytes());
        footer.extend_from_slice(&self.meta.series.to_le_bytes());
        footer.extend_from_slice(&self.meta.max_gid.to_le_bytes());
        let crc = crc32fast::hash(&footer);
        footer.extend_from_slice(&crc.to_le_bytes());
        footer.extend_from_slice(FOOTER_MAGIC);
        debug_assert_eq!(footer.len(), FOOTER_LEN);
        self.out.write_all(&dir).map_err(StoreError::io(&tmp))?;
        self.out.write_all(&footer).map_err(StoreError::io(&tmp))?;
        let file = self.out.into_inner().map_err(|e| StoreError::Io {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(StoreError::io(&tmp))?;
        let bytes = file.metadata().map_err(StoreError::io(&tmp))?.len();
        drop(file);
        fs::rename(&tmp, &self.path).map_err(StoreError::io(&self.path))?;
        let file = File::open(&self.path).map_err(StoreError::io(&self.path))?;
        Ok(Block {
            path: self.path,
            file,
            meta: self.meta,
            bytes,
            pages,
            data_end,
            metas: self.metas.strs,
        })
    }

    /// Removes the unfinished file (a failed or abandoned write).
    pub(crate) fn abandon(self) {
        let tmp = self.tmp.clone();
        drop(self);
        let _ = fs::remove_file(tmp);
    }
}

const TS_REGULAR: u8 = 0;
const TS_PCO: u8 = 1;
const TS_DELTAS: u8 = 2;
const VAL_CONST: u8 = 0;
const VAL_PCO: u8 = 1;
const VAL_RAW: u8 = 2;
const VAL_DECIMAL: u8 = 3;
/// Below this many points pco's fixed cost (~50 bytes of headers, 10-20 µs a call whatever the
/// level, measured) outweighs its gains: short chunks use varint time deltas and, for values,
/// scaled-decimal varint deltas when exact, else raw. Merging a million short chunks (a seal at
/// high cardinality holds a few points a series) would otherwise spend most of its time in pco.
const SMALL: usize = 63;
/// Largest decimal scale tried: values with up to this many decimals are stored as integers.
const MAX_DECIMALS: usize = 6;
const POW10: [f64; MAX_DECIMALS + 1] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// The smallest decimal scale at which every value is an integer that scales back bit-exactly,
/// with those integers.
fn as_decimals(pts: &[Point]) -> Option<(u8, Vec<i64>)> {
    'scale: for (k, &p10) in POW10.iter().enumerate() {
        let mut ints = Vec::with_capacity(pts.len());
        for p in pts {
            let s = (p.value * p10).round();
            if s.is_nan() || s.abs() >= 9.0e15 {
                continue 'scale;
            }
            let i = s as i64;
            if (i as f64 / p10).to_bits() != p.value.to_bits() {
                continue 'scale;
            }
            ints.push(i);
        }
        return Some((k as u8, ints));
    }
    None
}
const META_NONE: u8 = 0;
const META_RUNS: u8 = 1;
/// Symbols as a `pco`-coded array (format 3).
const META_PCO: u8 = 2;
/// pco level 2 compresses these series as well as the default level 8 in about half the time.
const PCO_LEVEL: usize = 2;

fn pco_config() -> pco::ChunkConfig {
    pco::ChunkConfig::default().with_compression_level(PCO_LEVEL)
}

fn encode_chunk(
    pts: &[Point],
    mut meta_sym: impl FnMut(&Arc<str>) -> u32,
    out: &mut Vec<u8>,
) -> Result<(), pco::errors::PcoError> {
    put_uvarint(out, pts.len() as u64);
    let kinds_at = out.len();
    out.push(0);
    let t0 = pts[0].timestamp;
    let step = pts.get(1).map_or(0, |p| p.timestamp.wrapping_sub(t0));
    let regular = pts
        .iter()
        .enumerate()
        .all(|(i, p)| p.timestamp == t0.wrapping_add(step.wrapping_mul(i as i64)));
    let ts_kind = if regular {
        put_ivarint(out, t0);
        put_ivarint(out, step);
        TS_REGULAR
    } else if pts.len() <= SMALL {
        put_ivarint(out, t0);
        for w in pts.windows(2) {
            put_ivarint(out, w[1].timestamp.wrapping_sub(w[0].timestamp));
        }
        TS_DELTAS
    } else {
        let ts: Vec<i64> = pts.iter().map(|p| p.timestamp).collect();
        let b = pco::standalone::simple_compress(&ts, &pco_config())?;
        put_uvarint(out, b.len() as u64);
        out.extend_from_slice(&b);
        TS_PCO
    };
    let v0 = pts[0].value.to_bits();
    let val_kind = if pts.iter().all(|p| p.value.to_bits() == v0) {
        out.extend_from_slice(&v0.to_le_bytes());
        VAL_CONST
    } else if pts.len() <= SMALL {
        if let Some((k, ints)) = as_decimals(pts) {
            out.push(k);
            let mut prev = 0i64;
            for i in ints {
                put_ivarint(out, i.wrapping_sub(prev));
                prev = i;
            }
            VAL_DECIMAL
        } else {
            for p in pts {
                out.extend_from_slice(&p.value.to_bits().to_le_bytes());
            }
            VAL_RAW
        }
    } else {
        let vals: Vec<f64> = pts.iter().map(|p| p.value).collect();
        let b = pco::standalone::simple_compress(&vals, &pco_config())?;
        put_uvarint(out, b.len() as u64);
        out.extend_from_slice(&b);
        VAL_PCO
    };
    let meta_kind = if pts.iter().all(|p| p.value_meta.is_none()) {
        META_NONE
    } else {
        let syms: Vec<u32> = pts
            .iter()
            .map(|p| p.value_meta.as_ref().map_or(0, |m| meta_sym(m) + 1))
            .collect();
        let mut runs: Vec<(u64, u32)> = Vec::new();
        for &sym in &syms {
            match runs.last_mut() {
                Some((n, s)) if *s == sym => *n += 1,
                _ => runs.push((1, sym)),
            }
        }
        // Runs cost two varints each: when value_meta keeps changing, `pco` packs the symbols
        // into a few bits each instead.
        if pts.len() > SMALL && runs.len() * 4 > pts.len() {
            let b = pco::standalone::simple_compress(&syms, &pco_config())?;
            put_uvarint(out, b.len() as u64);
            out.extend_from_slice(&b);
            META_PCO
        } else {
            put_uvarint(out, runs.len() as u64);
            for (n, s) in runs {
                put_uvarint(out, n);
                put_uvarint(out, u64::from(s));
            }
            META_RUNS
        }
    };
    out[kinds_at] = ts_kind | (val_kind << 2) | (meta_kind << 4);
    Ok(())
}

/// Decodes a chunk with its trailing CRC; `None` when damaged.
fn decode_chunk(buf: &[u8], metas: &[Arc<str>]) -> Option<Vec<Point>> {
    let (body, crc) = buf.split_at_checked(buf.len().checked_sub(4)?)?;
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().ok()?) {
        return None;
    }
    let mut c = Cursor(body);
    let n = usize::try_from(c.uvarint()?).ok()?;
    if n == 0 || n > body.len() * 64 + 1024 {
        return None;
    }
    let kinds = c.u8()?;
    let ts: Vec<i64> = match kinds & 3 {
        TS_REGULAR => {
            let t0 = c.ivarint()?;
            let step = c.ivarint()?;
            (0..n)
                .map(|i| t0.wrapping_add(step.wrapping_mul(i as i64)))
                .collect()
        }
        TS_PCO => pco::standalone::simple_decompress(c.bytes()?).ok()?,
        TS_DELTAS if n <= SMALL => {
            let mut t = c.ivarint()?;
            let mut ts = Vec::with_capacity(n);
            ts.push(t);
            for _ in 1..n {
                t = t.wrapping_add(c.ivarint()?);
                ts.push(t);
            }
            ts
        }
        _ => return None,
    };
    let vals: Vec<f64> = match (kinds >> 2) & 3 {
        VAL_CONST => vec![f64::from_bits(c.u64_le()?); n],
        VAL_PCO => pco::standalone::simple_decompress(c.bytes()?).ok()?,
        VAL_RAW if n <= SMALL => (0..n)
            .map(|_| c.u64_le().map(f64::from_bits))
            .collect::<Option<_>>()?,
        VAL_DECIMAL if n <= SMALL => {
            let p10 = *POW10.get(usize::from(c.u8()?))?;
            let mut i = 0i64;
            let mut vals = Vec::with_capacity(n);
            for _ in 0..n {
                i = i.wrapping_add(c.ivarint()?);
                vals.push(i as f64 / p10);
            }
            vals
        }
        _ => return None,
    };
    if ts.len() != n || vals.len() != n {
        return None;
    }
    let mut meta: Vec<Option<Arc<str>>> = Vec::new();
    match (kinds >> 4) & 3 {
        META_NONE => {}
        META_RUNS => {
            let runs = c.uvarint()?;
            for _ in 0..runs {
                let len = usize::try_from(c.uvarint()?).ok()?;
                let sym = c.uvarint()?;
                let m = match sym {
                    0 => None,
                    s => Some(metas.get(usize::try_from(s - 1).ok()?)?.clone()),
                };
                if meta.len() + len > n {
                    return None;
                }
                meta.extend(std::iter::repeat_n(m, len));
            }
            if meta.len() != n {
                return None;
            }
        }
        META_PCO if n > SMALL => {
            let syms: Vec<u32> = pco::standalone::simple_decompress(c.bytes()?).ok()?;
            if syms.len() != n {
                return None;
            }
            meta = syms
                .into_iter()
                .map(|s| match s {
                    0 => Some(None),
                    s => metas.get(s as usize - 1).map(|m| Some(m.clone())),
                })
                .collect::<Option<_>>()?;
        }
        _ => return None,
    }
    if !c.0.is_empty() {
        return None;
    }
    let mut meta = meta.into_iter();
    Some(
        ts.into_iter()
            .zip(vals)
            .map(|(timestamp, value)| Point {
                timestamp,
                value,
                value_meta: meta.next().flatten(),
            })
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pts(
        ts: &[i64],
        v: impl Fn(usize) -> f64,
        meta: impl Fn(usize) -> Option<&'static str>,
    ) -> Vec<Point> {
        ts.iter()
            .enumerate()
            .map(|(i, t)| Point {
                timestamp: *t,
                value: v(i),
                value_meta: meta(i).map(Arc::from),
            })
            .collect()
    }

    #[test]
    fn chunks_round_trip_and_detect_damage() {
        let regular: Vec<i64> = (0..100).map(|i| 1_000 + i * 30_000).collect();
        let jitter: Vec<i64> = (0..100)
            .map(|i| 1_000 + i * 30_000 + (i * 7919) % 13)
            .collect();
        let cases = [
            pts(&regular, |i| (i % 17) as f64 / 10.0, |_| None),
            pts(&jitter, |_| 3.0, |i| (i % 3 == 0).then_some(r#"{"a":1}"#)),
            pts(&[5], |_| f64::MIN_POSITIVE, |_| Some("x")),
            pts(&[-5, 0, 7], |i| -(i as f64), |_| None),
            pts(
                &[1, 2, 4, 8, 9],
                |i| i as f64 * 0.1,
                |i| (i == 2).then_some("m"),
            ),
            pts(&jitter[..9], |i| i as f64, |_| None),
            pts(&jitter[..40], |i| (i % 7) as f64 * 0.37 - 1.0, |_| None),
            pts(
                &jitter[..20],
                |i| [0.1, -0.0, 1e300, f64::INFINITY, 0.3][i % 5],
                |_| None,
            ),
            pts(&regular[..63], |i| 1.0 / (i as f64 + 3.0), |_| None),
            pts(
                &regular,
                |_| 1.0,
                |i| [Some("a"), Some("b"), None, Some("c")][i % 4],
            ),
        ];
        for case in cases {
            let mut table = Table::default();
            let mut buf = Vec::new();
            encode_chunk(&case, |m| table.intern(m), &mut buf).unwrap();
            let crc = crc32fast::hash(&buf);
            buf.extend_from_slice(&crc.to_le_bytes());
            assert_eq!(decode_chunk(&buf, &table.strs).unwrap(), case);
            for i in 0..buf.len() {
                let mut bad = buf.clone();
                bad[i] ^= 0x55;
                assert!(decode_chunk(&bad, &table.strs).is_none(), "flip at {i}");
            }
            assert!(decode_chunk(&buf[..buf.len() - 1], &table.strs).is_none());
        }
    }

    #[test]
    fn changing_value_meta_packs_into_bits() {
        let ts: Vec<i64> = (0..100).map(|i| i * 30_000).collect();
        let texts = [
            "{\"s\":\"ok\"}",
            "{\"s\":\"slow\"}",
            "{\"s\":\"down\"}",
            "{\"s\":\"up\"}",
        ];
        let case = pts(&ts, |_| 1.0, |i| Some(texts[(i * 7) % 4]));
        let mut table = Table::default();
        let mut buf = Vec::new();
        encode_chunk(&case, |m| table.intern(m), &mut buf).unwrap();
        assert_eq!(buf[1] >> 4, META_PCO, "the kinds byte follows the count");
        // Two varints a point as runs; well under one byte a point packed.
        assert!(buf.len() < 80, "{} bytes", buf.len());
        buf.extend_from_slice(&crc32fast::hash(&buf).to_le_bytes());
        assert_eq!(decode_chunk(&buf, &table.strs).unwrap(), case);
    }
}
