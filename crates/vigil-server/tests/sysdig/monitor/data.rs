//! The legacy data API (`POST /api/data`, `GET /api/data/metrics`) on Monasca metrics.

use super::*;

#[tokio::test]
async fn get_data_groups_and_aggregates_monasca_metrics() {
    let s = Sdc::start_in(tempfile::tempdir().unwrap(), |st| {
        st.sysdig
            .alert_tenants
            .insert("Monitor Operations".into(), "ops-project".into());
    })
    .await;
    let admin = s.admin();
    // h0 95, h1 91, h2 10.
    super::alerts::post_cpu(&s, &[95.0, 91.0, 10.0]).await;
    let req = json!({
        "metrics": [
            {"id": "hostname"},
            {"id": "cpu.used.percent", "aggregations": {"time": "timeAvg", "group": "avg"}}
        ],
        "last": 600, "sampling": 600, "dataSourceType": "host",
        "paging": {"from": 0, "to": 1}
    });
    let (status, v) = s.post("/api/data", &admin, req).await;
    assert_eq!(status, 200, "{v}");
    let rows = v["data"].as_array().unwrap();
    // Top 2 hosts by value, descending for avg.
    let d: Vec<&Value> = rows.iter().map(|r| &r["d"]).collect();
    assert_eq!(d, vec![&json!(["h0", 95.0]), &json!(["h1", 91.0])], "{v}");
    assert_eq!(
        v["end"].as_i64().unwrap() - v["start"].as_i64().unwrap(),
        600
    );

    // No grouping key and a filter: one row, the group aggregation over the selected hosts.
    let req = json!({
        "metrics": [{"id": "cpu.used.percent", "aggregations": {"time": "max", "group": "sum"}}],
        "last": 600, "sampling": 0, "filter": "hostname in [h1, h2]"
    });
    let (_, v) = s.post("/api/data", &admin, req).await;
    assert_eq!(v["data"][0]["d"], json!([101.0]), "{v}");

    // Sysdig's label ids read the Monasca dimensions as the alert evaluator reads them
    // (`host.hostName` is `hostname`), for grouping and for every operator of the filter.
    let req = json!({
        "metrics": [
            {"id": "host.hostName"},
            {"id": "cpu.used.percent", "aggregations": {"time": "max", "group": "max"}}
        ],
        "last": 600, "sampling": 0,
        "filter": "host.hostName is not h0 and host.hostName starts with h"
    });
    let (status, v) = s.post("/api/data", &admin, req).await;
    assert_eq!(status, 200, "{v}");
    let d: Vec<&Value> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["d"])
        .collect();
    assert_eq!(d, vec![&json!(["h1", 91.0]), &json!(["h2", 10.0])], "{v}");
    let req = json!({
        "metrics": [{"id": "cpu.used.percent", "aggregations": {"time": "max", "group": "sum"}}],
        "last": 600, "sampling": 0, "filter": "host.hostName in [h0, h2]"
    });
    let (_, v) = s.post("/api/data", &admin, req).await;
    assert_eq!(v["data"][0]["d"], json!([105.0]), "{v}");

    let (_, cat) = s.get("/api/data/metrics", &admin).await;
    assert_eq!(cat["cpu.used.percent"]["type"], "double");
    assert_eq!(cat["hostname"]["type"], "string");

    let (status, v) = s
        .post("/api/data", &admin, json!({"metrics": [], "last": 60}))
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = s
        .post(
            "/api/data",
            &admin,
            json!({"metrics": [{"id": "x", "aggregations": {"time": "p99"}}], "last": 60}),
        )
        .await;
    assert_eq!(status, 400);
    s.stop().await;
}
