//! `vigil serve --metric-store clickhouse`: two real server processes over one ClickHouse
//! database, each with its own data directory. Runs when `VIGIL_TEST_CLICKHOUSE_URL` names a
//! ClickHouse (`tests/clickhouse/run.sh`, from `.ci/run`, starts a throwaway one).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use monasca::{
    Client,
    metrics::{CreateMetrics, ListMeasurements, ListMetrics, ListStatistics},
};
use serde_json::json;

use crate::common::{T0, metric};

struct Node {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn node(clickhouse: &str, database: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir.path())
    .args([
        "--metric-store",
        "clickhouse",
        "--clickhouse-url",
        clickhouse,
    ]);
    if let Ok(cluster) = std::env::var("VIGIL_TEST_CLICKHOUSE_CLUSTER") {
        cmd.args(["--clickhouse-cluster", &cluster]);
    }
    let child = cmd
        .env("VIGIL_CLICKHOUSE_DATABASE", database)
        .env("VIGIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http
            .get(format!("{url}/healthcheck"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(Instant::now() < deadline, "vigil did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Node {
        child,
        url,
        _dir: dir,
    }
}

fn client(url: &str, tenant: &str) -> Client {
    Client::builder(format!("{url}/v2.0"))
        .token(tenant)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn two_nodes_over_one_clickhouse_share_measurements() {
    let Ok(clickhouse) = std::env::var("VIGIL_TEST_CLICKHOUSE_URL") else {
        eprintln!(
            "not run: VIGIL_TEST_CLICKHOUSE_URL is not set (tests/clickhouse/run.sh sets it)"
        );
        return;
    };
    let database = format!("vigil_nodes_{}", uuid::Uuid::new_v4().simple());
    let a = node(&clickhouse, &database).await;
    let mut b = node(&clickhouse, &database).await;

    // Posted to A, read from B right after the 204.
    let batch: Vec<_> = (0..10)
        .flat_map(|p| {
            ["web1", "web2"].map(|h| {
                metric(
                    "cpu.idle_perc",
                    &[("hostname", h), ("service", "compute")],
                    T0 + p * 60_000,
                    p as f64,
                )
            })
        })
        .collect();
    let on_a = client(&a.url, "acme");
    on_a.send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
    let on_b = client(&b.url, "acme");
    let listed = on_b.page(&ListMetrics::new()).await.unwrap();
    assert_eq!(listed.elements.len(), 2);
    let start = monasca::time::format_seconds(T0);
    let op =
        ListMeasurements::new("cpu.idle_perc", start.as_str()).dimension("hostname", Some("web2"));
    let m = on_b.page(&op).await.unwrap();
    assert_eq!(m.elements[0].measurements.len(), 10);
    let op = ListStatistics::new("cpu.idle_perc", "avg,count", start.as_str())
        .merge_metrics(true)
        .period(300);
    let s = on_b.page(&op).await.unwrap();
    assert_eq!(
        s.elements[0].statistics,
        vec![
            vec![json!("2026-01-01T00:00:00Z"), json!(2.0), json!(10)],
            vec![json!("2026-01-01T00:05:00Z"), json!(7.0), json!(10)],
        ]
    );
    // Another tenant on either node sees none of it.
    for url in [&a.url, &b.url] {
        let other = client(url, "other")
            .page(&ListMetrics::new())
            .await
            .unwrap();
        assert!(other.elements.is_empty());
    }

    // B dies mid-flight; A still has everything B acknowledged.
    let late = metric("late", &[("i", "1")], T0, 1.0);
    on_b.send(&CreateMetrics::batch(&[late]).unwrap())
        .await
        .unwrap();
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    let names = on_a.page(&ListMetrics::new().name("late")).await.unwrap();
    assert_eq!(names.elements.len(), 1);
}

/// ClickHouse stopped under a running server: posts and reads are answered 503 in falcon's
/// shape and `/healthcheck` says the metrics database is down; restarted: the same server
/// accepts and serves again by itself, and what it acknowledged before is there.
#[tokio::test]
async fn a_clickhouse_outage_is_a_503_and_the_server_recovers() {
    if std::env::var_os("VIGIL_TEST_CLICKHOUSE_URL").is_none() {
        eprintln!(
            "not run: VIGIL_TEST_CLICKHOUSE_URL is not set (tests/clickhouse/run.sh sets it)"
        );
        return;
    }
    // Its own ClickHouse, to stop: not the one the rest of the suite shares.
    let mut clickhouse =
        tokio::task::spawn_blocking(metric_store_clickhouse::testkit::TestServer::start)
            .await
            .unwrap()
            .unwrap();
    let server = crate::kit::TestServer::start_with(|s| {
        s.metric_store = vigil_server::config::MetricStoreKind::ClickHouse;
        s.clickhouse.urls = vec![clickhouse.url.clone()];
        s.clickhouse.database = "outage".into();
        s.clickhouse.cluster = None;
    })
    .await;
    let url = server.url();
    let post = |v: f64| {
        let body =
            serde_json::to_vec(&metric("m", &[("h", "a")], T0 + v as i64 * 1000, v)).unwrap();
        let url = format!("{url}/v2.0/metrics");
        async move {
            crate::common::raw(
                reqwest::Method::POST,
                &url,
                Some("acme"),
                Some("application/json"),
                body,
            )
            .await
        }
    };
    let health = || async {
        reqwest::get(format!("{}/healthcheck", server.url()))
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(post(1.0).await.0, 204);

    clickhouse.kill();
    let (status, body) = post(2.0).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["title"], "Service unavailable", "{body}");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internals: {body}"
    );
    let listed = server.monasca("acme").page(&ListMetrics::new()).await;
    assert_eq!(listed.unwrap_err().status(), Some(503));
    assert_eq!(health().await, 503);

    let clickhouse = tokio::task::spawn_blocking(move || {
        clickhouse.restart().unwrap();
        clickhouse
    })
    .await
    .unwrap();
    // Nothing restarts the server: it notices by itself within seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    while health().await != 200 {
        assert!(
            Instant::now() < deadline,
            "still unhealthy after ClickHouse came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(post(3.0).await.0, 204);
    let op = ListMeasurements::new("m", monasca::time::format_seconds(T0).as_str());
    let page = server.monasca("acme").page(&op).await.unwrap();
    let values: Vec<f64> = page.elements[0].measurements.iter().map(|m| m.1).collect();
    assert_eq!(values, [1.0, 3.0]);
    drop(server);
    drop(clickhouse);
}
