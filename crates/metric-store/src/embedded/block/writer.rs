//! Writing a block: chunks as series arrive, then the series table, directory and footer, then
//! fsync and rename into place.

use std::{
    fs::{self, File},
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use super::{
    Block, BlockMeta, FOOTER_LEN, FOOTER_MAGIC, HEADER_LEN, MAGIC, PAGE, PageRef, VERSION,
    chunk::{Table, encode_chunk},
};
use crate::{
    Point, StoreError,
    embedded::{codec::put_uvarint, registry::Gid},
};

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
