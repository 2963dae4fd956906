//! Generated bodies, valid and not: the byte scanner, the serde fast path and the general path
//! accept the same bodies with the same samples, and every rejection carries the general path's
//! message, wherever in the batch the bad metric stands.

use proptest::prelude::*;
use serde_json::Value;

use super::*;

/// A JSON string literal of `s`, written plainly or with `\u` escapes (which send the body off
/// the byte scanner).
fn literal(s: &str, escaped: bool) -> String {
    if !escaped {
        return Value::String(s.to_string()).to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        let mut buf = [0u16; 2];
        for unit in c.encode_utf16(&mut buf) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out.push('"');
    out
}

/// Texts for names, dimension keys and values: empty, at and past the length limits (in bytes
/// and in characters), restricted characters, a leading underscore, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,6}",
        1 => Just(String::new()),
        1 => Just("_k".to_string()),
        1 => Just("n".repeat(255)),
        1 => Just("n".repeat(256)),
        1 => Just("é".repeat(255)),
        1 => Just("é".repeat(256)),
        2 => ("[a-z]{0,3}", prop::sample::select(vec![
            '<', '>', '=', '{', '}', ',', '"', '\\', ';', '&', '(', ')', ' ', '\n', '\t', 'é', '.',
            '-', '_', ':',
        ]), "[a-z]{0,3}")
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
    ]
}

fn string_value() -> impl Strategy<Value = String> {
    (text(), prop::bool::weighted(0.15)).prop_map(|(s, esc)| literal(&s, esc))
}

/// Any JSON value a client might put where a string or an object belongs.
fn odd_value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "null", "1", "-2.5", "true", "false", "[]", "[\"a\"]", "{}", "\"\"",
    ])
    .prop_map(str::to_string)
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(m, k)| {
            if k == 0 { m.to_string() } else { format!("{}", m as f64 / 10f64.powi(k as i32)) }
        }),
        3 => prop::sample::select(vec![
            "0", "-0", "0.0", "1e3", "1E-3", "-1.5e+2", "1795543748000", "1795543748000.7",
            "253402300799999", "253402300800000", "-1", "1e309", "123456789012345678",
            "0.30000000000000004", "true", "false", "null", "\"1\"", "[]", "{}",
        ])
        .prop_map(str::to_string),
    ]
}

fn dimensions() -> impl Strategy<Value = String> {
    let pair = (
        string_value(),
        prop_oneof![6 => string_value(), 1 => odd_value()],
    )
        .prop_map(|(k, v)| format!("{k}:{v}"));
    prop_oneof![
        8 => prop::collection::vec(pair, 0..4).prop_map(|p| format!("{{{}}}", p.join(","))),
        // A key given twice: the last value counts.
        1 => (string_value(), string_value(), string_value())
            .prop_map(|(k, a, b)| format!("{{{k}:{a},{k}:{b}}}")),
        1 => odd_value(),
    ]
}

fn value_meta() -> impl Strategy<Value = String> {
    let entry = (
        prop_oneof![6 => "[a-z]{1,4}".prop_map(|s| literal(&s, false)), 1 => Just("\"\"".to_string()), 1 => Just(literal(&"m".repeat(256), false))],
        prop_oneof![4 => string_value(), 1 => number(), 1 => Just(literal(&"x".repeat(2100), false))],
    )
        .prop_map(|(k, v)| format!("{k}:{v}"));
    prop_oneof![
        4 => prop::collection::vec(entry, 0..4).prop_map(|e| format!("{{{}}}", e.join(","))),
        1 => (1usize..20).prop_map(|n| {
            let e: Vec<String> = (0..n).map(|i| format!("\"k{i}\":\"v\"")).collect();
            format!("{{{}}}", e.join(","))
        }),
        2 => Just("null".to_string()),
        1 => odd_value(),
    ]
}

/// One metric object: each field usually present, sometimes repeated, in any order, with an
/// unknown field now and then; or, rarely, not an object at all.
fn metric_text() -> impl Strategy<Value = String> {
    let field = |key: &'static str, value: BoxedStrategy<String>, present: f64| {
        prop::option::weighted(present, value).prop_map(move |v| v.map(|v| (key, v)))
    };
    let fields = (
        field("name", string_value().boxed(), 0.95),
        field("value", number().boxed(), 0.95),
        field("timestamp", number().boxed(), 0.95),
        field("dimensions", dimensions().boxed(), 0.7),
        field("value_meta", value_meta().boxed(), 0.3),
        field("extra", odd_value().boxed(), 0.1),
        field("name", string_value().boxed(), 0.03),
        field("value_meta", Just("null".to_string()).boxed(), 0.03),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            [a, b, c, d, e, f, g, h]
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect::<Vec<_>>()
        })
        .prop_shuffle();
    let space = prop::sample::select(vec!["", " ", "\n "]);
    prop_oneof![
        30 => (fields, space).prop_map(|(f, sp)| format!("{{{sp}{}{sp}}}", f.join(&format!("{sp},{sp}")))),
        1 => odd_value(),
    ]
}

fn batch() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => metric_text(),
        3 => prop::collection::vec(metric_text(), 0..5).prop_map(|m| format!("[{}]", m.join(","))),
        // A batch of one repeated metric after a changed first one: the scanner checks a name
        // again only when it changes.
        2 => (metric_text(), metric_text(), 1usize..3).prop_map(|(first, rest, n)| {
            let mut all = vec![first];
            all.extend(std::iter::repeat_n(rest, n));
            format!("[{}]", all.join(","))
        }),
    ]
}

fn general(b: &str) -> Result<Vec<Sample>, Option<String>> {
    serde_json::from_str::<Value>(b)
        .map_err(|_| None)
        .and_then(|v| body("t", &v).map_err(Some))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn every_path_accepts_and_refuses_the_same_bodies(b in batch()) {
        let want = general(&b);
        prop_assert_eq!(parse_body(&SeriesKeys::default(), "t", b.as_bytes()), want.clone(), "{}", b);
        if let Some(scanned) = Scan::new(&b).body(&SeriesKeys::default(), "t") {
            prop_assert_eq!(Ok(scanned), want.clone(), "scanner: {}", b);
        }
        if let Some(typed) = parse_serde("t", &b) {
            prop_assert_eq!(Ok(typed), want, "serde: {}", b);
        }
    }
}

/// The case the generator found first: an empty name leading a batch.
#[test]
fn an_empty_first_name_is_refused_by_every_path() {
    for b in [
        r#"{"name":"","value":1,"timestamp":2}"#,
        r#"[{"name":"","value":1,"timestamp":2},{"name":"","value":1,"timestamp":2}]"#,
    ] {
        assert_eq!(Scan::new(b).body(&SeriesKeys::default(), "t"), None, "{b}");
        assert_eq!(
            parse_body(&SeriesKeys::default(), "t", b.as_bytes()),
            Err(Some("invalid length for metric name: ".to_string()))
        );
    }
}
