//! The validation rules and messages, case by case.

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
        err(big).starts_with("valueMeta name value combinations must be 2048 characters or less")
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
        assert_eq!(
            parse_body(&SeriesKeys::default(), "t", b.as_bytes()),
            general,
            "{b}"
        );
    }
    assert_eq!(parse_body(&SeriesKeys::default(), "t", b"{nope"), Err(None));
}

/// Every tier agrees with the general path, and the scanner takes the common shape.
fn agree(b: &str) {
    let general = serde_json::from_str::<Value>(b)
        .map_err(|_| None)
        .and_then(|v| body("t", &v).map_err(Some));
    assert_eq!(
        parse_body(&SeriesKeys::default(), "t", b.as_bytes()),
        general,
        "{b}"
    );
    if let Some(scanned) = Scan::new(b).body(&SeriesKeys::default(), "t") {
        assert_eq!(Ok(scanned), general, "scanner: {b}");
    }
    if let Some(typed) = parse_serde("t", b) {
        assert_eq!(Ok(typed), general, "serde: {b}");
    }
}

#[test]
fn scanner_agrees_with_general_path() {
    let bodies = [
        " [ { \"name\" : \"a\" ,\n\"value\":\t1 , \"timestamp\" : 2 , \"dimensions\" : { } } ] ",
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"b":"2","a":"1"}}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"k":"1","k":"2"}}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"k":"<","k":"2"}}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"k":"1"},"dimensions":{}}]"#,
        r#"[{"name":"a","name":"b","value":1,"timestamp":2}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"value_meta":null,"value_meta":null}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"value_meta":nul}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"value_meta":nullx}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"value_meta":{"k":"v"}}]"#,
        r#"[{"name":"a\"b","value":1,"timestamp":2}]"#,
        r#"[{"name":"a\u00e9","value":1,"timestamp":2,"dimensions":{"k\u00e9":"v\n"}}]"#,
        "[{\"name\":\"a\tb\",\"value\":1,\"timestamp\":2}]",
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"_k":"v"}}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"k":""}}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"":"v"}}]"#,
        r#"[{"name":"a","value":1,"timestamp":2,"dimensions":{"k":"a;b"}}]"#,
        r#"[{"name":"a(b)","value":1,"timestamp":2}]"#,
        r#"[{"name":"a","value":1,"timestamp":2},{"name":"a","value":1,"timestamp":2}]"#,
        r#"[{"name":"a","value":1,"timestamp":2},{"name":"a b","value":1,"timestamp":2}]"#,
        r#"[{"name":"a","value":1,"timestamp":2},]"#,
        r#"[{"name":"a","value":1,"timestamp":2}] x"#,
        r#"[{"name":"a","value":1,"timestamp":2}]]"#,
        r#"[{"name":"a","value":1,"timestamp":2}"#,
        r#"[{}]"#,
        r#"[[]]"#,
        r#"[null]"#,
        r#" [ ] "#,
        r#"{"name":"a","value":1,"timestamp":2} "#,
        r#"{"name":"a","value":1,"timestamp":2}{}"#,
    ];
    for b in bodies {
        agree(b);
    }
    let long_ascii = "n".repeat(256);
    let long_utf8 = "é".repeat(255);
    let too_long_utf8 = "é".repeat(256);
    for n in [&long_ascii, &long_utf8, &too_long_utf8, &"n".repeat(255)] {
        agree(&format!(r#"{{"name":"{n}","value":1,"timestamp":2}}"#));
        agree(&format!(
            r#"{{"name":"a","value":1,"timestamp":2,"dimensions":{{"{n}":"{n}"}}}}"#
        ));
    }
    let numbers = [
        "0",
        "-0",
        "1",
        "-1",
        "0.5",
        "-0.0",
        "00",
        "01",
        "-01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e3",
        "1E-3",
        "-1.5e+2",
        "42.5",
        "99.9",
        "0.1",
        "0.30000000000000004",
        "123456789012345",
        "1234567890123456",
        "12345678901234567890",
        "1.7976931348623157e308",
        "1e309",
        "9007199254740993",
        "0.000000000000001",
        "1795543748000",
        "1795543748000.7",
        "253402300799999",
        "253402300800000",
        "-1",
        "1-",
        "1.5.5",
        "true",
        "\"1\"",
        "NaN",
    ];
    for x in numbers {
        agree(&format!(r#"{{"name":"a","timestamp":2,"value":{x}}}"#));
        agree(&format!(r#"[{{"name":"a","timestamp":{x},"value":1}}]"#));
    }
    // The word-at-a-time scan finds the first special byte wherever it is.
    for len in 0..40 {
        for special in [b'"', b'\\', b'\n', 0x1f, 0x00] {
            for at in 0..=len {
                let mut b = vec![b'a'; len];
                b.extend_from_slice(&[0xc3, 0xa9, 0x7f, 0x20, 0x5b]);
                b.insert(at, special);
                b.push(b'"');
                let want = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
                assert_eq!(string_end(&b), want, "{b:?}");
            }
        }
    }
    assert_eq!(string_end(b"abcdefghijklmnop"), None);
    // The bench shape is the scanner's.
    assert!(
        Scan::new(&bench_body())
            .body(&SeriesKeys::default(), "t")
            .is_some()
    );
    // Decimals the way clients print them convert exactly as serde_json does.
    for i in 0..20_000u32 {
        let x = f64::from(i) * 0.37 - 3000.0;
        for text in [format!("{x}"), format!("{x:.3}"), format!("{:.1}", x / 7.0)] {
            let b = format!(r#"{{"name":"a","timestamp":2,"value":{text}}}"#);
            let scanned = Scan::new(&b).body(&SeriesKeys::default(), "t");
            assert!(scanned.is_some(), "{b}");
            assert_eq!(scanned, parse_serde("t", &b), "{b}");
        }
    }
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

#[test]
fn shared_keys_read_the_same_as_new_ones() {
    let keys = SeriesKeys::default();
    let bench = bench_body();
    let first = parse_body(&keys, "t", bench.as_bytes());
    assert_eq!(first.as_ref().map(Vec::len), Ok(5000));
    // The second time every key comes from the cache.
    let again = parse_body(&keys, "t", bench.as_bytes());
    assert_eq!(again, first);
    assert!(matches!((&first, &again), (Ok(a), Ok(b)) if Arc::ptr_eq(&a[9].series, &b[9].series)));
    // Python's json.dumps puts spaces after separators; dimensions in another order.
    let spaced = bench.replace(",", ", ").replace(":", ": ").replace(
        r#""hostname": "host-00009", "service": "svc-9""#,
        r#""service": "svc-9", "hostname": "host-00009""#,
    );
    assert!(spaced.contains(r#""service": "svc-9", "hostname""#));
    assert_eq!(parse_body(&keys, "t", spaced.as_bytes()), first);
    agree(&spaced);
    // Another tenant's samples never share a key.
    let other = parse_body(&keys, "u", bench.as_bytes());
    assert!(matches!(other, Ok(v) if v[9].series.tenant == "u"));
}

/// A batch shaped like the benchmark's: 5,000 points, two dimensions.
pub(super) fn bench_body() -> String {
    let mut b = String::from("[");
    for h in 0..5000 {
        if h > 0 {
            b.push(',');
        }
        b.push_str(&format!(
            r#"{{"name":"bench.metric.{}","dimensions":{{"hostname":"host-{h:05}","service":"svc-{}"}},"timestamp":1795543748000,"value":{}}}"#,
            h / 1000,
            h % 10,
            (h * 31 % 1000) as f64 / 10.0
        ));
    }
    b.push(']');
    b
}
