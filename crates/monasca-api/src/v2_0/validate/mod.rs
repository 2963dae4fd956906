//! Metric validation with monasca-common's rules and messages, so clients that match on the
//! error text keep working.

use std::{collections::BTreeMap, sync::Arc};

use metric_store::{Sample, SeriesKey};

use super::series_keys::{self, SeriesKeys};
use serde_json::{Map, Value};

const MAX_NAME: usize = 255;
const VALUE_META_MAX_ENTRIES: usize = 16;
const VALUE_META_MAX_LENGTH: usize = 2048;
const VALUE_META_NAME_MAX: usize = 255;
/// The latest instant `jiff` (and most clients) can represent: 9999-12-31T23:59:59.999Z.
const MAX_TIMESTAMP_MS: f64 = 253_402_300_799_999.0;

fn restricted_in_dimension(c: char) -> bool {
    matches!(
        c,
        '<' | '>' | '=' | '{' | '}' | ',' | '"' | '\\' | ';' | '&'
    )
}

fn restricted_in_name(c: char) -> bool {
    restricted_in_dimension(c) || matches!(c, '(' | ')' | ' ')
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

pub fn name(v: &Value) -> Result<&str, String> {
    let Value::String(s) = v else {
        return Err(format!(
            "invalid metric name type: {} is not a string type ",
            py_str(v)
        ));
    };
    check_name(s)?;
    Ok(s)
}

fn check_name(s: &str) -> Result<(), String> {
    if s.is_empty() || char_len(s) > MAX_NAME {
        return Err(format!("invalid length for metric name: {s}"));
    }
    if s.chars().any(restricted_in_name) {
        return Err(format!("invalid characters in metric name: {s}"));
    }
    Ok(())
}

pub fn dimension_key(k: &str) -> Result<(), String> {
    let n = char_len(k);
    if n == 0 || n > 255 {
        return Err(format!("invalid length ({n}) for dimension key {k}"));
    }
    if k.chars().any(restricted_in_dimension) || k.starts_with('_') {
        return Err(format!("invalid characters in dimension key {k}"));
    }
    Ok(())
}

pub fn dimension_value<'a>(k: &str, v: &'a Value) -> Result<&'a str, String> {
    let Value::String(s) = v else {
        return Err(format!(
            "invalid dimension value type: {} must be a string (from key {k})",
            py_str(v)
        ));
    };
    check_dimension_value(k, s)?;
    Ok(s)
}

fn check_dimension_value(k: &str, s: &str) -> Result<(), String> {
    let n = char_len(s);
    if n == 0 || n > 255 {
        return Err(format!(
            "invalid length ({n}) for dimension value {s} from key {k}"
        ));
    }
    if s.chars().any(restricted_in_dimension) {
        return Err(format!(
            "invalid characters in dimension value {s} from key {k}"
        ));
    }
    Ok(())
}

/// JSON numbers, and booleans because Python's `bool` is an `int`.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn value(v: &Value) -> Result<f64, String> {
    let x = number(v).ok_or_else(|| {
        format!(
            "invalid value type: {} is not a number type for metric",
            py_str(v)
        )
    })?;
    if !x.is_finite() {
        return Err(format!(
            "invalid value: {} is not a valid value for metric",
            py_float(x)
        ));
    }
    Ok(x)
}

fn timestamp(v: &Value) -> Result<i64, String> {
    let x = number(v).ok_or_else(|| {
        format!(
            "invalid timestamp type: {} is not a number type for metric",
            py_str(v)
        )
    })?;
    timestamp_ms(x).ok_or_else(|| {
        format!(
            "invalid timestamp: {} is out of range for metric",
            py_str(v)
        )
    })
}

/// Upstream's Python API stores whatever number it gets; we refuse instants no client can read
/// back rather than store them.
fn timestamp_ms(x: f64) -> Option<i64> {
    (0.0..=MAX_TIMESTAMP_MS)
        .contains(&x)
        .then(|| x.floor() as i64)
}

fn dimensions(v: &Value) -> Result<BTreeMap<String, String>, String> {
    let Value::Object(m) = v else {
        return Err(format!("'{}' object has no attribute 'items'", py_type(v)));
    };
    let mut out = BTreeMap::new();
    for (k, v) in m {
        dimension_key(k)?;
        let s = dimension_value(k, v)?;
        out.insert(k.clone(), s.to_string());
    }
    Ok(out)
}

fn value_meta(v: &Value) -> Result<Option<Arc<str>>, String> {
    let m = match v {
        Value::Null => return Ok(None),
        Value::Object(m) => m,
        other => {
            return Err(format!(
                "'{}' object has no attribute 'items'",
                py_type(other)
            ));
        }
    };
    if m.len() > VALUE_META_MAX_ENTRIES {
        return Err(format!(
            "Too many valueMeta entries {}, limit is {VALUE_META_MAX_ENTRIES}: valueMeta {}",
            m.len(),
            py_str(v)
        ));
    }
    for (k, val) in m {
        if k.is_empty() {
            return Err(format!(
                "valueMeta name cannot be empty: key={k}, value={}",
                py_str(val)
            ));
        }
        if char_len(k) > VALUE_META_NAME_MAX {
            return Err(format!(
                "valueMeta name too long: {k} must be {VALUE_META_NAME_MAX} characters or less"
            ));
        }
    }
    if python_json_len(v) > VALUE_META_MAX_LENGTH {
        return Err(format!(
            "valueMeta name value combinations must be {VALUE_META_MAX_LENGTH} characters or less: valueMeta {}",
            py_str(v)
        ));
    }
    if m.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::from(Value::Object(m.clone()).to_string())))
}

/// Validates one metric object as monasca-common does and turns it into a sample of `tenant`.
pub fn metric(tenant: &str, v: &Value) -> Result<Sample, String> {
    let obj: &Map<String, Value> = match v {
        Value::Object(m) => m,
        Value::Null => return Err("'NoneType' object is not subscriptable".into()),
        Value::String(_) => return Err("string indices must be integers, not 'str'".into()),
        other => return Err(format!("'{}' object is not subscriptable", py_type(other))),
    };
    let name = name(obj.get("name").ok_or("'name'")?)?.to_string();
    let suffix = |e: String| format!("{e}: for metric {name}");
    let missing = |k: &str| format!("\"'{k}': for metric {name}\"");
    let value = value(obj.get("value").ok_or_else(|| missing("value"))?).map_err(suffix)?;
    let timestamp =
        timestamp(obj.get("timestamp").ok_or_else(|| missing("timestamp"))?).map_err(suffix)?;
    let dimensions = match obj.get("dimensions") {
        Some(d) => dimensions(d).map_err(suffix)?,
        None => BTreeMap::new(),
    };
    let value_meta = match obj.get("value_meta") {
        Some(m) => value_meta(m).map_err(suffix)?,
        None => None,
    };
    Ok(Sample {
        series: Arc::new(SeriesKey {
            tenant: tenant.to_string(),
            name,
            dimensions,
        }),
        timestamp,
        value,
        value_meta,
    })
}

/// Bytes that make a dimension key or value (and so a name) invalid. All are ASCII, so a byte
/// scan finds exactly the characters a char scan would: UTF-8 continuation bytes are >= 0x80.
const RESTRICTED_DIM: [bool; 256] = restricted_table(b"<>={},\"\\;&");
const RESTRICTED_NAME: [bool; 256] = restricted_table(b"<>={},\"\\;&() ");

const fn restricted_table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

/// Non-empty and at most `max` characters: the byte length bounds the character count, so
/// characters are counted only for long non-ASCII strings.
fn len_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && (s.len() <= max || char_len(s) <= max)
}

fn fast_name_ok(s: &str) -> bool {
    len_ok(s, MAX_NAME) && !s.bytes().any(|b| RESTRICTED_NAME[usize::from(b)])
}

fn fast_dim_ok(s: &str) -> bool {
    len_ok(s, 255) && !s.bytes().any(|b| RESTRICTED_DIM[usize::from(b)])
}

/// The fast path's verdict on a body it does not take: the general path decides (and words
/// the error). The message is never shown.
fn decline<E: serde::de::Error>() -> E {
    E::custom("")
}

/// The fields of a metric object; any other key is skipped, as upstream does.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Name,
    Dimensions,
    Timestamp,
    Value,
    ValueMeta,
    #[serde(other)]
    Other,
}

/// Reads one metric object straight into a [`Sample`] of `tenant`, taking only the common,
/// well-typed, valid shape. Anything else (booleans as numbers, `null` dimensions, wrong
/// types, invalid values, repeated fields) declines the whole body to the general path.
#[derive(Clone, Copy)]
struct MetricSeed<'t> {
    tenant: &'t str,
}

impl<'de> serde::de::DeserializeSeed<'de> for MetricSeed<'_> {
    type Value = Sample;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Sample, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MetricSeed<'_> {
    type Value = Sample;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a metric object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Sample, A::Error> {
        let mut name: Option<String> = None;
        let mut dimensions: Option<BTreeMap<String, String>> = None;
        let mut timestamp: Option<f64> = None;
        let mut value: Option<f64> = None;
        let mut value_meta: Option<Option<&'de serde_json::value::RawValue>> = None;
        // A repeated field is legal JSON whose last value wins upstream: left to the general path.
        fn once<T, E: serde::de::Error>(slot: &mut Option<T>, v: T) -> Result<(), E> {
            if slot.replace(v).is_some() {
                return Err(decline());
            }
            Ok(())
        }
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Name => once(&mut name, map.next_value::<String>()?)?,
                Field::Dimensions => once(&mut dimensions, map.next_value::<Dims>()?.0)?,
                Field::Timestamp => once(&mut timestamp, map.next_value::<f64>()?)?,
                Field::Value => once(&mut value, map.next_value::<f64>()?)?,
                Field::ValueMeta => once(&mut value_meta, map.next_value()?)?,
                Field::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let (Some(name), Some(timestamp), Some(value)) = (name, timestamp, value) else {
            return Err(decline());
        };
        if !fast_name_ok(&name) || !value.is_finite() {
            return Err(decline());
        }
        let timestamp = timestamp_ms(timestamp).ok_or_else(decline)?;
        let value_meta = match value_meta.flatten() {
            None => None,
            Some(raw) => serde_json::from_str(raw.get())
                .ok()
                .and_then(|v| self::value_meta(&v).ok())
                .ok_or_else(decline)?,
        };
        Ok(Sample {
            series: Arc::new(SeriesKey {
                tenant: self.tenant.to_string(),
                name,
                dimensions: dimensions.unwrap_or_default(),
            }),
            timestamp,
            value,
            value_meta,
        })
    }
}

/// A `dimensions` object of valid string keys and values. `null` declines: upstream rejects
/// it rather than reading "no dimensions".
struct Dims(BTreeMap<String, String>);

impl<'de> serde::Deserialize<'de> for Dims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(DimsVisitor)
    }
}

struct DimsVisitor;

impl<'de> serde::de::Visitor<'de> for DimsVisitor {
    type Value = Dims;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a dimensions object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Dims, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value::<String>()?;
            if !fast_dim_ok(&k) || k.starts_with('_') || !fast_dim_ok(&v) {
                return Err(decline());
            }
            // A repeated key keeps its last value, as the general path's map does.
            out.insert(k, v);
        }
        Ok(Dims(out))
    }
}

/// An array of metrics, read element by element into the samples.
struct BatchVisitor<'t> {
    tenant: &'t str,
    capacity: usize,
}

impl<'de> serde::de::Visitor<'de> for BatchVisitor<'_> {
    type Value = Vec<Sample>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of metrics")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Sample>, A::Error> {
        let mut out = Vec::with_capacity(self.capacity);
        let seed = MetricSeed {
            tenant: self.tenant,
        };
        while let Some(s) = seq.next_element_seed(seed)? {
            out.push(s);
        }
        Ok(out)
    }
}

/// The quickest path: a scanner for the shape nearly every client sends (known fields,
/// strings without escapes, plain decimal numbers, `value_meta` absent or `null`). It reads
/// nothing the serde path would read differently and declines everything else to it.
struct Scan<'a> {
    s: &'a str,
    i: usize,
    /// The current metric's dimensions, sorted by key once read.
    dims: Vec<(&'a str, &'a str)>,
}

/// Exact powers of ten: a decimal of at most 15 digits is `digits / 10^k` with both operands
/// exact, so the one rounding is the correctly rounded value serde_json also returns.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The index of the first `"`, `\` or control byte: eight bytes at a time, since this scan
/// is most of the scanner's work.
fn string_end(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // High bit set in (at least) the lowest byte of `x` that is below `n`, for `n` <= 0x80;
    // bytes above a hit may be flagged too, so only the lowest one counts.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let hit = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

impl<'a> Scan<'a> {
    fn new(s: &'a str) -> Self {
        Scan {
            s,
            i: 0,
            dims: Vec::new(),
        }
    }

    fn peek(&mut self) -> Option<u8> {
        let b = self.s.as_bytes();
        while let Some(&c) = b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string without escapes or control characters, borrowed from the body.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.s.as_bytes().get(start..)?;
        let n = string_end(rest)?;
        if rest.get(n) != Some(&b'"') {
            return None;
        }
        self.i = start + n + 1;
        self.s.get(start..start + n)
    }

    /// A metric's field name: the usual ones matched in place, others read as strings.
    fn field(&mut self) -> Option<&'a str> {
        self.peek()?;
        let rest = self.s.as_bytes().get(self.i..)?;
        for f in ["name", "dimensions", "timestamp", "value", "value_meta"] {
            let n = f.len();
            if rest.get(1..=n) == Some(f.as_bytes())
                && rest.first() == Some(&b'"')
                && rest.get(n + 1) == Some(&b'"')
            {
                self.i += n + 2;
                return Some(f);
            }
        }
        self.str()
    }

    fn number(&mut self) -> Option<f64> {
        self.peek()?;
        let b = self.s.as_bytes();
        let start = self.i;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        i += usize::from(negative);
        let (mut digits, mut fraction, mut mantissa) = (0usize, 0usize, 0u64);
        let int_start = i;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            digits += 1;
            i += 1;
        }
        // JSON allows one leading zero only, and at least one digit.
        if digits == 0 || (digits > 1 && b.get(int_start) == Some(&b'0')) {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                digits += 1;
                fraction += 1;
                i += 1;
            }
            if fraction == 0 {
                return None;
            }
        }
        if digits > 15 || matches!(b.get(i), Some(b'e' | b'E')) {
            // Exponents and long numbers: serde_json's own conversion, on the number alone.
            while b
                .get(i)
                .is_some_and(|c| matches!(c, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E'))
            {
                i += 1;
            }
            let x = serde_json::from_str::<f64>(self.s.get(start..i)?).ok()?;
            self.i = i;
            return Some(x);
        }
        self.i = i;
        let x = mantissa as f64 / POW10.get(fraction)?;
        Some(if negative { -x } else { x })
    }

    /// Either `,` (more follows) or `close`.
    fn more(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Reads a dimensions object into `self.dims`, sorted by key. A repeated key is declined
    /// (upstream keeps the last value; the serde path does that).
    fn dimensions(&mut self) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.str()?;
            self.eat(b':')?;
            let v = self.str()?;
            if !fast_dim_ok(k) || k.starts_with('_') || !fast_dim_ok(v) {
                return None;
            }
            self.dims.push((k, v));
            if !self.more(b'}')? {
                break;
            }
        }
        self.dims.sort_unstable_by_key(|(k, _)| *k);
        self.dims.windows(2).all(|w| w[0].0 != w[1].0).then_some(())
    }

    /// One metric; `last_name` is the previous valid name of the batch (none before the first
    /// metric), not checked again.
    fn metric(
        &mut self,
        tenant: &str,
        keys: &mut series_keys::Reader<'_>,
        last_name: &mut Option<&'a str>,
    ) -> Option<Sample> {
        self.eat(b'{')?;
        self.dims.clear();
        let mut name = None;
        let mut dimensions = None;
        let mut timestamp = None;
        let mut value = None;
        let mut meta_seen = false;
        // A repeated field is declined: upstream's map keeps the last, the serde path decides.
        fn once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
            slot.replace(v).is_none().then_some(())
        }
        if self.peek()? == b'}' {
            return None;
        }
        loop {
            let key = self.field()?;
            self.eat(b':')?;
            match key {
                "name" => once(&mut name, self.str()?)?,
                "dimensions" => once(&mut dimensions, self.dimensions()?)?,
                "timestamp" => once(&mut timestamp, self.number()?)?,
                "value" => once(&mut value, self.number()?)?,
                // Only `null` here; an object goes to the serde path, which measures it.
                "value_meta" if !meta_seen => {
                    self.peek()?;
                    if !self.s.as_bytes().get(self.i..)?.starts_with(b"null") {
                        return None;
                    }
                    self.i += 4;
                    meta_seen = true;
                }
                _ => return None,
            }
            if !self.more(b'}')? {
                break;
            }
        }
        let (name, timestamp, value) = (name?, timestamp?, value?);
        if *last_name != Some(name) {
            if !fast_name_ok(name) {
                return None;
            }
            *last_name = Some(name);
        }
        if !value.is_finite() {
            return None;
        }
        Some(Sample {
            series: keys.key(&series_keys::Parts {
                tenant,
                name,
                dimensions: &self.dims,
            }),
            timestamp: timestamp_ms(timestamp)?,
            value,
            value_meta: None,
        })
    }

    fn body(mut self, keys: &SeriesKeys, tenant: &str) -> Option<Vec<Sample>> {
        let mut keys = keys.reader();
        let mut last_name = None;
        let out = if self.peek()? == b'[' {
            self.i += 1;
            // Room for points of about 100 bytes, so a typical batch never grows the vector.
            let mut out = Vec::with_capacity((self.s.len() / 100).min(1 << 20));
            if self.peek()? == b']' {
                self.i += 1;
            } else {
                loop {
                    out.push(self.metric(tenant, &mut keys, &mut last_name)?);
                    if !self.more(b']')? {
                        break;
                    }
                }
            }
            out
        } else {
            vec![self.metric(tenant, &mut keys, &mut last_name)?]
        };
        self.peek().is_none().then(|| keys.finish()).map(|()| out)
    }
}

/// The typed fast path: `None` when the body is not the common well-formed shape.
fn parse_fast(keys: &SeriesKeys, tenant: &str, bytes: &[u8]) -> Option<Vec<Sample>> {
    // Valid JSON is valid UTF-8; checking the whole body once spares a check per string.
    let text = std::str::from_utf8(bytes).ok()?;
    if let Some(out) = Scan::new(text).body(keys, tenant) {
        return Some(out);
    }
    parse_serde(tenant, text)
}

/// The serde fast path: every well-typed valid shape, escapes and `value_meta` included.
fn parse_serde(tenant: &str, text: &str) -> Option<Vec<Sample>> {
    use serde::{Deserializer as _, de::DeserializeSeed as _};
    let mut de = serde_json::Deserializer::from_str(text);
    let out = match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            // Room for points of about 100 bytes, so a typical batch never grows the vector.
            let capacity = (text.len() / 100).min(1 << 20);
            de.deserialize_seq(BatchVisitor { tenant, capacity }).ok()?
        }
        Some(b'{') => vec![MetricSeed { tenant }.deserialize(&mut de).ok()?],
        _ => return None,
    };
    de.end().ok()?;
    Some(out)
}

/// Parses and validates a POST body: the typed fast path for well-formed batches, the
/// general path (upstream's exact checks and messages) for everything else. Series keys of
/// the common shape come from `keys`, shared with earlier requests.
///
/// # Errors
/// `Err(None)` when the body is not JSON; `Err(Some(msg))` for an invalid metric.
pub fn parse_body(
    keys: &SeriesKeys,
    tenant: &str,
    bytes: &[u8],
) -> Result<Vec<Sample>, Option<String>> {
    if let Some(samples) = parse_fast(keys, tenant, bytes) {
        return Ok(samples);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|_| None)?;
    body(tenant, &value).map_err(Some)
}

/// [`parse_body`] for a request's body: a large array is scanned in pieces on this thread and
/// whichever cores are idle ([`split`]), with the same result.
///
/// # Errors
/// As [`parse_body`].
pub fn parse_body_shared(
    keys: &Arc<SeriesKeys>,
    tenant: &str,
    bytes: &axum::body::Bytes,
) -> Result<Vec<Sample>, Option<String>> {
    let pieces = split::pieces(bytes.len());
    if pieces > 1
        && let Some(samples) = split::scan(keys, &Arc::from(tenant), bytes, pieces)
    {
        return Ok(samples);
    }
    parse_body(keys, tenant, bytes)
}

/// Validates a POST body (one metric or an array); the first invalid metric fails it all.
pub fn body(tenant: &str, v: &Value) -> Result<Vec<Sample>, String> {
    match v {
        Value::Array(items) => items.iter().map(|m| metric(tenant, m)).collect(),
        one => Ok(vec![metric(tenant, one)?]),
    }
}

fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn py_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// Python's `str()` of a decoded JSON value, for messages that embed it.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => py_float(x),
            _ => n.to_string(),
        },
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Length of Python's `json.dumps(v)`: `", "` and `": "` separators, non-ASCII escaped as
/// `\uXXXX` (two escapes for characters outside the BMP).
fn python_json_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => py_float(x).len(),
            _ => n.to_string().len(),
        },
        Value::String(s) => 2 + s.chars().map(escaped_len).sum::<usize>(),
        Value::Array(a) => {
            2 + a.iter().map(python_json_len).sum::<usize>() + a.len().saturating_sub(1) * 2
        }
        Value::Object(m) => {
            2 + m
                .iter()
                .map(|(k, v)| python_json_len(&Value::String(k.clone())) + 2 + python_json_len(v))
                .sum::<usize>()
                + m.len().saturating_sub(1) * 2
        }
    }
}

fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c if c.is_ascii() => 1,
        c if (c as u32) > 0xffff => 12,
        _ => 6,
    }
}

#[cfg(test)]
mod prop_tests;
mod split;
#[cfg(test)]
mod split_tests;
#[cfg(test)]
mod tests;
