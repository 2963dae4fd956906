//! Acknowledged writes survive `kill -9` and graceful shutdown; the real binary is used.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use monasca::{
    Client,
    metrics::{CreateMetrics, ListMeasurements, ListMetrics},
};

use crate::common::{T0, metric};

struct Proc {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn spawn(dir: &std::path::Path) -> Proc {
    spawn_with(dir, &[]).await
}

async fn spawn_with(dir: &std::path::Path, extra: &[&str]) -> Proc {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .args(extra)
        .env("VIGIL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    loop {
        if http.get(format!("{url}/healthcheck")).send().await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Proc { child, url }
}

fn client(url: &str) -> Client {
    Client::builder(format!("{url}/v2.0"))
        .token("crash")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn count_points(c: &Client, hosts: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for h in 0..hosts {
        let op = ListMeasurements::new("crash.test", "2025-12-31T00:00:00Z")
            .dimension("hostname", Some(&format!("h{h}")));
        let page = c.page(&op).await.unwrap();
        out.push(
            page.elements
                .first()
                .map(|e| e.measurements.iter().map(|m| m.0.clone()).collect())
                .unwrap_or_default(),
        );
    }
    out
}

#[tokio::test]
async fn acknowledged_points_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    const WRITERS: usize = 4;
    for round in 0..3u64 {
        let mut p = spawn(dir.path()).await;
        let c = client(&p.url);
        // Writers post batches until the server dies, recording what was acknowledged.
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..10_000i64 {
                    let ts = T0 + (round as i64) * 100_000_000 + i * 1000;
                    let batch: Vec<_> = (0..5)
                        .map(|k| {
                            metric(
                                "crash.test",
                                &[("hostname", &format!("h{w}"))],
                                ts + k,
                                i as f64,
                            )
                        })
                        .collect();
                    match c.send(&CreateMetrics::batch(&batch).unwrap()).await {
                        Ok(()) => acked.push(ts),
                        Err(_) => break,
                    }
                }
                acked
            }));
        }
        tokio::time::sleep(Duration::from_millis(150 + 100 * round)).await;
        p.child.kill().unwrap(); // SIGKILL
        p.child.wait().unwrap();
        let mut acked = Vec::new();
        for t in tasks {
            acked.push(t.await.unwrap());
        }
        assert!(
            acked.iter().any(|a| !a.is_empty()),
            "nothing was written before the kill"
        );

        let p2 = spawn(dir.path()).await;
        let c = client(&p2.url);
        let stored = count_points(&c, WRITERS).await;
        for (w, acks) in acked.iter().enumerate() {
            let have: std::collections::BTreeSet<&String> = stored[w].iter().collect();
            assert_eq!(have.len(), stored[w].len(), "duplicates after recovery");
            for ts in acks {
                for k in 0..5 {
                    let want = monasca::time::format_millis(ts + k);
                    assert!(
                        have.contains(&want),
                        "round {round}: acknowledged point {want} of h{w} lost"
                    );
                }
            }
        }
        let mut p2 = p2;
        p2.child.kill().unwrap();
        p2.child.wait().unwrap();
    }
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path()).await;
    let c = client(&p.url);
    let batch: Vec<_> = (0..100)
        .map(|i| metric("term.test", &[("i", &i.to_string())], T0, 1.0))
        .collect();
    c.send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = p.child.wait().unwrap();
    assert!(exit.success(), "vigil exited with {exit}");
    let p2 = spawn(dir.path()).await;
    let page = client(&p2.url).page(&ListMetrics::new()).await.unwrap();
    assert_eq!(page.elements.len(), 100);
    let mut p2 = p2;
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
}

/// One process per data directory: a second server and `vigil compact` are refused while a
/// server runs; offline, `vigil compact` leaves one block per partition and every point.
#[tokio::test]
async fn data_dir_is_locked_and_compact_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path()).await;
    let c = client(&p.url);
    for round in 0..3 {
        let batch: Vec<_> = (0..50)
            .map(|i| {
                metric(
                    "lock.test",
                    &[("i", &i.to_string())],
                    T0 + round * 60_000,
                    1.0,
                )
            })
            .collect();
        c.send(&CreateMetrics::batch(&batch).unwrap())
            .await
            .unwrap();
    }
    let second = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success());
    assert!(err.contains("in use by another vigil process"), "{err}");
    let busy = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["compact", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use"));

    let status = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(p.child.wait().unwrap().success());
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["compact", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(": 150 points;"), "{text}");

    let mut p2 = spawn(dir.path()).await;
    let c2 = client(&p2.url);
    let page = c2.page(&ListMetrics::new()).await.unwrap();
    assert_eq!(page.elements.len(), 50);
    let op = ListMeasurements::new("lock.test", "2025-12-31T00:00:00Z").dimension("i", Some("7"));
    let page = c2.page(&op).await.unwrap();
    assert_eq!(page.elements[0].measurements.len(), 3);
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
}

/// `Running::start` returns once the server serves, or with the reason it cannot: a second
/// server on a data directory in use is refused at start, not at stop.
#[tokio::test]
async fn a_second_server_on_the_same_data_dir_fails_to_start() {
    let first = crate::common::Server::start().await;
    let settings = crate::kit::settings(first.dir.path());
    let err = match vigil_server::app::Running::start(settings).await {
        Ok(_) => panic!("a second server started on a data directory in use"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("in use by another vigil process"), "{err}");
    // The first one is unaffected.
    let c = first.client("acme");
    c.send(&CreateMetrics::batch(&[metric("a", &[], T0, 1.0)]).unwrap())
        .await
        .unwrap();
    first.stop().await;
}

/// A transition committed before `kill -9` is delivered after the restart: its delivery was
/// queued in the transition's own transaction.
#[tokio::test]
async fn a_notification_queued_before_kill_9_is_delivered_after_restart() {
    use monasca::{
        alarms::CreateAlarmDefinition,
        notification_methods::{CreateNotificationMethod, ListDeliveries},
        types::{AlarmDefinitionRequest, NotificationMethodRequest},
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigil.toml");
    std::fs::write(
        &config,
        // A short lease: the kill may land while a retry is claimed (in flight), and such a
        // delivery is only tried again once its lease has run out (60 s by default).
        "[notifications]\nbackoff_base_ms = 100\nbackoff_max_ms = 200\ntimeout_ms = 500\nlease_s = 2\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let config = config.to_str().unwrap().to_string();
    // The receiver's port, with nobody listening yet: every attempt is refused.
    let port = free_port();
    let mut p = spawn_with(&data, &["--config", &config]).await;
    let c = client(&p.url);
    let hook = c
        .send(&CreateNotificationMethod(NotificationMethodRequest {
            name: "later".into(),
            kind: "WEBHOOK".into(),
            address: format!("http://127.0.0.1:{port}/hook"),
            period: None,
        }))
        .await
        .unwrap()
        .id;
    c.send(&CreateAlarmDefinition(AlarmDefinitionRequest {
        name: "crash alarm".into(),
        expression: "max(crash.cpu) > 1".into(),
        alarm_actions: Some(vec![hook.clone()]),
        ..Default::default()
    }))
    .await
    .unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    c.send(&CreateMetrics::batch(&[metric("crash.cpu", &[], now, 5.0)]).unwrap())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempts = c
            .send(&ListDeliveries {
                id: hook.clone(),
                limit: None,
            })
            .await
            .unwrap()
            .elements;
        if attempts.iter().any(|a| a.status == "RETRYING") {
            break;
        }
        assert!(Instant::now() < deadline, "no failed attempt: {attempts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p.child.kill().unwrap(); // SIGKILL
    p.child.wait().unwrap();

    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |axum::Json(v): axum::Json<serde_json::Value>| async move {
                sink.lock().unwrap().push(v);
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let receiver = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut p2 = spawn_with(&data, &["--config", &config]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while got.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "not delivered after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(got.lock().unwrap()[0]["alarm_name"], "crash alarm");
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
    receiver.abort();
}
