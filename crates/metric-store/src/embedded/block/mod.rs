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

mod chunk;
mod layout;
mod writer;

use std::{
    fs::File,
    io::{BufReader, Read, Seek, SeekFrom},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::Arc,
};

use chunk::decode_chunk;
use layout::{decode_page, parse_dir, parse_footer};
pub(crate) use writer::BlockWriter;

use super::registry::Gid;
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
    /// `timestamp.div_euclid(partition_ms)` of every point inside, or for a bucket of points far
    /// from the present (see `partitioning`), that of the bucket's first partition.
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
