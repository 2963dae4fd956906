//! Metric validation with monasca-common's rules and messages, so clients that match on the
//! error text keep working.

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use metric_store::{Sample, SeriesKey};
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
        series: SeriesKey {
            tenant: tenant.to_string(),
            name,
            dimensions,
        },
        timestamp,
        value,
        value_meta,
    })
}

/// A metric as the fast path reads it: only the common, well-typed shape. Anything else
/// (booleans as numbers, `null` dimensions, wrong types) fails here and is decided by the
/// general path, which also writes the error message.
#[derive(serde::Deserialize)]
struct FastMetric<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "present_map")]
    dimensions: Option<RawDims<'a>>,
    timestamp: f64,
    value: f64,
    #[serde(default, borrow)]
    value_meta: Option<&'a serde_json::value::RawValue>,
}

/// Dimensions as they appear in the body, borrowed where no unescaping was needed.
type RawDims<'a> = BTreeMap<Cow<'a, str>, Cow<'a, str>>;

/// A present `dimensions` must be an object: `null` is an error upstream, not "no dimensions".
fn present_map<'de, D>(d: D) -> Result<Option<RawDims<'de>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    <RawDims<'de> as serde::Deserialize>::deserialize(d).map(Some)
}

impl FastMetric<'_> {
    fn into_sample(self, tenant: &str) -> Option<Sample> {
        check_name(&self.name).ok()?;
        if !self.value.is_finite() {
            return None;
        }
        let timestamp = timestamp_ms(self.timestamp)?;
        let mut dimensions = BTreeMap::new();
        for (k, v) in self.dimensions.unwrap_or_default() {
            dimension_key(&k).ok()?;
            check_dimension_value(&k, &v).ok()?;
            dimensions.insert(k.into_owned(), v.into_owned());
        }
        let value_meta = match self.value_meta {
            None => None,
            Some(raw) => value_meta(&serde_json::from_str(raw.get()).ok()?).ok()?,
        };
        Some(Sample {
            series: SeriesKey {
                tenant: tenant.to_string(),
                name: self.name.into_owned(),
                dimensions,
            },
            timestamp,
            value: self.value,
            value_meta,
        })
    }
}

/// Parses and validates a POST body: the typed fast path for well-formed batches, the
/// general path (upstream's exact checks and messages) for everything else.
///
/// # Errors
/// `Err(None)` when the body is not JSON; `Err(Some(msg))` for an invalid metric.
pub fn parse_body(tenant: &str, bytes: &[u8]) -> Result<Vec<Sample>, Option<String>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let fast = match first {
        Some(b'[') => serde_json::from_slice::<Vec<FastMetric<'_>>>(bytes)
            .ok()
            .and_then(|ms| ms.into_iter().map(|m| m.into_sample(tenant)).collect()),
        Some(b'{') => serde_json::from_slice::<FastMetric<'_>>(bytes)
            .ok()
            .and_then(|m| m.into_sample(tenant))
            .map(|s| vec![s]),
        _ => None,
    };
    if let Some(samples) = fast {
        return Ok(samples);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|_| None)?;
    body(tenant, &value).map_err(Some)
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
mod tests {
    use serde_json::json;

    use super::*;

    fn err(v: Value) -> String {
        body("t", &v).err().unwrap_or_default()
    }

    #[test]
    fn messages_match_upstream() {
        assert_eq!(err(json!({})), "'name'");
        assert_eq!(
            err(json!({"name": "a", "timestamp": 1})),
            "\"'value': for metric a\""
        );
        assert_eq!(
            err(json!({"name": "a b", "value": 1, "timestamp": 1})),
            "invalid characters in metric name: a b"
        );
        assert_eq!(
            err(json!({"name": "", "value": 1, "timestamp": 1})),
            "invalid length for metric name: "
        );
        assert_eq!(
            err(json!({"name": 5, "value": 1, "timestamp": 1})),
            "invalid metric name type: 5 is not a string type "
        );
        assert_eq!(
            err(json!({"name": "a", "value": "1", "timestamp": 1})),
            "invalid value type: 1 is not a number type for metric: for metric a"
        );
        assert_eq!(
            err(json!({"name": "a", "value": 1, "timestamp": 1, "dimensions": {"_k": "v"}})),
            "invalid characters in dimension key _k: for metric a"
        );
        assert_eq!(
            err(json!({"name": "a", "value": 1, "timestamp": 1, "dimensions": {"k": ""}})),
            "invalid length (0) for dimension value  from key k: for metric a"
        );
        assert_eq!(
            err(json!({"name": "a", "value": 1, "timestamp": 1, "dimensions": {"k": 3}})),
            "invalid dimension value type: 3 must be a string (from key k): for metric a"
        );
        assert_eq!(err(json!(null)), "'NoneType' object is not subscriptable");
        assert_eq!(err(json!(3)), "'int' object is not subscriptable");
    }

    #[test]
    fn value_meta_limits() {
        let ok =
            json!({"name": "a", "value": 1, "timestamp": 1, "value_meta": {"k": "x".repeat(2039)}});
        assert!(body("t", &ok).is_ok());
        let big =
            json!({"name": "a", "value": 1, "timestamp": 1, "value_meta": {"k": "x".repeat(2040)}});
        assert!(
            err(big)
                .starts_with("valueMeta name value combinations must be 2048 characters or less")
        );
        let many: Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
        let m = json!({"name": "a", "value": 1, "timestamp": 1, "value_meta": many});
        assert!(err(m).starts_with("Too many valueMeta entries 17, limit is 16"));
        assert_eq!(
            python_json_len(&json!({"a": "é", "b": [1, 2.5]})),
            r#"{"a": "\u00e9", "b": [1, 2.5]}"#.len()
        );
    }

    #[test]
    fn fast_and_general_paths_agree() {
        let bodies = [
            r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"k":"v"},"value_meta":{"m":"x"}}]"#,
            r#"{"name":"a","value":1.5,"timestamp":2.7}"#,
            r#"{"name":"a","value":true,"timestamp":2}"#,
            r#"{"name":"a","value":1,"timestamp":2,"dimensions":null}"#,
            r#"{"name":"a","value":1,"timestamp":2,"dimensions":{"k":1}}"#,
            r#"{"name":"a","value":1,"timestamp":2,"value_meta":null}"#,
            r#"{"name":"a","value":1,"timestamp":2,"value_meta":{}}"#,
            r#"{"name":"a b","value":1,"timestamp":2}"#,
            r#"[{"name":"a","value":1,"timestamp":2},{"name":"b","timestamp":2}]"#,
            r#"{"name":"a\u0041","value":1,"timestamp":-1}"#,
            r#"[]"#,
            r#"{"name":"a","value":1,"timestamp":2,"extra":[1,2]}"#,
        ];
        for b in bodies {
            let general = serde_json::from_str::<Value>(b)
                .map_err(|_| None)
                .and_then(|v| body("t", &v).map_err(Some));
            assert_eq!(parse_body("t", b.as_bytes()), general, "{b}");
        }
        assert_eq!(parse_body("t", b"{nope"), Err(None));
    }

    #[test]
    fn accepts_what_upstream_accepts() {
        let s = body(
            "t",
            &json!([{"name": "a", "value": true, "timestamp": 1.5e12, "value_meta": null}]),
        );
        let s = s.unwrap_or_default();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].value, 1.0);
        assert_eq!(s[0].timestamp, 1_500_000_000_000);
        assert!(body("t", &json!([])).is_ok_and(|v| v.is_empty()));
        assert!(err(json!({"name": "a", "value": 1, "timestamp": -1})).contains("out of range"));
    }
}
