//! The Monasca metrics API end to end through the Rust client.

use futures::TryStreamExt;
use monasca::{
    Endpoint, ToRequest,
    metrics::{
        CreateMetrics, ListDimensionNames, ListDimensionValues, ListMeasurements, ListMetricNames,
        ListMetrics, ListStatistics,
    },
};
use reqwest::Method;
use serde_json::json;

use crate::common::{Server, T0, metric, raw};

fn iso(ms: i64) -> String {
    monasca::time::format_seconds(ms)
}

/// 2 names x 3 hosts x 10 points, one minute apart.
async fn seed(server: &Server, tenant: &str) {
    let mut batch = Vec::new();
    for name in ["cpu.idle_perc", "mem.free_mb"] {
        for (i, host) in ["web1", "web2", "db1"].iter().enumerate() {
            let svc = if i == 2 { "storage" } else { "compute" };
            for p in 0..10 {
                batch.push(metric(
                    name,
                    &[("hostname", host), ("service", svc)],
                    T0 + p * 60_000,
                    p as f64 + 100.0 * i as f64,
                ));
            }
        }
    }
    let client = server.client(tenant);
    client
        .send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
}

/// Pages of a big `group_by` answer come from groups kept between requests; a series added
/// between two pages shows up on the next one.
#[tokio::test]
async fn grouped_pages_see_series_added_between_them() {
    let server = Server::start().await;
    let c = server.client("acme");
    let hosts: Vec<String> = (0..1500).map(|h| format!("h{h:04}")).collect();
    let batch: Vec<_> = hosts
        .iter()
        .map(|h| metric("cpu", &[("hostname", h), ("service", "s")], T0, 1.0))
        .collect();
    c.send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
    let op = ListStatistics::new("cpu", "count", iso(T0).as_str())
        .group_by("hostname")
        .limit(1000);
    let first = c.page(&op).await.unwrap();
    assert_eq!(first.elements.len(), 1000);
    let next = first.next.clone().expect("a second page");
    // The same second page twice: the second read comes from the kept groups.
    for _ in 0..2 {
        let second: monasca::Page<monasca::types::Statistics> =
            c.get_page(next.clone()).await.unwrap();
        assert_eq!(second.elements.len(), 500);
        assert_eq!(second.elements[499].dimensions["hostname"], "h1499");
    }
    let late = metric("cpu", &[("hostname", "h9999")], T0, 2.0);
    c.send(&CreateMetrics::batch(&[late]).unwrap())
        .await
        .unwrap();
    let second: monasca::Page<monasca::types::Statistics> = c.get_page(next).await.unwrap();
    assert_eq!(second.elements.len(), 501);
    assert_eq!(second.elements[500].dimensions["hostname"], "h9999");
    // Another tenant grouping the same way sees none of it.
    let other = server.client("other").page(&op).await.unwrap();
    assert!(other.elements.is_empty());
}

/// Grouping statistics by a dimension some series lack: those series first, merged into one
/// element without dimensions, then one element a value in value order, values beyond ASCII
/// coming back as they were sent.
#[tokio::test]
async fn statistics_grouped_by_a_dimension_some_series_lack() {
    let server = Server::start().await;
    let c = server.client("acme");
    let odd = "west/é 東";
    let batch = vec![
        metric("cpu", &[("hostname", "a")], T0, 1.0),
        metric("cpu", &[("hostname", "b")], T0, 2.0),
        metric("cpu", &[("hostname", "c"), ("zone", odd)], T0, 4.0),
        metric("cpu", &[("hostname", "d"), ("zone", "east")], T0, 8.0),
        metric(
            "cpu",
            &[("hostname", "e"), ("zone", "east")],
            T0 + 60_000,
            16.0,
        ),
    ];
    c.send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
    let op = ListStatistics::new("cpu", "count,sum", iso(T0).as_str())
        .group_by("zone")
        .period(3600);
    let page = c.page(&op).await.unwrap();
    let got: Vec<_> = page
        .elements
        .iter()
        .map(|e| {
            let dims: Vec<_> = e.dimensions.iter().collect();
            (e.id.as_str(), format!("{dims:?}"), e.statistics.clone())
        })
        .collect();
    let row = |count: u64, sum: f64| vec![vec![json!(iso(T0)), json!(count), json!(sum)]];
    assert_eq!(
        got,
        [
            ("0", "[]".to_string(), row(2, 3.0)),
            ("1", r#"[("zone", "east")]"#.to_string(), row(2, 24.0)),
            ("2", format!("{:?}", [("zone", odd)]), row(1, 4.0)),
        ]
    );
    assert!(page.elements.iter().all(|e| e.name == "cpu"));
    assert_eq!(page.elements[1].columns, ["timestamp", "count", "sum"]);
    server.stop().await;
}

#[tokio::test]
async fn metrics_round_trip_through_every_endpoint() {
    let server = Server::start().await;
    seed(&server, "acme").await;
    let c = server.client("acme");
    let start = iso(T0);

    // List: ordered by name then dimensions, string ids.
    let page = c.page(&ListMetrics::new()).await.unwrap();
    assert_eq!(page.elements.len(), 6);
    assert!(page.next.is_none());
    assert_eq!(page.elements[0].id, "0");
    assert_eq!(page.elements[0].name, "cpu.idle_perc");
    assert_eq!(page.elements[0].dimensions["hostname"], "db1");
    let filtered = c
        .page(
            &ListMetrics::new()
                .name("mem.free_mb")
                .dimension("service", Some("compute")),
        )
        .await
        .unwrap();
    assert_eq!(filtered.elements.len(), 2);
    let any_of = c
        .page(&ListMetrics::new().dimension("hostname", Some("web1|db1")))
        .await
        .unwrap();
    assert_eq!(any_of.elements.len(), 4);
    let late = c
        .page(&ListMetrics::new().start_time(iso(T0 + 3_600_000)))
        .await
        .unwrap();
    assert!(late.elements.is_empty());

    // Paging follows links until every element has been seen exactly once.
    let op = ListMetrics::new().limit(4);
    let first = c.page(&op).await.unwrap();
    assert_eq!(first.elements.len(), 4);
    assert!(first.next.as_ref().unwrap().as_str().contains("offset=3"));
    let all: Vec<_> = c.stream(&op).try_collect().await.unwrap();
    let ids: Vec<_> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["0", "1", "2", "3", "4", "5"]);

    // Measurements of one series.
    let op =
        ListMeasurements::new("cpu.idle_perc", start.as_str()).dimension("hostname", Some("web2"));
    let page = c.page(&op).await.unwrap();
    assert_eq!(page.elements.len(), 1);
    let m = &page.elements[0];
    assert_eq!(m.columns, ["timestamp", "value", "value_meta"]);
    assert_eq!(m.measurements.len(), 10);
    assert_eq!(m.measurements[0].0, "2026-01-01T00:00:00.000Z");
    assert_eq!(m.measurements[9].1, 109.0);
    assert_eq!(m.dimensions["service"], "compute");
    // end_time is exclusive.
    let op = ListMeasurements::new("cpu.idle_perc", start.as_str())
        .dimension("hostname", Some("web2"))
        .end_time(iso(T0 + 120_000));
    assert_eq!(c.page(&op).await.unwrap().elements[0].measurements.len(), 2);
    // Paging measurements: 10 points, 3 a page.
    let op = ListMeasurements::new("cpu.idle_perc", start.as_str())
        .dimension("hostname", Some("web2"))
        .limit(3);
    let rows: Vec<_> = c.stream(&op).try_collect().await.unwrap();
    let n: usize = rows.iter().map(|m| m.measurements.len()).sum();
    assert_eq!(n, 10);
    // Several series without merge: 409.
    let err = c
        .page(&ListMeasurements::new("cpu.idle_perc", start.as_str()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.to_string().contains("MultipleMetrics"), "{err}");
    // Merged: one element, all 30 points in time order, the query's dimensions.
    let op = ListMeasurements::new("cpu.idle_perc", start.as_str())
        .dimension("service", Some("compute"))
        .merge_metrics(true);
    let page = c.page(&op).await.unwrap();
    assert_eq!(page.elements.len(), 1);
    assert_eq!(page.elements[0].measurements.len(), 20);
    assert_eq!(page.elements[0].dimensions["service"], "compute");
    assert_eq!(page.elements[0].dimensions.len(), 1);
    // Grouped by hostname: one element per host.
    let op = ListMeasurements::new("cpu.idle_perc", start.as_str()).group_by("hostname");
    let page = c.page(&op).await.unwrap();
    assert_eq!(page.elements.len(), 3);
    assert_eq!(page.elements[1].id, "1");
    assert_eq!(page.elements[1].dimensions.len(), 1);
    // Grouped pages resume in the right group.
    let op = ListMeasurements::new("cpu.idle_perc", start.as_str())
        .group_by("*")
        .limit(7);
    let all: Vec<_> = c.stream(&op).try_collect().await.unwrap();
    let total: usize = all.iter().map(|m| m.measurements.len()).sum();
    assert_eq!(total, 30);

    // Statistics: epoch-aligned 300 s buckets.
    let op = ListStatistics::new("cpu.idle_perc", "avg,min,max,count,sum", start.as_str())
        .dimension("hostname", Some("web1"));
    let page = c.page(&op).await.unwrap();
    let s = &page.elements[0];
    assert_eq!(
        s.columns,
        ["timestamp", "avg", "min", "max", "count", "sum"]
    );
    assert_eq!(s.statistics.len(), 2);
    assert_eq!(
        s.statistics[0],
        vec![
            json!("2026-01-01T00:00:00Z"),
            json!(2.0),
            json!(0.0),
            json!(4.0),
            json!(5),
            json!(10.0)
        ]
    );
    assert_eq!(s.statistics[1][0], json!("2026-01-01T00:05:00Z"));
    let op = ListStatistics::new("cpu.idle_perc", "count", start.as_str())
        .merge_metrics(true)
        .period(3600);
    let page = c.page(&op).await.unwrap();
    assert_eq!(
        page.elements[0].statistics,
        vec![vec![json!("2026-01-01T00:00:00Z"), json!(30)]]
    );
    let op = ListStatistics::new("cpu.idle_perc", "max", start.as_str())
        .group_by("service")
        .period(60)
        .limit(4);
    let all: Vec<_> = c.stream(&op).try_collect().await.unwrap();
    let rows: usize = all.iter().map(|s| s.statistics.len()).sum();
    assert_eq!(rows, 20, "2 services x 10 minutes, 4 rows a page");

    // Names and dimensions.
    let names: Vec<_> = c
        .stream(&ListMetricNames::new().limit(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["cpu.idle_perc", "mem.free_mb"]
    );
    let page = c
        .page(&ListMetricNames::new().dimension("hostname", Some("nope")))
        .await
        .unwrap();
    assert!(page.elements.is_empty());
    let dn = c
        .page(&ListDimensionNames::new().metric_name("cpu.idle_perc"))
        .await
        .unwrap();
    assert_eq!(
        dn.elements
            .iter()
            .map(|d| d.dimension_name.as_str())
            .collect::<Vec<_>>(),
        ["hostname", "service"]
    );
    let dv: Vec<_> = c
        .stream(&ListDimensionValues::new("hostname").limit(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        dv.iter()
            .map(|d| d.dimension_value.as_str())
            .collect::<Vec<_>>(),
        ["db1", "web1", "web2"]
    );

    // Dimension names and values honour a time range.
    let later = iso(T0 + 3_600_000);
    let dv = c
        .page(&ListDimensionValues::new("hostname").start_time(later.as_str()))
        .await
        .unwrap();
    assert!(dv.elements.is_empty());
    let dn = c
        .page(&ListDimensionNames::new().end_time(iso(T0 + 1000)))
        .await
        .unwrap();
    assert_eq!(dn.elements.len(), 2);

    server.stop().await;
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let server = Server::start().await;
    seed(&server, "acme").await;
    let other = server.client("globex");
    assert!(
        other
            .page(&ListMetrics::new())
            .await
            .unwrap()
            .elements
            .is_empty()
    );
    assert!(
        other
            .page(&ListMetricNames::new())
            .await
            .unwrap()
            .elements
            .is_empty()
    );
    assert!(
        other
            .page(&ListDimensionValues::new("hostname"))
            .await
            .unwrap()
            .elements
            .is_empty()
    );
    let op = ListMeasurements::new("cpu.idle_perc", iso(T0)).merge_metrics(true);
    assert!(other.page(&op).await.unwrap().elements.is_empty());
    // tenant_id is honoured only for the delegate role, which a token-as-tenant never has.
    let op = ListMetrics::new().tenant_id("acme");
    assert!(other.page(&op).await.unwrap().elements.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn versions_health_and_auth() {
    let server = Server::start().await;
    let url = server.url();
    let (s, body) = raw(Method::GET, &format!("{url}/"), Some("t"), None, "").await;
    assert_eq!(s, 200);
    assert_eq!(body["elements"][0]["id"], "v2.0");
    assert_eq!(
        body["elements"][0]["links"][0]["href"],
        format!("{url}/v2.0")
    );
    let (s, body) = raw(Method::GET, &format!("{url}/v2.0"), Some("t"), None, "").await;
    assert_eq!((s, body["status"].as_str()), (200, Some("CURRENT")));
    let (s, body) = raw(Method::GET, &format!("{url}/v1.0"), Some("t"), None, "").await;
    assert_eq!((s, body["title"].as_str()), (422, Some("Invalid version")));
    let (s, body) = raw(Method::GET, &format!("{url}/v2.0/metrics"), None, None, "").await;
    assert_eq!((s, body["error"]["code"].as_i64()), (401, Some(401)));
    // A trailing slash is ignored, as falcon does (the real CLI sends one for state history).
    let (s, body) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics/"),
        Some("t"),
        None,
        "",
    )
    .await;
    assert_eq!(
        (s, body["elements"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (s, _) = raw(
        Method::GET,
        &format!("{url}/v2.0/alarms/state-history/"),
        Some("t"),
        None,
        "",
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = raw(Method::GET, &format!("{url}/healthcheck"), None, None, "").await;
    assert_eq!(s, 200);
    let (s, _) = raw(Method::HEAD, &format!("{url}/healthcheck"), None, None, "").await;
    assert_eq!(s, 204);
    let (s, body) = raw(
        Method::DELETE,
        &format!("{url}/v2.0/metrics"),
        Some("t"),
        None,
        "",
    )
    .await;
    assert_eq!(
        (s, body["title"].as_str()),
        (405, Some("405 Method Not Allowed"))
    );
    let (s, body) = raw(
        Method::GET,
        &format!("{url}/v2.0/nothing/here"),
        Some("t"),
        None,
        "",
    )
    .await;
    assert_eq!((s, body["title"].as_str()), (404, Some("404 Not Found")));
    server.stop().await;
}

#[tokio::test]
async fn requests_build_the_query_strings_the_server_reads() {
    // The same operation, built without I/O, names exactly the URL the client sends.
    let base = "http://127.0.0.1:8070/v2.0".parse().unwrap();
    let op = ListStatistics::new("cpu", "avg,max", "2026-01-01T00:00:00Z")
        .dimension("hostname", Some("a|b"))
        .dimension("service", None)
        .period(60)
        .group_by("*")
        .limit(5);
    assert_eq!(
        op.url(&base).unwrap().as_str(),
        "http://127.0.0.1:8070/v2.0/metrics/statistics?name=cpu&dimensions=hostname%3Aa%7Cb%2Cservice&start_time=2026-01-01T00%3A00%3A00Z&period=60&statistics=avg%2Cmax&limit=5&group_by=*"
    );
    let req = CreateMetrics::one(&metric("m", &[], 5, 1.0))
        .unwrap()
        .to_request(&base, "tok")
        .unwrap();
    assert_eq!(req.method(), "POST");
    assert_eq!(req.headers()["x-auth-token"], "tok");
    assert_eq!(
        String::from_utf8(req.body().clone()).unwrap(),
        r#"{"name":"m","timestamp":5.0,"value":1.0}"#
    );
}

#[tokio::test]
async fn prometheus_metrics_count_requests_and_points() {
    let server = Server::start().await;
    let url = server.url();
    let client = server.client("tenant-a");
    let batch: Vec<_> = (0..3)
        .map(|i| metric("cpu", &[("host", "a")], T0 + i * 1000, i as f64))
        .collect();
    client
        .send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
    let _ = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics/x-unknown-id/y"),
        Some("t"),
        None,
        "",
    )
    .await;

    let resp = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains("vigil_ingested_points_total 3"), "{text}");
    assert!(
        text.contains(
            r#"vigil_http_requests_total{method="POST",route="/v2.0/metrics",status="204"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"vigil_http_request_duration_seconds_count{method="POST",route="/v2.0/metrics"} 1"#
        ),
        "{text}"
    );
    // The embedded store's own figures, read at scrape time (ClickHouse keeps its own).
    if crate::kit::embedded_store() {
        assert!(text.contains("vigil_store_series 1\n"), "{text}");
        assert!(text.contains("vigil_store_head_points 3\n"), "{text}");
        // Running totals are counters; at least one fsync covered the acknowledged batch.
        assert!(
            text.contains("# TYPE vigil_store_wal_fsyncs counter\n"),
            "{text}"
        );
        assert!(text.contains("vigil_store_wal_fsyncs_total "), "{text}");
        assert!(!text.contains("vigil_store_wal_fsyncs_total 0\n"), "{text}");
        assert!(
            text.contains("# TYPE vigil_store_seals counter\n"),
            "{text}"
        );
    }
    // Process figures, and the version serving.
    assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");
    assert!(text.contains("\nprocess_open_fds "), "{text}");
    assert!(
        text.contains(&format!(
            "vigil_build_info{{version=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
    // Raw paths never become labels.
    assert!(!text.contains("x-unknown-id"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}
