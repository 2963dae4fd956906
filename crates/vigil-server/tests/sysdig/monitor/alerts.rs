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
    let points: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!([{"hostname": format!("h{i}")}, v]))
        .collect();
    post_points(s, &points).await;
}

/// Posts one `cpu.used.percent` point per (host, value) in region `eu`.
async fn post_host_cpu(s: &Sdc, points: &[(String, f64)]) {
    let points: Vec<Value> = points
        .iter()
        .map(|(h, v)| json!([{"hostname": h, "region": "eu"}, v]))
        .collect();
    post_points(s, &points).await;
}

/// Posts one `cpu.used.percent` point, now, per `[dimensions, value]`, as `ops-project`.
async fn post_points(s: &Sdc, points: &[Value]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let body: Vec<Value> = points
        .iter()
        .map(|p| json!({"name": "cpu.used.percent", "dimensions": p[0], "timestamp": now, "value": p[1]}))
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
    wait_notifications(s, alert, state, 1).await.remove(0)
}

/// The notifications of `alert` in `state` once there are `n`, oldest first.
async fn wait_notifications(s: &Sdc, alert: i64, state: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let got = notifications(s, alert, state).await;
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {n} {state} notifications for alert {alert}");
}

async fn notifications(s: &Sdc, alert: i64, state: &str) -> Vec<Value> {
    let (_, v) = s
        .get(
            &format!("/api/notifications?from=0&to=99999999999999999&state={state}"),
            &s.admin(),
        )
        .await;
    let mut of_alert: Vec<Value> = v["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["alert"] == alert)
        .cloned()
        .collect();
    of_alert.reverse();
    of_alert
}

/// The `entity` of each notification's entities.
fn entities(notes: &[Value]) -> Vec<Vec<String>> {
    notes
        .iter()
        .map(|n| {
            n["entities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["entity"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect()
}

async fn sdc_with_alerts() -> Sdc {
    Sdc::start_in(tempfile::tempdir().unwrap(), |st| {
        st.sysdig
            .alert_tenants
            .insert("Monitor Operations".into(), "ops-project".into());
        st.sysdig.alert_interval = Duration::from_millis(100);
    })
    .await
}

fn host(h: &str, v: f64) -> (String, f64) {
    (h.to_string(), v)
}

#[tokio::test]
async fn segmented_alerts_fire_for_the_segments_of_their_filter() {
    let s = sdc_with_alerts().await;
    let admin = s.admin();
    let mut ids = Vec::new();
    for (name, filter, condition) in [
        ("any", "host.hostName in [h0, h1, h2]", "ANY"),
        ("all", "host.hostName in [h0, h1] and region = eu", "ALL"),
    ] {
        let a = s
            .create(
                "/api/alerts",
                &admin,
                json!({"alert": {"name": name, "condition": "avg(timeAvg(cpu.used.percent)) > 80",
                       "segmentBy": ["host.hostName"], "segmentCondition": {"type": condition},
                       "filter": filter, "timespan": 60_000_000}}),
            )
            .await;
        ids.push(a["alert"]["id"].as_i64().unwrap());
    }
    let (any, all) = (ids[0], ids[1]);
    // h3 is over the threshold too, but outside both filters; h2 is in ANY's, under it.
    post_host_cpu(
        &s,
        &[
            host("h0", 95.0),
            host("h1", 91.0),
            host("h2", 10.0),
            host("h3", 99.0),
        ],
    )
    .await;
    wait_notifications(&s, any, "ACTIVE", 2).await;
    let all_active = wait_notification(&s, all, "ACTIVE").await;
    // Rounds after these change nothing.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let active = notifications(&s, any, "ACTIVE").await;
    let mut fired = entities(&active).concat();
    fired.sort();
    assert_eq!(
        fired,
        ["host.hostName = 'h0'", "host.hostName = 'h1'"],
        "{active:?}"
    );
    let values: Vec<f64> = active
        .iter()
        .map(|n| {
            n["entities"][0]["metricValues"][0]["value"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(
        values.contains(&95.0) && values.contains(&91.0),
        "{values:?}"
    );
    assert_eq!(
        active[0]["entities"][0]["metricValues"][0]["groupAggregation"],
        "avg"
    );
    // ALL: one notification for the alert, naming every segment.
    let mut all_segments = entities(std::slice::from_ref(&all_active)).concat();
    all_segments.sort();
    assert_eq!(
        all_segments,
        ["host.hostName = 'h0'", "host.hostName = 'h1'"]
    );
    assert_eq!(notifications(&s, all, "ACTIVE").await.len(), 1);

    // h0 falls under the threshold: its segment resolves, h1's stays active; ALL resolves.
    post_host_cpu(&s, &[host("h0", 0.0)]).await;
    let ok = wait_notification(&s, any, "OK").await;
    assert_eq!(
        entities(std::slice::from_ref(&ok)),
        [["host.hostName = 'h0'"]]
    );
    assert_eq!(ok["entities"][0]["metricValues"][0]["value"], 47.5);
    wait_notification(&s, all, "OK").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(notifications(&s, any, "OK").await.len(), 1);
    assert_eq!(notifications(&s, any, "ACTIVE").await.len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn promql_alerts_fire_where_the_query_crosses_the_threshold() {
    let s = sdc_with_alerts().await;
    let admin = s.admin();
    let query = "cpu:used:percent > 80";
    let mut ids = Vec::new();
    for (name, condition, timespan) in [
        // Parses, but returns a range vector: skipped by the evaluator, with one warning.
        ("broken", "cpu:used:percent[5m]", 0),
        ("at once", query, 0),
        ("after an hour", query, 3_600_000_000_i64),
    ] {
        let a = s
            .create(
                "/api/alerts",
                &admin,
                json!({"alert": {"name": name, "type": "PROMETHEUS", "condition": condition, "timespan": timespan}}),
            )
            .await;
        ids.push(a["alert"]["id"].as_i64().unwrap());
    }
    let (broken, at_once, after_an_hour) = (ids[0], ids[1], ids[2]);
    post_host_cpu(&s, &[host("h0", 95.0), host("h1", 50.0)]).await;
    // The same query through the Prometheus API: h0 only.
    let (status, v) = s
        .get(
            &format!("/prometheus/api/v1/query?query={}", url_encode(query)),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{v}");
    assert_eq!(result[0]["metric"]["hostname"], "h0");
    let active = wait_notification(&s, at_once, "ACTIVE").await;
    assert_eq!(
        entities(std::slice::from_ref(&active)),
        [["hostname = 'h0' and region = 'eu'"]]
    );
    assert_eq!(active["entities"][0]["metricValues"][0]["value"], 95.0);
    assert_eq!(active["condition"], query);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(notifications(&s, at_once, "ACTIVE").await.len(), 1);
    // Pending for an hour: nothing yet; the broken one never fires.
    assert!(notifications(&s, after_an_hour, "ACTIVE").await.is_empty());
    assert!(notifications(&s, broken, "ACTIVE").await.is_empty());

    // h0's latest value is under the threshold: the query no longer returns it, resolved.
    post_host_cpu(&s, &[host("h0", 10.0)]).await;
    let ok = wait_notification(&s, at_once, "OK").await;
    assert_eq!(
        entities(std::slice::from_ref(&ok)),
        [["hostname = 'h0' and region = 'eu'"]]
    );
    let (_, v) = s
        .get(
            &format!("/prometheus/api/v1/query?query={}", url_encode(query)),
            &admin,
        )
        .await;
    assert_eq!(v["data"]["result"], json!([]), "{v}");
    s.stop().await;
}

fn url_encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
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
