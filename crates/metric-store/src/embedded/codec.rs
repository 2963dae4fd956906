//! Binary encoding of sample batches, shared by the write-ahead log and snapshots.
//!
//! A record on disk is `len: u32 | crc32(payload): u32 | payload`, little-endian. A payload is a
//! sample count followed by the samples, strings as `u32` length + UTF-8 bytes. In records
//! written since the count's top bit marks them, each sample starts with the id of its series
//! when the series was already known (given by an earlier record or the registry file), or
//! [`NEW_SERIES`] followed by its key: a known series costs 4 bytes instead of its strings
//! (~80 bytes with two dimensions), so the log is a fifth the size and quick to encode. Older
//! records carry every sample's key and are still read.

use std::{collections::BTreeMap, sync::Arc};

use super::registry::Gid;
use crate::{Sample, SeriesKey};

pub(crate) const RECORD_HEADER: usize = 8;
/// Set in the count of a record whose samples start with a series id.
const WITH_IDS: u32 = 1 << 31;
/// The id slot of a sample whose key follows.
const NEW_SERIES: u32 = u32::MAX;

/// A logged sample's series: its key, or the id the series was given when first logged.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LoggedSeries {
    Key(Arc<SeriesKey>),
    Id(Gid),
}

/// A sample as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoggedSample {
    pub(crate) series: LoggedSeries,
    pub(crate) timestamp: i64,
    pub(crate) value: f64,
    pub(crate) value_meta: Option<Arc<str>>,
}

/// Appends one record of `samples`; `ids[i]`, where given, is the id of sample `i`'s series,
/// which must already be in the registry (and so in the log or the registry file before this
/// record): such samples are logged by id.
pub(crate) fn encode_record(samples: &[Sample], ids: &[Option<Gid>], out: &mut Vec<u8>) {
    // Writes are bounded by the request body limit, far below 2^31 samples.
    debug_assert!(samples.len() < WITH_IDS as usize);
    let count = samples.len() as u32 & !WITH_IDS;
    let start = out.len();
    out.reserve(RECORD_HEADER + 4 + samples.len() * 24);
    out.extend_from_slice(&[0u8; RECORD_HEADER]);
    out.extend_from_slice(&(count | WITH_IDS).to_le_bytes());
    for (i, s) in samples.iter().enumerate() {
        match ids.get(i).copied().flatten().filter(|&id| id != NEW_SERIES) {
            Some(id) => out.extend_from_slice(&id.to_le_bytes()),
            None => {
                out.extend_from_slice(&NEW_SERIES.to_le_bytes());
                put_key(out, &s.series);
            }
        }
        out.extend_from_slice(&s.timestamp.to_le_bytes());
        out.extend_from_slice(&s.value.to_bits().to_le_bytes());
        match &s.value_meta {
            Some(m) => {
                out.push(1);
                put_str(out, m);
            }
            None => out.push(0),
        }
    }
    let payload_len = (out.len() - start - RECORD_HEADER) as u32;
    let crc = crc32fast::hash(&out[start + RECORD_HEADER..]);
    out[start..start + 4].copy_from_slice(&payload_len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn put_key(out: &mut Vec<u8>, key: &SeriesKey) {
    put_str(out, &key.tenant);
    put_str(out, &key.name);
    out.extend_from_slice(&(key.dimensions.len() as u32).to_le_bytes());
    for (k, v) in &key.dimensions {
        put_str(out, k);
        put_str(out, v);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// What reading the next record found.
pub(crate) enum Next {
    Record {
        samples: Vec<LoggedSample>,
        len: usize,
    },
    /// Clean end of data.
    End,
    /// A short or damaged record: the tail a crash can leave behind.
    Torn(String),
}

/// Decodes the record at the start of `buf`.
pub(crate) fn decode_record(buf: &[u8]) -> Next {
    if buf.is_empty() {
        return Next::End;
    }
    if buf.len() < RECORD_HEADER {
        return Next::Torn("short record header".into());
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let Some(payload) = buf.get(RECORD_HEADER..RECORD_HEADER + len) else {
        return Next::Torn("record extends past end of file".into());
    };
    if crc32fast::hash(payload) != crc {
        return Next::Torn("record checksum mismatch".into());
    }
    match decode_payload(payload) {
        Some(samples) => Next::Record {
            samples,
            len: RECORD_HEADER + len,
        },
        None => Next::Torn("record payload does not decode".into()),
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

fn decode_payload(payload: &[u8]) -> Option<Vec<LoggedSample>> {
    let mut r = Reader(payload);
    let count = r.u32()?;
    let with_ids = count & WITH_IDS != 0;
    let count = (count & !WITH_IDS) as usize;
    // The count comes from a checksummed record, but cap the reservation anyway.
    let mut out = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let series = match if with_ids { r.u32()? } else { NEW_SERIES } {
            NEW_SERIES => LoggedSeries::Key(Arc::new(decode_key(&mut r)?)),
            id => LoggedSeries::Id(id),
        };
        let timestamp = r.u64()? as i64;
        let value = f64::from_bits(r.u64()?);
        let value_meta = match r.take(1)?[0] {
            0 => None,
            1 => Some(Arc::<str>::from(r.string()?)),
            _ => return None,
        };
        out.push(LoggedSample {
            series,
            timestamp,
            value,
            value_meta,
        });
    }
    r.0.is_empty().then_some(out)
}

fn decode_key(r: &mut Reader<'_>) -> Option<SeriesKey> {
    let tenant = r.string()?;
    let name = r.string()?;
    let ndims = r.u32()?;
    let mut dimensions = BTreeMap::new();
    for _ in 0..ndims {
        let k = r.string()?;
        let v = r.string()?;
        dimensions.insert(k, v);
    }
    Some(SeriesKey {
        tenant,
        name,
        dimensions,
    })
}

/// Appends `v` as a LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// A cursor over bytes that fails softly (`None`) on short or malformed input.
pub(crate) struct Cursor<'a>(pub(crate) &'a [u8]);

impl<'a> Cursor<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u64_le(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }

    pub(crate) fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    pub(crate) fn ivarint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uvarint()?).ok()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ts: i64) -> Sample {
        Sample {
            series: Arc::new(SeriesKey {
                tenant: "t".into(),
                name: "cpu".into(),
                dimensions: [("host".to_string(), "a".to_string())].into(),
            }),
            timestamp: ts,
            value: 1.5,
            value_meta: (ts % 2 == 0).then(|| Arc::from(r#"{"a":"b"}"#)),
        }
    }

    #[test]
    fn varints_round_trip() {
        let mut buf = Vec::new();
        let vals = [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX];
        for v in vals {
            put_ivarint(&mut buf, v);
            put_uvarint(&mut buf, v as u64);
        }
        let mut c = Cursor(&buf);
        for v in vals {
            assert_eq!(c.ivarint(), Some(v));
            assert_eq!(c.uvarint(), Some(v as u64));
        }
        assert!(c.0.is_empty());
        assert_eq!(Cursor(&[0x80, 0x80]).uvarint(), None);
    }

    fn logged(s: &Sample, id: Option<Gid>) -> LoggedSample {
        LoggedSample {
            series: id.map_or_else(|| LoggedSeries::Key(s.series.clone()), LoggedSeries::Id),
            timestamp: s.timestamp,
            value: s.value,
            value_meta: s.value_meta.clone(),
        }
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let batch: Vec<Sample> = (0..5).map(sample).collect();
        let ids = [Some(3), None, Some(0), None, Some(7)];
        let mut buf = Vec::new();
        encode_record(&batch, &ids, &mut buf);
        let Next::Record { samples, len } = decode_record(&buf) else {
            panic!("no record");
        };
        let want: Vec<LoggedSample> = batch.iter().zip(ids).map(|(s, id)| logged(s, id)).collect();
        assert_eq!(samples, want);
        assert_eq!(len, buf.len());
        for cut in 1..buf.len() {
            assert!(
                matches!(decode_record(&buf[..cut]), Next::Torn(_)),
                "cut {cut}"
            );
        }
        let mut bad = buf.clone();
        let last = bad.len() - 3;
        bad[last] ^= 0xff;
        assert!(matches!(decode_record(&bad), Next::Torn(_)));
    }

    #[test]
    fn known_series_cost_four_bytes() {
        let batch: Vec<Sample> = (0..100).map(sample).collect();
        let (mut by_key, mut by_id) = (Vec::new(), Vec::new());
        encode_record(&batch, &[], &mut by_key);
        encode_record(&batch, &[Some(1); 100], &mut by_id);
        assert!(
            by_id.len() * 2 < by_key.len(),
            "{} vs {}",
            by_id.len(),
            by_key.len()
        );
    }

    /// Records as versions before ids were logged wrote them: every sample's key.
    fn encode_with_keys(samples: &[Sample]) -> Vec<u8> {
        let mut out = vec![0u8; RECORD_HEADER];
        out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
        for s in samples {
            put_key(&mut out, &s.series);
            out.extend_from_slice(&s.timestamp.to_le_bytes());
            out.extend_from_slice(&s.value.to_bits().to_le_bytes());
            match &s.value_meta {
                Some(m) => {
                    out.push(1);
                    put_str(&mut out, m);
                }
                None => out.push(0),
            }
        }
        let len = (out.len() - RECORD_HEADER) as u32;
        let crc = crc32fast::hash(&out[RECORD_HEADER..]);
        out[..4].copy_from_slice(&len.to_le_bytes());
        out[4..8].copy_from_slice(&crc.to_le_bytes());
        out
    }

    #[test]
    fn records_of_earlier_versions_are_read() {
        let batch: Vec<Sample> = (0..4).map(sample).collect();
        let buf = encode_with_keys(&batch);
        let Next::Record { samples, len } = decode_record(&buf) else {
            panic!("no record");
        };
        assert_eq!(len, buf.len());
        let want: Vec<LoggedSample> = batch.iter().map(|s| logged(s, None)).collect();
        assert_eq!(samples, want);
    }
}
