//! The older and less used parts of the Sysdig API: unknown paths, server-side validation,
//! dashboards v2 next to v3, events v1 next to v2, and the agents' configuration and list.

use serde_json::{Value, json};

use super::{Auth, Sdc, alerts::post_cpu, assert_bad_credentials, assert_errors};

#[tokio::test]
async fn unknown_api_paths_check_the_token_first() {
    let s = Sdc::start().await;
    assert_bad_credentials(
        s.get("/api/nothing/here", &Auth::None).await,
        "/api/nothing/here",
    );
    assert_bad_credentials(
        s.post("/api/nothing", &Auth::Token("wrong".into()), json!({}))
            .await,
        "/api/nothing",
    );
    let (st, v) = s.get("/api/nothing/here", &s.admin()).await;
    assert_eq!(st, 404, "{v}");
    assert_eq!(v["errors"][0]["reason"], "Not Found", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/api/nothing/here")
    );
    // Known paths are untouched.
    assert_eq!(s.get("/api/alerts", &s.admin()).await.0, 200);
    s.stop().await;
}

#[tokio::test]
async fn conditions_recipients_and_user_names_are_validated() {
    let s = Sdc::start().await;
    let admin = s.admin();
    assert_errors(
        s.post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "bad", "condition": "avg(x) >>> 80"}}),
        )
        .await,
        400,
        "Bad Request",
        "invalid condition \"avg(x) >>> 80\"",
    );
    let ok = s
        .create(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "good", "condition": "avg(cpu.used.percent) > 80"}}),
        )
        .await;
    // An update is checked too.
    let mut alert = ok["alert"].clone();
    alert["condition"] = json!("avg(cpu.used.percent) >");
    let path = format!("/api/alerts/{}", alert["id"]);
    assert_errors(
        s.put(&path, &admin, json!({"alert": alert})).await,
        400,
        "Bad Request",
        "expected a number",
    );
    // A filter follows the scope grammar.
    assert_errors(
        s.post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "f", "condition": "avg(x) > 1", "filter": "host.hostName != h1"}}),
        )
        .await,
        400,
        "Bad Request",
        "invalid scope: host.hostName != h1, expected an operator",
    );
    // PromQL conditions follow another grammar.
    s.create(
        "/api/alerts",
        &admin,
        json!({"alert": {"name": "prom", "type": "PROMETHEUS", "condition": "up == 0", "filter": "a != b"}}),
    )
    .await;
    assert_errors(
        s.post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "prom2", "type": "PROMETHEUS", "condition": "avg(x) >"}}),
        )
        .await,
        400,
        "Bad Request",
        "invalid PromQL condition \"avg(x) >\": 1:9: parse error: unexpected end of input",
    );
    assert_errors(
        s.post(
            "/api/notificationChannels",
            &admin,
            json!({"notificationChannel": {"type": "EMAIL", "name": "m", "options": {"emailRecipients": ["ops@example.com", "not an address"]}}}),
        )
        .await,
        400,
        "Bad Request",
        "\"not an address\" is not an e-mail address",
    );
    for path in ["/api/users", "/api/user/provisioning"] {
        assert_errors(
            s.post(path, &admin, json!({"username": "bob"})).await,
            400,
            "Bad Request",
            "\"bob\" is not an e-mail address",
        );
    }
    s.create("/api/users", &admin, json!({"username": "bob@example.com"}))
        .await;
    s.stop().await;
}

#[tokio::test]
async fn dashboards_v2_and_v3_share_one_store() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let widget = json!({"name": "CPU", "showAs": "timeSeries",
        "metrics": [{"id": "timestamp", "timeAggregation": null, "groupAggregation": null, "propertyName": "k0"},
                    {"id": "cpu.used.percent", "timeAggregation": "avg", "groupAggregation": "max", "propertyName": "v0"}],
        "gridConfiguration": {"col": 1, "row": 1, "size_x": 6, "size_y": 4}});
    let d2 = s
        .create(
            "/api/v2/dashboards",
            &admin,
            json!({"dashboard": {"name": "two", "schema": 2, "widgets": [widget], "eventsOverlaySettings": {"filterNotificationsUserInputFilter": ""}}}),
        )
        .await["dashboard"]
        .clone();
    assert_eq!(
        (d2["schema"].as_i64(), d2["version"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(d2["widgets"][0], widget);
    assert!(d2.get("panels").is_none(), "{d2}");
    let id = d2["id"].as_i64().unwrap();
    // v3 sees panels derived from the widgets.
    let (st, v3) = s.get(&format!("/api/v3/dashboards/{id}"), &admin).await;
    assert_eq!(st, 200);
    let v3 = &v3["dashboard"];
    assert_eq!(v3["schema"], 3);
    assert_eq!(v3["panels"][0]["name"], "CPU");
    assert_eq!(
        v3["panels"][0]["advancedQueries"][0]["query"],
        "max(avg_over_time(cpu_used_percent[$__interval]))"
    );
    assert_eq!(
        v3["layout"][0],
        json!({"panelId": 1, "x": 0, "y": 0, "w": 12, "h": 4})
    );
    // A v3 dashboard through v2: widgets from panels.
    let d3 = s
        .create(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "three", "panels": [{"id": 1, "type": "advancedNumber", "name": "N", "advancedQueries": [{"query": "up"}]}], "layout": [{"panelId": 1, "x": 0, "y": 0, "w": 8, "h": 3}]}}),
        )
        .await["dashboard"]
        .clone();
    let (_, list) = s.get("/api/v2/dashboards", &admin).await;
    let listed: Vec<&Value> = list["dashboards"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 2);
    let three = listed.iter().find(|d| d["id"] == d3["id"]).unwrap();
    assert_eq!(three["schema"], 2);
    assert_eq!(three["widgets"][0]["showAs"], "summary");
    assert_eq!(three["widgets"][0]["gridConfiguration"]["size_x"], 4);
    assert!(three.get("panels").is_none());
    // Replace through v2 (version checked as in v3), delete, then a bare 404.
    let mut upd = d2.clone();
    upd["name"] = json!("two'");
    upd["widgets"] = json!([]);
    let path = format!("/api/v2/dashboards/{id}");
    let (st, v) = s.put(&path, &admin, json!({"dashboard": upd})).await;
    assert_eq!(
        (st, v["dashboard"]["version"].as_i64()),
        (200, Some(2)),
        "{v}"
    );
    let (st, _) = s.put(&path, &admin, json!({"dashboard": upd})).await;
    assert_eq!(st, 409);
    assert_eq!(s.delete(&path, &admin).await.0, 200);
    assert_eq!(s.get(&path, &admin).await, (404, Value::Null));
    // The v2 views are v3's templates, widgets-based.
    let (_, views) = s.get("/api/v2/defaultDashboards", &admin).await;
    let first = &views["defaultDashboards"][0];
    let vid = first["id"].as_str().unwrap();
    let (st, view) = s
        .get(&format!("/api/v2/defaultDashboards/{vid}"), &admin)
        .await;
    assert_eq!(st, 200);
    assert_eq!(view["defaultDashboard"]["name"], first["name"]);
    assert!(
        !view["defaultDashboard"]["widgets"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get("/api/v2/defaultDashboards/nope", &admin).await,
        (404, Value::Null)
    );
    s.stop().await;
}

#[tokio::test]
async fn events_v1_share_v2s_events() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let e = s
        .create(
            "/api/events/",
            &admin,
            json!({"event": {"name": "deploy", "severity": 3, "filter": "host.hostName='web'", "tags": [{"app": "shop"}, {"stage": "prod"}]}}),
        )
        .await["event"]
        .clone();
    assert_eq!(e["filter"], "host.hostName = 'web'");
    assert!(e.get("scope").is_none(), "{e}");
    assert_eq!(e["tags"], json!({"app": "shop", "stage": "prod"}));
    let id = e["id"].as_str().unwrap();
    let (st, got) = s.get(&format!("/api/events/{id}"), &admin).await;
    assert_eq!((st, &got["event"]), (200, &e));
    let (_, v2) = s.get(&format!("/api/v2/events/{id}"), &admin).await;
    assert_eq!(v2["event"]["scope"], "host.hostName = 'web'");
    // A v2 event is listed by v1 too, newest first.
    s.create(
        "/api/v2/events",
        &admin,
        json!({"event": {"name": "later", "timestamp": e["timestamp"].as_i64().unwrap() + 1}}),
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, all) = s.get("/api/events/?last=600", &admin).await;
    assert_eq!(names(&all), ["later", "deploy"]);
    let (_, old) = s.get("/api/events/?from=0&to=1000", &admin).await;
    assert!(names(&old).is_empty());
    assert_eq!(s.get("/api/events/?last=x", &admin).await.0, 400);
    assert_eq!(s.delete(&format!("/api/events/{id}"), &admin).await.0, 200);
    assert_eq!(s.get(&format!("/api/v2/events/{id}"), &admin).await.0, 404);
    s.stop().await;
}

#[tokio::test]
async fn agents_config_is_kept_per_customer() {
    let s = Sdc::start().await;
    let admin = s.admin();
    assert_eq!(
        s.get("/api/agents/config", &admin).await,
        (200, json!({"files": []}))
    );
    let files = json!([{"filter": "host.mac = \"08:00:27:de:5b:b9\"", "content": "log:\n  console_priority: debug\n"}]);
    let (st, v) = s
        .put("/api/agents/config", &admin, json!({"files": files}))
        .await;
    assert_eq!((st, &v["files"]), (200, &files));
    assert_eq!(s.get("/api/agents/config", &admin).await.1["files"], files);
    assert_eq!(
        s.put(
            "/api/agents/config",
            &admin,
            json!({"files": [{"filter": "*"}]})
        )
        .await
        .0,
        400
    );
    let dir = s.stop().await;
    let s = Sdc::start_in(dir, |_| {}).await;
    let admin = s.admin();
    assert_eq!(s.get("/api/agents/config", &admin).await.1["files"], files);
    s.put("/api/agents/config", &admin, json!({"files": []}))
        .await;
    assert_eq!(
        s.get("/api/agents/config", &admin).await.1,
        json!({"files": []})
    );
    s.stop().await;
}

#[tokio::test]
async fn connected_agents_are_the_hosts_reporting_to_the_teams_tenant() {
    let s = Sdc::start_in(tempfile::tempdir().unwrap(), |st| {
        st.sysdig
            .alert_tenants
            .insert("Monitor Operations".into(), "ops-project".into());
    })
    .await;
    assert_eq!(
        s.get("/api/agents/connected", &s.admin()).await.1["total"],
        0
    );
    post_cpu(&s, &[1.0, 2.0]).await;
    let (st, v) = s.get("/api/agents/connected", &s.admin()).await;
    assert_eq!(st, 200);
    assert_eq!(v["total"], 2, "{v}");
    let hosts: Vec<&str> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["hostName"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["h0", "h1"]);
    assert_eq!(v["agents"][0]["connected"], true);
    s.stop().await;
    // Without a tenant for the team: none, as before.
    let s = Sdc::start().await;
    assert_eq!(
        s.get("/api/agents/connected", &s.admin()).await.1,
        json!({"total": 0, "agents": []})
    );
    s.stop().await;
}

#[tokio::test]
async fn access_keys_are_created_updated_and_switched() {
    let s = Sdc::start().await;
    let admin = s.admin();
    assert_eq!(
        s.get("/api/customer/accessKeys", &admin).await,
        (200, json!({"customerAccessKeys": []}))
    );
    let team = s.team_id("Monitor Operations").await;
    let k = s
        .create(
            "/api/customer/accessKeys",
            &admin,
            json!({"customerAccessKey": {"limit": 10, "reservation": 2, "teamId": team}}),
        )
        .await["customerAccessKey"]
        .clone();
    let key = k["accessKey"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 36);
    assert_eq!(
        (&k["enabled"], &k["limit"], &k["reservation"], &k["teamId"]),
        (&json!(true), &json!(10), &json!(2), &json!(team))
    );
    let path = format!("/api/customer/accessKeys/{key}");
    let (st, v) = s
        .put(
            &path,
            &admin,
            json!({"customerAccessKey": {"limit": 20, "reservation": null, "teamId": null}}),
        )
        .await;
    assert_eq!((st, &v["customerAccessKey"]["limit"]), (200, &json!(20)));
    let (st, v) = s
        .send(
            reqwest::Method::POST,
            &format!("{path}/disable/"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        (st, &v["customerAccessKey"]["enabled"]),
        (200, &json!(false))
    );
    let (_, list) = s.get("/api/customer/accessKeys", &admin).await;
    assert_eq!(list["customerAccessKeys"][0]["enabled"], false);
    let (st, v) = s
        .send(
            reqwest::Method::POST,
            &format!("{path}/enable/"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        (st, &v["customerAccessKey"]["enabled"]),
        (200, &json!(true))
    );
    assert_errors(
        s.send(
            reqwest::Method::POST,
            "/api/customer/accessKeys/nope/enable/",
            &admin,
            None,
        )
        .await,
        404,
        "Not Found",
        "Access key nope not found",
    );
    assert_errors(
        s.post(
            "/api/customer/accessKeys",
            &admin,
            json!({"customerAccessKey": {"limit": 1, "reservation": 2}}),
        )
        .await,
        400,
        "Bad Request",
        "reservation",
    );
    s.stop().await;
}

#[tokio::test]
async fn explore_grouping_and_retention() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let (st, v) = s.get("/api/groupConfigurations", &admin).await;
    assert_eq!(st, 200);
    assert_eq!(
        v["groupConfigurations"][0]["groups"][0]["groupBy"],
        json!([{"metric": "host.hostName"}, {"metric": "container.name"}])
    );
    let wanted = json!({"id": "explore", "groups": [{"groupBy": [{"metric": "kubernetes.namespace.name"}]}]});
    assert_eq!(
        s.put("/api/groupConfigurations/explore", &admin, wanted.clone())
            .await,
        (200, wanted.clone())
    );
    let (_, v) = s.get("/api/groupConfigurations", &admin).await;
    assert_eq!(v["groupConfigurations"][0], wanted);
    assert_eq!(
        s.put(
            "/api/groupConfigurations/explore",
            &admin,
            json!({"groups": [{"groupBy": [{"name": "x"}]}]})
        )
        .await
        .0,
        400
    );
    let (st, v) = s.get("/api/history/timelines/", &admin).await;
    assert_eq!(st, 200);
    let samplings: Vec<i64> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["from"].as_i64().unwrap() < t["to"].as_i64().unwrap());
            t["sampling"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(
        samplings,
        [10_000_000, 60_000_000, 600_000_000, 3_600_000_000]
    );
    s.stop().await;
}
