//! Binary encoding of sample batches, shared by the write-ahead log and snapshots.
//!
//! A record on disk is `len: u32 | crc32(payload): u32 | payload`, little-endian. A payload is a
//! sample count followed by the samples, strings as `u32` length + UTF-8 bytes.

use std::{collections::BTreeMap, sync::Arc};

use crate::{Sample, SeriesKey};

pub(crate) const RECORD_HEADER: usize = 8;

pub(crate) fn encode_record(samples: &[Sample], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; RECORD_HEADER]);
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    for s in samples {
        put_str(out, &s.series.tenant);
        put_str(out, &s.series.name);
        out.extend_from_slice(&(s.series.dimensions.len() as u32).to_le_bytes());
        for (k, v) in &s.series.dimensions {
            put_str(out, k);
            put_str(out, v);
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

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// What reading the next record found.
pub(crate) enum Next {
    Record {
        samples: Vec<Sample>,
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

fn decode_payload(payload: &[u8]) -> Option<Vec<Sample>> {
    let mut r = Reader(payload);
    let count = r.u32()? as usize;
    // The count comes from a checksummed record, but cap the reservation anyway.
    let mut out = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let tenant = r.string()?;
        let name = r.string()?;
        let ndims = r.u32()?;
        let mut dimensions = BTreeMap::new();
        for _ in 0..ndims {
            let k = r.string()?;
            let v = r.string()?;
            dimensions.insert(k, v);
        }
        let timestamp = r.u64()? as i64;
        let value = f64::from_bits(r.u64()?);
        let value_meta = match r.take(1)?[0] {
            0 => None,
            1 => Some(Arc::<str>::from(r.string()?)),
            _ => return None,
        };
        out.push(Sample {
            series: Arc::new(SeriesKey {
                tenant,
                name,
                dimensions,
            }),
            timestamp,
            value,
            value_meta,
        });
    }
    r.0.is_empty().then_some(out)
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

    #[test]
    fn round_trip_and_torn_tail() {
        let batch: Vec<Sample> = (0..5).map(sample).collect();
        let mut buf = Vec::new();
        encode_record(&batch, &mut buf);
        let Next::Record { samples, len } = decode_record(&buf) else {
            panic!("no record");
        };
        assert_eq!(samples, batch);
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
}
