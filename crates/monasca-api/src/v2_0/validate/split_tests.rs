//! A body scanned in pieces reads exactly as scanned whole, or not at all.

use std::sync::Arc;

use axum::body::Bytes;

use super::{SeriesKeys, parse_body, parse_body_shared, split, tests::bench_body};

fn split_scan(keys: &Arc<SeriesKeys>, body: &str, pieces: usize) -> Option<Vec<super::Sample>> {
    split::scan(keys, &Arc::from("t"), &Bytes::from(body.to_owned()), pieces)
}

#[test]
fn pieces_read_as_the_whole_body() {
    let body = bench_body();
    let spaced = body.replace(",", " ,\n ").replace(":", ": ");
    for text in [&body, &spaced] {
        let whole = parse_body(&SeriesKeys::default(), "t", text.as_bytes());
        assert_eq!(whole.as_ref().map(Vec::len), Ok(5000));
        for pieces in [2, 3, 7, 16, 64] {
            let keys = Arc::new(SeriesKeys::default());
            assert_eq!(split::cuts(text.as_bytes(), pieces).len(), pieces);
            assert_eq!(
                split_scan(&keys, text, pieces),
                whole.clone().ok(),
                "{pieces}"
            );
        }
    }
}

#[test]
fn keys_found_by_any_piece_are_shared_afterwards() {
    let keys = Arc::new(SeriesKeys::default());
    let body = bench_body();
    let first = split_scan(&keys, &body, 4).unwrap_or_default();
    let again = parse_body(&keys, "t", body.as_bytes()).unwrap_or_default();
    assert_eq!(first.len(), 5000);
    for i in [0, 2500, 4999] {
        assert!(Arc::ptr_eq(&first[i].series, &again[i].series), "{i}");
    }
}

#[test]
fn a_cut_that_is_not_an_element_boundary_is_found_out() {
    // `,{` inside a string, past the middle: the only cut lands there. The fast scanner
    // declines such a string anyway; the split must not make up elements from it.
    let body = format!(
        r#"[{{"name":"a","dimensions":{{"k":"{},{{zz"}},"timestamp":1,"value":1}},{{"name":"c","timestamp":1,"value":2}}]"#,
        "y".repeat(200)
    );
    let body = body.as_str();
    let cuts = split::cuts(body.as_bytes(), 2);
    assert_eq!(cuts.len(), 2);
    assert!(body[cuts[1]..].starts_with("{zz"), "{cuts:?}");
    assert_eq!(split_scan(&Arc::new(SeriesKeys::default()), body, 2), None);
    let keys = Arc::new(SeriesKeys::default());
    assert_eq!(
        parse_body_shared(&keys, "t", &Bytes::from(body.to_owned())),
        parse_body(&keys, "t", body.as_bytes())
    );
}

#[test]
fn broken_or_declined_bodies_give_the_sequential_answer() {
    let good = bench_body();
    let cases = [
        format!("{good}]"),
        format!("{good} x"),
        good.replacen(r#""value":"#, r#""value":"x""#, 1),
        good.replace("}]", "},]"),
        good.replacen(r#"{"name":"bench.metric.3""#, r#"{"name":"","#, 1),
        good.replacen(r#""value":0.0"#, r#""value":0.0,"value_meta":{"a":"b"}"#, 1),
        good[..good.len() - 1].to_string(),
        format!("{}\u{e9}]", &good[..good.len() - 1]),
    ];
    for body in &cases {
        let want = parse_body(&SeriesKeys::default(), "t", body.as_bytes());
        let keys = Arc::new(SeriesKeys::default());
        let got = split_scan(&keys, body, 4);
        if let Some(samples) = got {
            assert_eq!(Ok(samples), want);
        }
        assert_eq!(
            parse_body_shared(&keys, "t", &Bytes::from(body.clone())),
            want
        );
    }
    // Not UTF-8 in one piece: declined there, refused by the whole-body check.
    let mut bytes = good.into_bytes();
    let mid = bytes.len() / 2 + 40;
    let at = mid + bytes[mid..].iter().position(|c| *c == b'-').unwrap_or(0);
    bytes[at] = 0xff;
    let keys = Arc::new(SeriesKeys::default());
    assert_eq!(
        split::scan(&keys, &Arc::from("t"), &Bytes::from(bytes.clone()), 4),
        None
    );
    assert_eq!(
        parse_body_shared(&keys, "t", &Bytes::from(bytes)),
        Err(None)
    );
}
