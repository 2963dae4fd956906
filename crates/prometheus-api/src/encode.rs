//! Query results written straight to JSON text: a day of a thousand series is over a million
//! `[time, "value"]` pairs, which as a `serde_json::Value` tree would take several times the
//! answer's size in small allocations before a byte is written.

use std::io::Write as _;

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use promql_engine::{Annotations, Labels, QueryValue, ValueText};

/// A JSON body already written.
pub struct JsonText(pub Vec<u8>);

impl IntoResponse for JsonText {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

/// `{"status":"success","data":{"resultType":…,"result":…}}` and the query's warnings and
/// infos, as the `Value` rendering wrote it (the same keys in the same order).
pub fn success(value: &QueryValue, notes: &Annotations) -> JsonText {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(br#"{"status":"success","data":{"resultType":"#);
    match value {
        QueryValue::Scalar(t, v) => {
            out.extend_from_slice(br#""scalar","result":"#);
            pair(&mut out, *t, *v);
        }
        QueryValue::String(t, s) => {
            out.extend_from_slice(br#""string","result":["#);
            time(&mut out, *t);
            out.push(b',');
            string(&mut out, s);
            out.push(b']');
        }
        QueryValue::Vector(samples) => {
            out.extend_from_slice(br#""vector","result":["#);
            for (i, (labels, t, v)) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"metric":"#);
                metric(&mut out, labels);
                out.extend_from_slice(br#","value":"#);
                pair(&mut out, *t, *v);
                out.push(b'}');
            }
            out.push(b']');
        }
        QueryValue::Matrix(series) => {
            out.extend_from_slice(br#""matrix","result":["#);
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"metric":"#);
                metric(&mut out, &s.labels);
                out.extend_from_slice(br#","values":["#);
                for (j, (t, v)) in s.points.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    pair(&mut out, *t, *v);
                }
                out.extend_from_slice(b"]}");
            }
            out.push(b']');
        }
    }
    out.push(b'}');
    // Prometheus 3's `warnings` and `infos`, left out when empty.
    for (field, list) in [("warnings", &notes.warnings), ("infos", &notes.infos)] {
        if !list.is_empty() {
            let _ = write!(out, ",\"{field}\":");
            let _ = serde_json::to_writer(&mut out, list);
        }
    }
    out.push(b'}');
    JsonText(out)
}

/// `{"status":"success","data":[...]}` of label names or values.
pub fn success_strings(items: &[String]) -> JsonText {
    let mut out = Vec::with_capacity(40 + items.iter().map(|s| s.len() + 3).sum::<usize>());
    out.extend_from_slice(br#"{"status":"success","data":["#);
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(&mut out, s);
    }
    out.extend_from_slice(b"]}");
    JsonText(out)
}

fn string(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn metric(out: &mut Vec<u8>, labels: &Labels) {
    out.push(b'{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
}

/// Unix seconds, with milliseconds only when there are some.
fn time(out: &mut Vec<u8>, ms: i64) {
    if ms % 1000 == 0 {
        let _ = write!(out, "{}", ms / 1000);
    } else {
        let _ = serde_json::to_writer(&mut *out, &(ms as f64 / 1000.0));
    }
}

/// `[time, "value"]`, the value as [`promql_engine::format_value`] writes it.
fn pair(out: &mut Vec<u8>, t: i64, v: f64) {
    out.push(b'[');
    time(out, t);
    let _ = write!(out, ",\"{}\"]", ValueText(v));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use promql_engine::{Series, format_value};
    use serde_json::{Value, json};

    use super::*;

    /// The text is what the `Value` rendering gave, key order included.
    #[test]
    fn same_text_as_the_value_rendering() {
        let labels: Arc<Labels> = Arc::new(
            [("__name__", "a:b"), ("host", "q\"uote\\"), ("z", "é\n")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let values = [
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            1e21,
            -0.0,
        ];
        let series = Series {
            labels: labels.clone(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (1_700_000_000_000 + i as i64 * 1500, *v))
                .collect(),
        };
        let time = |ms: i64| {
            if ms % 1000 == 0 {
                json!(ms / 1000)
            } else {
                json!(ms as f64 / 1000.0)
            }
        };
        let metric: serde_json::Map<String, Value> =
            labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let expected = json!({"status": "success", "data": {"resultType": "matrix", "result": [{
            "metric": metric,
            "values": series.points.iter().map(|(t, v)| json!([time(*t), format_value(*v)])).collect::<Vec<_>>(),
        }]}});
        let JsonText(text) = success(&QueryValue::Matrix(vec![series]), &Annotations::default());
        assert_eq!(String::from_utf8(text).unwrap(), expected.to_string());
        let notes = Annotations {
            warnings: vec!["w \"1\"".into()],
            infos: vec!["i".into()],
        };
        let JsonText(text) = success(&QueryValue::Vector(vec![(labels, 1_500, 2.5)]), &notes);
        let expected = json!({"status": "success", "data": {"resultType": "vector", "result": [{
            "metric": metric, "value": [1.5, "2.5"]}]}, "warnings": ["w \"1\""], "infos": ["i"]});
        assert_eq!(String::from_utf8(text).unwrap(), expected.to_string());
        let JsonText(text) = success_strings(&["a\"b".into(), "c".into()]);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&text).unwrap(),
            serde_json::json!({"status": "success", "data": ["a\"b", "c"]})
        );
        let JsonText(text) = success(&QueryValue::Scalar(2_000, 7.0), &Annotations::default());
        assert_eq!(
            String::from_utf8(text).unwrap(),
            r#"{"status":"success","data":{"resultType":"scalar","result":[2,"7"]}}"#
        );
        let JsonText(text) = success(
            &QueryValue::String(2_000, "x\"y".into()),
            &Annotations::default(),
        );
        assert_eq!(
            String::from_utf8(text).unwrap(),
            r#"{"status":"success","data":{"resultType":"string","result":[2,"x\"y"]}}"#
        );
    }
}
