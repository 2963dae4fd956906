//! MANUAL alerts evaluated on Monasca metrics, and the emulator's injected faults.

use super::*;

#[tokio::test]
async fn manual_alerts_are_evaluated_on_monasca_metrics() {
    let s = Sdc::start_in(tempfile::tempdir().unwrap(), |st| {
        st.sysdig
            .alert_tenants
            .insert("Monitor Operations".into(), "ops-project".into());
        st.sysdig.alert_interval = Duration::from_millis(100);
    })
    .await;
    let admin = s.admin();
    let a = s
        .create(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(cpu.used.percent) > 80", "timespan": 60_000_000, "severity": 1}}),
        )
        .await;
    let aid = a["alert"]["id"].as_i64().unwrap();
    post_cpu(&s, &[95.0, 91.0]).await;
    let active = wait_notification(&s, aid, "ACTIVE").await;
    assert_eq!(active["condition"], "avg(cpu.used.percent) > 80");
    assert_eq!(active["severity"], 1);
    assert_eq!(active["entities"][0]["metricValues"][0]["value"], 93.0);
    // Enough low values bring the average under the threshold: OK.
    post_cpu(&s, &[0.0; 20]).await;
    let ok = wait_notification(&s, aid, "OK").await;
    assert!(
        ok["entities"][0]["metricValues"][0]["value"]
            .as_f64()
            .unwrap()
            < 80.0
    );
    let (_, v) = s
        .get("/api/notifications?from=0&to=99999999999999999", &admin)
        .await;
    assert_eq!(v["notifications"].as_array().map(Vec::len), Some(2));
    s.stop().await;
}

/// Posts one `cpu.used.percent` point per value (one host each) to the Monasca API as
/// `ops-project`.
pub(super) async fn post_cpu(s: &Sdc, values: &[f64]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let body: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"name": "cpu.used.percent", "dimensions": {"hostname": format!("h{i}")}, "timestamp": now, "value": v}))
        .collect();
    let r = s
        .http
        .post(format!("{}/v2.0/metrics", s.running.url()))
        .header("X-Auth-Token", "ops-project")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
}

async fn wait_notification(s: &Sdc, alert: i64, state: &str) -> Value {
    for _ in 0..100 {
        let (_, v) = s
            .get(
                &format!("/api/notifications?from=0&to=99999999999999999&state={state}"),
                &s.admin(),
            )
            .await;
        if let Some(n) = v["notifications"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["alert"] == alert).cloned())
        {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {state} notification for alert {alert}");
}

#[tokio::test]
async fn injected_faults_answer_once_per_count_then_stop() {
    let s = Sdc::start().await;
    let admin = s.admin();
    s
        .create(
            "/vigil/sysdig/faults",
            &admin,
            json!({"method": "GET", "path": "/api/alerts/", "status": 503, "count": 2, "retry_after": 1}),
        )
        .await;
    for _ in 0..2 {
        let r = s
            .http
            .get(format!("{}/api/alerts", s.running.url()))
            .header("Authorization", format!("Bearer {}", s.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
    }
    assert_eq!(s.get("/api/alerts", &admin).await.0, 200);
    // Only admins, only 4xx/5xx.
    assert_errors(
        s.post(
            "/vigil/sysdig/faults",
            &admin,
            json!({"path": "/api/alerts", "status": 200}),
        )
        .await,
        400,
        "Bad Request",
        "status",
    );
    let token = s.iam_token("iam-key-viewer").await;
    assert_errors(
        s.post(
            "/vigil/sysdig/faults",
            &iam(&token),
            json!({"path": "/api/alerts", "status": 500}),
        )
        .await,
        403,
        "Forbidden",
        "administrator",
    );
    s.stop().await;
}
