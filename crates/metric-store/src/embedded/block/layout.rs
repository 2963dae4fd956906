//! Parsing a block's index: the series table pages, the directory and the footer.

use std::sync::Arc;

use super::{BlockMeta, Entry, FOOTER_LEN, FOOTER_MAGIC, HEADER_LEN, PageRef};
use crate::embedded::{codec::Cursor, registry::Gid};

pub(super) fn decode_page(
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

pub(super) struct Footer {
    pub(super) dir_off: u64,
    pub(super) dir_len: u64,
    pub(super) dir_crc: u32,
    pub(super) meta: BlockMeta,
}

pub(super) fn parse_footer(b: &[u8; FOOTER_LEN]) -> Option<Footer> {
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
pub(super) fn parse_dir(dir: &[u8], dir_off: u64, max_gid: Gid) -> Option<Dir> {
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
