//! One series' chunk: timestamps, values and value_meta symbols, each coded the way that suits
//! them (see the module docs of `block`), with the per-block table the symbols refer to.

use std::{collections::HashMap, sync::Arc};

use foldhash::fast::RandomState;

use crate::{
    Point,
    embedded::codec::{Cursor, put_ivarint, put_uvarint},
};

/// Interns strings for one block's tables.
#[derive(Default)]
pub(super) struct Table {
    map: HashMap<Arc<str>, u32, RandomState>,
    pub(super) strs: Vec<Arc<str>>,
}

impl Table {
    pub(super) fn intern(&mut self, s: &Arc<str>) -> u32 {
        if let Some(i) = self.map.get(s) {
            return *i;
        }
        let i = self.strs.len() as u32;
        self.strs.push(s.clone());
        self.map.insert(s.clone(), i);
        i
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        put_uvarint(out, self.strs.len() as u64);
        for s in &self.strs {
            put_uvarint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
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

pub(super) fn encode_chunk(
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
pub(super) fn decode_chunk(buf: &[u8], metas: &[Arc<str>]) -> Option<Vec<Point>> {
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
