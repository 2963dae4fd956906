//! Every kind of bad input gets the Monasca error shape and a 4xx, and writes nothing.

use monasca::metrics::ListMetrics;
use reqwest::Method;
use serde_json::Value;

use crate::common::{Server, raw};

fn post_cases() -> Vec<(&'static str, String, u16, &'static str)> {
    let long = "x".repeat(256);
    vec![
        (
            "malformed JSON",
            "{\"name\":".into(),
            400,
            "Request body is not valid JSON",
        ),
        (
            "empty body",
            String::new(),
            400,
            "Request body is not valid JSON",
        ),
        (
            "NaN literal",
            r#"{"name":"a","value":NaN,"timestamp":1}"#.into(),
            400,
            "not valid JSON",
        ),
        (
            "huge number",
            r#"{"name":"a","value":1e400,"timestamp":1}"#.into(),
            400,
            "not valid JSON",
        ),
        (
            "missing name",
            r#"{"value":1,"timestamp":1}"#.into(),
            422,
            "'name'",
        ),
        (
            "missing value",
            r#"{"name":"a","timestamp":1}"#.into(),
            422,
            "'value': for metric a",
        ),
        (
            "missing timestamp",
            r#"{"name":"a","value":1}"#.into(),
            422,
            "'timestamp': for metric a",
        ),
        (
            "value as string",
            r#"{"name":"a","value":"1","timestamp":1}"#.into(),
            422,
            "invalid value type",
        ),
        (
            "timestamp as string",
            r#"{"name":"a","value":1,"timestamp":"now"}"#.into(),
            422,
            "invalid timestamp type",
        ),
        (
            "negative timestamp",
            r#"{"name":"a","value":1,"timestamp":-5}"#.into(),
            422,
            "out of range",
        ),
        (
            "far future timestamp",
            r#"{"name":"a","value":1,"timestamp":1e20}"#.into(),
            422,
            "out of range",
        ),
        (
            "long name",
            format!(r#"{{"name":"{long}","value":1,"timestamp":1}}"#),
            422,
            "invalid length for metric name",
        ),
        (
            "forbidden char in name",
            r#"{"name":"a{b","value":1,"timestamp":1}"#.into(),
            422,
            "invalid characters in metric name",
        ),
        (
            "long dimension key",
            format!(r#"{{"name":"a","value":1,"timestamp":1,"dimensions":{{"{long}":"v"}}}}"#),
            422,
            "invalid length (256) for dimension key",
        ),
        (
            "empty dimension value",
            r#"{"name":"a","value":1,"timestamp":1,"dimensions":{"k":""}}"#.into(),
            422,
            "invalid length (0) for dimension value",
        ),
        (
            "dimension value not a string",
            r#"{"name":"a","value":1,"timestamp":1,"dimensions":{"k":1}}"#.into(),
            422,
            "must be a string",
        ),
        (
            "dimensions not an object",
            r#"{"name":"a","value":1,"timestamp":1,"dimensions":[1]}"#.into(),
            422,
            "'list' object has no attribute 'items'",
        ),
        (
            "value_meta too big",
            format!(
                r#"{{"name":"a","value":1,"timestamp":1,"value_meta":{{"k":"{}"}}}}"#,
                "v".repeat(2100)
            ),
            422,
            "2048 characters or less",
        ),
        (
            "body is a number",
            "3".into(),
            422,
            "'int' object is not subscriptable",
        ),
    ]
}

#[tokio::test]
async fn invalid_metrics_are_rejected_whole() {
    let server = Server::start().await;
    let url = format!("{}/v2.0/metrics", server.url());
    for (what, body, status, needle) in post_cases() {
        // Each bad metric rides in a batch behind a good one: nothing may be stored.
        let batch = if body.starts_with('{') && status == 422 {
            format!(r#"[{{"name":"good","value":1,"timestamp":1}},{body}]"#)
        } else {
            body
        };
        let (s, b) = raw(
            Method::POST,
            &url,
            Some("t"),
            Some("application/json"),
            batch,
        )
        .await;
        assert_eq!(s, status, "{what}: {b}");
        let title = b["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "{what}: no title in {b}");
        let desc = b["description"].as_str().unwrap_or_default();
        assert!(desc.contains(needle), "{what}: {desc:?} lacks {needle:?}");
    }
    let (s, b) = raw(Method::POST, &url, Some("t"), Some("text/plain"), "{}").await;
    assert_eq!(
        (s, b["description"].as_str()),
        (400, Some("Bad content type. Must be application/json"))
    );
    let big = format!(
        r#"[{}]"#,
        vec![r#"{"name":"a","value":1,"timestamp":1}"#; 40_000].join(",")
    );
    let (s, b) = raw(Method::POST, &url, Some("t"), Some("application/json"), big).await;
    assert_eq!(
        (s, b["title"].as_str()),
        (413, Some("Request Entity Too Large"))
    );

    let c = server.client("t");
    assert!(
        c.page(&ListMetrics::new())
            .await
            .unwrap()
            .elements
            .is_empty(),
        "a rejected batch left data behind"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_query_parameters_get_upstream_statuses() {
    let server = Server::start().await;
    let base = format!("{}/v2.0/metrics", server.url());
    let cases: Vec<(&str, u16, &str)> = vec![
        (
            "/measurements?start_time=2026-01-01T00:00:00Z",
            422,
            "Missing name",
        ),
        ("/measurements?name=a", 422, "Missing start time"),
        (
            "/measurements?name=a&start_time=yesterday",
            422,
            "Unable to parse date string 'yesterday'",
        ),
        (
            "/measurements?name=a&start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z",
            400,
            "start_time must be before end_time",
        ),
        (
            "/measurements?name=a&start_time=2026-01-01T00:00:00Z&offset=zz_top",
            422,
            "Invalid offset",
        ),
        (
            "/statistics?name=a&start_time=2026-01-01T00:00:00Z",
            422,
            "Missing statistics",
        ),
        (
            "/statistics?name=a&start_time=2026-01-01T00:00:00Z&statistics=median",
            422,
            "Invalid statistic",
        ),
        (
            "/statistics?name=a&start_time=2026-01-01T00:00:00Z&statistics=avg&period=x",
            422,
            "Period must be a valid integer",
        ),
        (
            "/statistics?name=a&start_time=2026-01-01T00:00:00Z&statistics=avg&period=-1",
            422,
            "Period must be a positive integer",
        ),
        (
            "?limit=abc",
            422,
            "Limit parameter must be a positive integer",
        ),
        ("?offset=abc", 422, "Invalid offset"),
        ("?name=a%3Cb", 422, "invalid characters in metric name"),
        ("?dimensions=_k:v", 422, "may not start with '_'"),
        (
            "?dimensions=k:a%7C%7Cb",
            422,
            "invalid length (0) for dimension value",
        ),
        ("/dimensions/names/values", 422, "Missing dimension_name"),
        (
            "/names?limit=-3",
            422,
            "Limit parameter must be a positive integer",
        ),
    ];
    for (path, status, needle) in cases {
        let (s, b) = raw(Method::GET, &format!("{base}{path}"), Some("t"), None, "").await;
        assert_eq!(s, status, "{path}: {b}");
        let desc = b
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(desc.contains(needle), "{path}: {desc:?} lacks {needle:?}");
    }
    server.stop().await;
}
