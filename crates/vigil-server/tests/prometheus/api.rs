//! Metrics posted through the Monasca API, read back through `/api/v1/…` (Monasca tokens) and
//! `/prometheus/api/v1/…` (Sysdig tokens).

use monasca::metrics::CreateMetrics;
use serde_json::{Value, json};

use crate::kit::{T0, TestServer, metric, sysdig_creds, with_sysdig_creds};

const MIN: i64 = 60_000;

/// `cpu.idle_perc` of web1 (0..9) and web2 (100..109), one point a minute from T0, for
/// `acme`; the same names with other values for `other`.
async fn seed(server: &TestServer) {
    for (tenant, base) in [("acme", 0.0), ("other", 1000.0)] {
        let mut batch = Vec::new();
        for (i, host) in ["web1", "web2"].iter().enumerate() {
            for p in 0..10 {
                batch.push(metric(
                    "cpu.idle_perc",
                    &[("hostname", host), ("service", "compute")],
                    T0 + p * MIN,
                    base + p as f64 + 100.0 * i as f64,
                ));
            }
        }
        server
            .monasca(tenant)
            .send(&CreateMetrics::batch(&batch).unwrap())
            .await
            .unwrap();
    }
}

fn secs(ms: i64) -> String {
    format!("{}", ms / 1000)
}

async fn get(server: &TestServer, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", server.url()));
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn query(q: &str, extra: &str) -> String {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    format!("/api/v1/query?query={q}{extra}")
}

#[tokio::test]
async fn instant_and_range_queries_read_what_monasca_stored() {
    let server = TestServer::start_with(|_| {}).await;
    seed(&server).await;
    let at = format!("&time={}", secs(T0 + 9 * MIN));
    let (status, v) = get(&server, &query("cpu:idle_perc", &at), Some("acme")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "vector");
    let mut result = v["data"]["result"].as_array().unwrap().clone();
    result.sort_by_key(|r| r["metric"]["hostname"].as_str().unwrap().to_string());
    assert_eq!(
        result,
        [
            json!({"metric": {"__name__": "cpu:idle_perc", "hostname": "web1", "service": "compute"},
                   "value": [(T0 + 9 * MIN) / 1000, "9"]}),
            json!({"metric": {"__name__": "cpu:idle_perc", "hostname": "web2", "service": "compute"},
                   "value": [(T0 + 9 * MIN) / 1000, "109"]}),
        ]
    );
    // Each tenant sees its own data only.
    let (_, v) = get(&server, &query("sum(cpu:idle_perc)", &at), Some("other")).await;
    assert_eq!(v["data"]["result"][0]["value"][1], "2118");
    let (_, v) = get(&server, &query("sum(cpu:idle_perc)", &at), Some("nobody")).await;
    assert_eq!(v["data"]["result"], json!([]));
    assert!(
        v.get("warnings").is_none() && v.get("infos").is_none(),
        "{v}"
    );
    // Prometheus 3's annotations: `rate` of a name not ending like a counter's, a quantile
    // out of range.
    let (_, v) = get(
        &server,
        &query("quantile(2, rate(cpu:idle_perc[5m]))", &at),
        Some("acme"),
    )
    .await;
    assert_eq!(
        v["infos"],
        json!([
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"cpu:idle_perc\" (1:18)"
        ])
    );
    assert_eq!(
        v["warnings"],
        json!(["PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)"])
    );

    // A form-encoded POST with a bearer token.
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "query",
            "max_over_time(cpu:idle_perc{hostname=\"web1\"}[2m])",
        )
        .append_pair("start", &secs(T0 + 3 * MIN))
        .append_pair("end", &secs(T0 + 9 * MIN))
        .append_pair("step", "3m")
        .finish();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/query_range", server.url()))
        .bearer_auth("acme")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["data"]["resultType"], "matrix");
    assert_eq!(
        v["data"]["result"],
        json!([{"metric": {"hostname": "web1", "service": "compute"},
                "values": [[(T0 + 3 * MIN) / 1000, "3"], [(T0 + 6 * MIN) / 1000, "6"], [(T0 + 9 * MIN) / 1000, "9"]]}])
    );
    let (_, v) = get(
        &server,
        &format!(
            "/api/v1/query_range?query=time()&start={}&end={}&step=30",
            secs(T0),
            secs(T0 + MIN)
        ),
        Some("acme"),
    )
    .await;
    assert_eq!(
        v["data"]["result"][0]["values"].as_array().map(Vec::len),
        Some(3)
    );
    let (_, v) = get(&server, &query("1 + 1", "&time=100.5"), Some("acme")).await;
    assert_eq!(
        v["data"],
        json!({"resultType": "scalar", "result": [100.5, "2"]})
    );
    server.running.stop().await.unwrap();
}

#[tokio::test]
async fn series_labels_and_label_values() {
    let server = TestServer::start_with(|_| {}).await;
    seed(&server).await;
    let window = format!("&start={}&end={}", secs(T0), secs(T0 + 10 * MIN));
    let (status, v) = get(
        &server,
        &format!("/api/v1/series?match[]=cpu:idle_perc{{hostname=\"web2\"}}{window}"),
        Some("acme"),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["data"],
        json!([{"__name__": "cpu:idle_perc", "hostname": "web2", "service": "compute"}])
    );
    let (_, v) = get(&server, "/api/v1/labels", Some("acme")).await;
    assert_eq!(v["data"], json!(["__name__", "hostname", "service"]));
    let (_, v) = get(&server, "/api/v1/label/hostname/values", Some("acme")).await;
    assert_eq!(v["data"], json!(["web1", "web2"]));
    let (_, v) = get(&server, "/api/v1/label/__name__/values", Some("acme")).await;
    assert_eq!(v["data"], json!(["cpu:idle_perc"]));
    let (_, v) = get(&server, "/api/v1/metadata", Some("acme")).await;
    assert_eq!(
        v["data"],
        json!({"cpu:idle_perc": [{"type": "unknown", "help": "", "unit": ""}]})
    );
    let (_, v) = get(&server, "/api/v1/metadata?metric=nope", Some("acme")).await;
    assert_eq!(v["data"], json!({}));
    let (_, v) = get(
        &server,
        "/api/v1/format_query?query=sum(rate(x%5B5m%5D))by(a)",
        Some("acme"),
    )
    .await;
    assert_eq!(v["data"], "sum by (a) (rate(x[5m]))");
    let (status, v) = get(&server, "/api/v1/status/buildinfo", Some("acme")).await;
    assert_eq!(status, 200);
    assert!(v["data"]["version"].is_string());
    server.running.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_gets_prometheus_errors() {
    let server = TestServer::start_with(|_| {}).await;
    for (path, status, kind) in [
        (query("sum(", ""), 400, "bad_data"),
        (query("rate(cpu:idle_perc)", ""), 400, "bad_data"),
        (query("x", "&time=soon"), 400, "bad_data"),
        ("/api/v1/query".to_string(), 400, "bad_data"),
        (
            "/api/v1/query_range?query=1&start=0&end=10&step=0".into(),
            400,
            "bad_data",
        ),
        (
            "/api/v1/query_range?query=1&start=10&end=0&step=1".into(),
            400,
            "bad_data",
        ),
        (
            "/api/v1/query_range?query=1&start=0&end=100000&step=1".into(),
            400,
            "bad_data",
        ),
        (
            "/api/v1/query_range?query=x[5m]&start=0&end=10&step=1".into(),
            400,
            "bad_data",
        ),
        ("/api/v1/series".into(), 400, "bad_data"),
        ("/api/v1/label/a-b/values".into(), 400, "bad_data"),
        // Two series on the right match the same (empty) `on()` group.
        (
            query(
                r#"vector(1) + on() (vector(1) or label_replace(vector(2), "a", "c", "", ""))"#,
                "",
            ),
            422,
            "execution",
        ),
    ] {
        let (got, v) = get(&server, &path, Some("acme")).await;
        assert_eq!(got, status, "{path}: {v}");
        assert_eq!(v["status"], "error", "{path}");
        assert_eq!(v["errorType"], kind, "{path}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}");
    }
    // Bad ranges name the parameter, as Prometheus's errors do.
    let (_, v) = get(
        &server,
        "/api/v1/query_range?query=1&start=10&end=0&step=1",
        Some("acme"),
    )
    .await;
    assert_eq!(
        v["error"],
        "invalid parameter \"end\": end timestamp must not be before start time"
    );
    let (_, v) = get(
        &server,
        "/api/v1/query_range?query=1&start=0&end=10&step=0",
        Some("acme"),
    )
    .await;
    assert_eq!(
        v["error"],
        "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"
    );
    // Syntax errors name the parameter and, where it can be told, the position.
    let (_, v) = get(&server, &query("cpu{a=\"b\"} bar", ""), Some("acme")).await;
    assert_eq!(
        v["error"],
        "invalid parameter \"query\": 1:12: parse error: unexpected identifier \"bar\""
    );
    let (_, v) = get(&server, "/api/v1/series?match[]=x%20y", Some("acme")).await;
    assert_eq!(
        v["error"],
        "invalid parameter \"match[]\": 1:3: parse error: unexpected identifier \"y\""
    );
    let (_, v) = get(
        &server,
        "/api/v1/label/a/values?match[]=x%20y",
        Some("acme"),
    )
    .await;
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid parameter \"match[]\": 1:3:")),
        "{v}"
    );
    let (status, v) = get(&server, "/api/v1/query?query=1", None).await;
    assert_eq!(status, 401, "{v}");
    server.running.stop().await.unwrap();
}

#[tokio::test]
async fn sysdig_path_reads_the_team_tenant() {
    let server = TestServer::start_with(|s| {
        with_sysdig_creds(s);
        s.sysdig
            .alert_tenants
            .insert("Monitor Operations".into(), "other".into());
    })
    .await;
    seed(&server).await;
    let at = secs(T0 + 9 * MIN);
    let url = format!(
        "{}/prometheus/api/v1/query?query=sum(cpu:idle_perc)&time={at}",
        server.url()
    );
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(sysdig_creds::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "2118");
    // A Monasca token is no Sysdig token.
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth("other")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    server.running.stop().await.unwrap();
}

#[tokio::test]
async fn a_sysdig_team_mapped_to_no_tenant_sees_no_data() {
    let server = TestServer::start_with(with_sysdig_creds).await;
    seed(&server).await;
    let url = format!(
        "{}/prometheus/api/v1/query?query=count({{__name__=~\".+\"}})%20or%20vector(0)&time={}",
        server.url(),
        secs(T0 + 9 * MIN)
    );
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(sysdig_creds::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["data"]["result"],
        json!([{"metric": {}, "value": [(T0 + 9 * MIN) / 1000, "0"]}])
    );
    server.running.stop().await.unwrap();
}
