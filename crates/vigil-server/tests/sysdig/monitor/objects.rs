//! Team-owned objects and teams over raw HTTP: isolation and roles, versions, refusals, query strings, restarts.

use super::*;

#[tokio::test]
async fn teams_isolate_objects_and_roles_are_enforced() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let u = s
        .create(
            "/api/user/provisioning",
            &admin,
            json!({"username": "reader@example.com", "password": "x"}),
        )
        .await;
    let uid = u["user"]["id"].as_i64().unwrap();
    assert_errors(
        s.post(
            "/api/users",
            &admin,
            json!({"username": "reader@example.com"}),
        )
        .await,
        422,
        "Invalid request",
        "User reader@example.com already exists",
    );
    let admin_id = s.get("/api/user/me", &admin).await.1["user"]["id"]
        .as_i64()
        .unwrap();
    let t = s
        .create(
            "/api/teams",
            &admin,
            json!({"name": "readers", "userRoles": [
                {"userId": admin_id, "role": "ROLE_TEAM_MANAGER"},
                {"userId": uid, "role": "ROLE_TEAM_READ"}
            ]}),
        )
        .await;
    assert_eq!(t["team"]["products"], json!(["SDC"]));
    let readers = t["team"]["id"].as_i64().unwrap();
    assert_errors(
        s.post("/api/teams", &admin, json!({"name": "READERS"}))
            .await,
        422,
        "Invalid request",
        "Team with name 'READERS' already exists",
    );

    // The reader's tokens: one per team.
    let (st, v) = s
        .get(&format!("/api/token/reader@example.com/{readers}"), &admin)
        .await;
    assert_eq!(st, 200, "{v}");
    let reader = Auth::Token(v["token"]["key"].as_str().unwrap().into());
    let monitor = s.team_id("Monitor Operations").await;
    let (_, v) = s
        .get(&format!("/api/token/reader@example.com/{monitor}"), &admin)
        .await;
    let reader_monitor = Auth::Token(v["token"]["key"].as_str().unwrap().into());

    // Objects of Monitor Operations are invisible from "readers".
    let a = s
        .create(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(cpu.used.percent) > 80", "severity": 6}}),
        )
        .await;
    assert_eq!(a["alert"]["severityLabel"], "INFO");
    let aid = a["alert"]["id"].as_i64().unwrap();
    let d = s
        .create(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "d"}}),
        )
        .await;
    let did = d["dashboard"]["id"].as_i64().unwrap();
    assert_errors(
        s.get(&format!("/api/alerts/{aid}"), &reader).await,
        404,
        "Not Found",
        "Alert not found",
    );
    assert_eq!(s.get("/api/alerts", &reader).await.1, json!({"alerts": []}));
    assert_eq!(
        s.get(&format!("/api/v3/dashboards/{did}"), &reader).await,
        (404, Value::Null)
    );
    // The same user in Monitor Operations (ROLE_TEAM_STANDARD) sees and changes them.
    let (st, v) = s.get(&format!("/api/alerts/{aid}"), &reader_monitor).await;
    assert_eq!((st, &v["alert"]["name"]), (200, &json!("cpu")));
    s
        .create(
            "/api/notificationChannels",
            &reader_monitor,
            json!({"notificationChannel": {"type": "WEBHOOK", "name": "hook", "options": {"url": "http://x"}}}),
        )
        .await;

    // Read-only members only read.
    assert_errors(
        s.post(
            "/api/alerts",
            &reader,
            json!({"alert": {"name": "x", "condition": "avg(a) > 1"}}),
        )
        .await,
        403,
        "Forbidden",
        "read-only",
    );
    let (st, _) = s.get("/api/v3/dashboards", &reader).await;
    assert_eq!(st, 200);
    // User management and teams need an admin; editing a team needs its manager.
    let (st, _) = s.get("/api/users", &reader).await;
    assert_eq!(st, 200);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/users".to_string(),
            json!({"username": "z@x"}),
        ),
        (Method::POST, "/api/teams".to_string(), json!({"name": "z"})),
        (Method::DELETE, format!("/api/users/{admin_id}"), json!({})),
        (
            Method::PUT,
            format!("/api/teams/{readers}"),
            json!({"name": "readers", "version": 1}),
        ),
    ] {
        assert_errors(
            s.send(method, &path, &reader, Some(&body.to_string()))
                .await,
            403,
            "Forbidden",
            "privileges",
        );
    }
    assert_errors(
        s.get(
            &format!("/api/token/admin@vigil.local/{monitor}"),
            &reader_monitor,
        )
        .await,
        403,
        "Forbidden",
        "privileges",
    );
    // Removing the reader from the team revokes its token there.
    let (st, v) = s
        .put(
            &format!("/api/teams/{readers}"),
            &admin,
            json!({"name": "readers", "version": 1, "userRoles": [{"userId": admin_id, "role": "ROLE_TEAM_MANAGER"}]}),
        )
        .await;
    assert_eq!((st, v["team"]["userCount"].as_i64()), (200, Some(1)), "{v}");
    assert_bad_credentials(s.get("/api/alerts", &reader).await, "/api/alerts");
    // Default teams cannot be deleted or renamed.
    assert_errors(
        s.delete(&format!("/api/teams/{monitor}"), &admin).await,
        422,
        "Invalid request",
        "default team",
    );
    assert_errors(
        s.put(
            &format!("/api/teams/{monitor}"),
            &admin,
            json!({"name": "renamed", "version": 1}),
        )
        .await,
        422,
        "Invalid request",
        "cannot be renamed",
    );
    // Product filter.
    let (_, v) = s.get("/api/teams?product=SDS", &admin).await;
    let names: Vec<&str> = v["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Secure Operations"]);
    assert_errors(
        s.get("/api/teams?product=XYZ", &admin).await,
        400,
        "Bad Request",
        "product",
    );
    s.stop().await;
}

#[tokio::test]
async fn versions_are_bumped_and_stale_writes_conflict() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let (_, a) = s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "a", "condition": "avg(x) > 1", "id": 77, "version": 9}}),
        )
        .await;
    let a = a["alert"].clone();
    assert_eq!(a["version"], 1);
    assert_ne!(a["id"], 77);
    let path = format!("/api/alerts/{}", a["id"]);
    let mut body = a.clone();
    body.as_object_mut().unwrap().remove("version");
    assert_errors(
        s.put(&path, &admin, json!({"alert": body})).await,
        400,
        "Bad Request",
        "version",
    );
    let (st, v) = s.put(&path, &admin, json!({"alert": a})).await;
    assert_eq!((st, &v["alert"]["version"]), (200, &json!(2)));
    assert_errors(
        s.put(&path, &admin, json!({"alert": a})).await,
        409,
        "Conflict",
        "version",
    );

    let (_, d) = s
        .post(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "d"}}),
        )
        .await;
    let d = d["dashboard"].clone();
    let path = format!("/api/v3/dashboards/{}", d["id"]);
    let (st, v) = s.put(&path, &admin, json!({"dashboard": d})).await;
    assert_eq!((st, &v["dashboard"]["version"]), (200, &json!(2)));
    assert_errors(
        s.put(&path, &admin, json!({"dashboard": d})).await,
        409,
        "Conflict",
        "version",
    );
    // PATCH of the favourite flag leaves the version alone.
    let (st, v) = s
        .send(
            Method::PATCH,
            &path,
            &admin,
            Some(r#"{"dashboard":{"favorite":true}}"#),
        )
        .await;
    assert_eq!(
        (st, &v["dashboard"]["favorite"], &v["dashboard"]["version"]),
        (200, &json!(true), &json!(2))
    );

    let (_, me) = s.get("/api/user/me", &admin).await;
    assert_errors(
        s.put(
            &format!("/api/users/{}", me["user"]["id"]),
            &admin,
            json!({"firstName": "Ann", "version": 5}),
        )
        .await,
        409,
        "Conflict",
        "version",
    );
    let monitor = s.team_id("Monitor Operations").await;
    let (st, v) = s
        .put(
            &format!("/api/teams/{monitor}"),
            &admin,
            json!({"name": "Monitor Operations", "version": 1, "description": "ours"}),
        )
        .await;
    assert_eq!((st, &v["team"]["version"]), (200, &json!(2)), "{v}");
    assert_errors(
        s.put(
            &format!("/api/teams/{monitor}"),
            &admin,
            json!({"name": "Monitor Operations", "version": 1}),
        )
        .await,
        409,
        "Conflict",
        "version",
    );
    s.stop().await;
}

#[tokio::test]
async fn unknown_ids_and_malformed_requests_get_4xx_bodies() {
    let s = Sdc::start().await;
    let admin = s.admin();
    for (path, msg) in [
        ("/api/alerts/999999", "Alert not found"),
        ("/api/alerts/abc", "Alert not found"),
        (
            "/api/notificationChannels/999999",
            "Notification channel not found",
        ),
        ("/api/users/999999", "User not found"),
        ("/api/teams/999999", "Team not found"),
        ("/api/v2/teams/light/name/nope", "Team not found"),
        ("/api/v2/events/999999", "Event not found"),
        ("/api/v2/events/not-a-number", "Event not found"),
    ] {
        assert_errors(s.get(path, &admin).await, 404, "Not Found", msg);
    }
    for method in [Method::GET, Method::DELETE] {
        assert_eq!(
            s.send(method, "/api/v3/dashboards/999999", &admin, None)
                .await,
            (404, Value::Null)
        );
    }
    assert_eq!(
        s.get("/api/v3/dashboards/templates/nope", &admin).await,
        (404, Value::Null)
    );
    assert_errors(
        s.put(
            "/api/notifications/999999",
            &admin,
            json!({"notification": {"resolved": true}}),
        )
        .await,
        404,
        "Not Found",
        "Notification not found",
    );

    for body in [
        "{\"alert\": 3",
        "",
        "null",
        "[]",
        "{\"name\": \"not wrapped\"}",
        "{\"alert\": {\"name\": 5, \"condition\": \"a > 1\"}}",
        "{\"alert\": {\"name\": \"x\"}}",
        "{\"alert\": {\"name\": \"x\", \"condition\": \"a > 1\", \"severity\": 9}}",
        "{\"alert\": {\"name\": \"x\", \"condition\": \"a > 1\", \"enabled\": \"yes\"}}",
        "{\"alert\": {\"name\": \"x\", \"condition\": \"a > 1\", \"type\": \"WHAT\"}}",
    ] {
        let (st, v) = s
            .send(Method::POST, "/api/alerts", &admin, Some(body))
            .await;
        assert_eq!(st, 400, "{body}: {v}");
        assert_eq!(v["errors"][0]["reason"], "Bad Request", "{body}: {v}");
    }
    assert_errors(
s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "x", "condition": "a > 1", "notificationChannelIds": [424242]}}),
        )
        .await, 422,
        "Invalid request",
        "Notification channel 424242 not found",
    );
    for (path, body) in [
        ("/api/v3/dashboards", json!({"dashboard": {"name": ""}})),
        (
            "/api/v3/dashboards",
            json!({"dashboard": {"name": "d", "panels": [{"name": "no id"}]}}),
        ),
        (
            "/api/v3/dashboards",
            json!({"dashboard": {"name": "d", "sharingSettings": [{"member": {"type": "X"}, "role": "ROLE_RESOURCE_READ"}]}}),
        ),
        (
            "/api/v2/events",
            json!({"event": {"description": "no name"}}),
        ),
        (
            "/api/v2/events",
            json!({"event": {"name": "e", "tags": {"a": 1}}}),
        ),
        (
            "/api/teams",
            json!({"name": "t", "userRoles": [{"userId": 1, "role": "BOSS"}]}),
        ),
        (
            "/api/users",
            json!({"username": "a@b", "systemRole": "ROLE_GOD"}),
        ),
        (
            "/api/notificationChannels",
            json!({"notificationChannel": {"type": "EMAIL", "name": "m", "options": {}}}),
        ),
    ] {
        let (st, v) = s.post(path, &admin, body.clone()).await;
        assert_eq!(st, 400, "{path} {body}: {v}");
        assert!(v["errors"][0]["message"].is_string(), "{v}");
    }
    for path in [
        "/api/notifications?from=abc&to=1",
        "/api/notifications?from=1&to=2&resolved=maybe",
        "/api/notifications?from=1&to=2&state=BAD",
        "/api/v2/events?limit=abc",
        "/api/v2/events?limit=0",
        "/api/v2/events?dir=sideways",
        "/api/v2/events?pivot=12345678",
        "/api/v3/dashboards?light=perhaps",
    ] {
        let (st, v) = s.get(path, &admin).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert_eq!(v["errors"][0]["reason"], "Bad Request", "{path}: {v}");
    }
    // Too large: 413, still an errors body.
    let big = format!("{{\"event\": {{\"name\": \"{}\"}}}}", "x".repeat(70_000));
    let (st, v) = s
        .send(Method::POST, "/api/v2/events", &admin, Some(&big))
        .await;
    assert_eq!(st, 413, "{v}");
    assert!(v["errors"].is_array());
    s.stop().await;
}

#[tokio::test]
async fn hand_built_queries_and_event_filters() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let e = s
        .create(
            "/api/v2/events",
            &admin,
            json!({"event": {"name": "deploy", "scope": "host.hostName='ci'  and  a!=\"b c\"", "severity": 2, "tags": {"k": "v"}, "timestamp": 1_000_000}}),
        )
        .await;
    let e = e["event"].clone();
    assert_eq!(e["scope"], "host.hostName = 'ci' and a != \"b c\"");
    assert!(e["id"].is_string());
    let (_, e2) = s
        .post(
            "/api/v2/events/",
            &admin,
            json!({"event": {"name": "other", "timestamp": 2_000_000}}),
        )
        .await;
    let (st, v) = s
        .get(
            "/api/v2/events/?alertStatus=resolved&alertStatus=triggered&category=alert%2Ccustom&dir=before&feed=true&include_pivot=true&include_total=true&limit=100",
            &admin,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["total"].as_i64(), v["matched"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(v["events"][0]["id"], e2["event"]["id"]);
    let (_, v) = s.get("/api/v2/events?filter=deploy", &admin).await;
    assert_eq!(v["events"].as_array().map(Vec::len), Some(1));
    let (_, v) = s.get("/api/v2/events?alertStatus=resolved", &admin).await;
    assert_eq!(v["events"], json!([]));
    let (_, v) = s.get("/api/v2/events?from=0&to=1500000", &admin).await;
    assert_eq!(v["events"][0]["name"], "deploy");
    assert_eq!(v["matched"], 1);

    // Notifications: capitalised booleans, µs bounds, values containing `=`.
    let (_, a) = s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(cpu.used.percent) > 80"}}),
        )
        .await;
    let aid = a["alert"]["id"].as_i64().unwrap();
    s
        .create(
            "/vigil/sysdig/notifications",
            &admin,
            json!({"notification": {"alert": aid, "state": "ACTIVE", "timestamp": 5_000_000, "value": 91}}),
        )
        .await;
    let (st, v) = s
        .get(
            "/api/notifications?from=4000000&to=6000000&state=ACTIVE&resolved=False&junk=a=b=c",
            &admin,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["notifications"][0]["alert"], aid);
    assert_eq!(
        v["notifications"][0]["condition"],
        "avg(cpu.used.percent) > 80"
    );
    let (_, v) = s
        .get(
            "/api/notifications?from=4000000&to=6000000&resolved=True",
            &admin,
        )
        .await;
    assert_eq!(v["notifications"], json!([]));
    let (_, v) = s.get(&format!("/api/alerts/{aid}"), &admin).await;
    assert_eq!(v["alert"]["notificationCount"], 1);
    s.stop().await;
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let generated = s.admin.clone();
    let (_, c) = s
        .post(
            "/api/notificationChannels",
            &admin,
            json!({"notificationChannel": {"type": "EMAIL", "name": "m", "options": {"emailRecipients": ["a@b"]}}}),
        )
        .await;
    let cid = c["notificationChannel"]["id"].as_i64().unwrap();
    let (_, a) = s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(x) > 1", "notificationChannelIds": [cid]}}),
        )
        .await;
    let a = a["alert"].clone();
    let (_, a2) = s
        .put(
            &format!("/api/alerts/{}", a["id"]),
            &admin,
            json!({"alert": a}),
        )
        .await;
    let (_, d) = s
        .post(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "d"}}),
        )
        .await;
    let (_, e) = s
        .post("/api/v2/events", &admin, json!({"event": {"name": "e"}}))
        .await;
    let (_, u) = s
        .post("/api/users", &admin, json!({"username": "u@example.com"}))
        .await;
    let (_, t) = s.post("/api/teams", &admin, json!({"name": "t2"})).await;
    let iam_token = s.iam_token(IAM_KEY).await;
    let (st, _) = s.get("/api/alerts", &iam(&iam_token)).await;
    assert_eq!(st, 200);

    let dir = s.stop().await;
    let s = Sdc::start_in(dir, |_| {}).await;
    assert_eq!(s.admin, generated, "the generated token is kept");
    let (_, v) = s.get(&format!("/api/alerts/{}", a["id"]), &admin).await;
    assert_eq!(v["alert"], {
        let mut want = a2["alert"].clone();
        want["notificationCount"] = json!(0);
        want
    });
    assert_eq!(v["alert"]["version"], 2);
    let (st, v) = s
        .get(
            &format!("/api/v3/dashboards/{}", d["dashboard"]["id"]),
            &admin,
        )
        .await;
    assert_eq!((st, &v["dashboard"]["name"]), (200, &json!("d")));
    let (st, v) = s
        .get(
            &format!("/api/v2/events/{}", e["event"]["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!((st, &v["event"]), (200, &e["event"]));
    let (st, _) = s
        .get(&format!("/api/users/{}", u["user"]["id"]), &admin)
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .get(&format!("/api/teams/{}", t["team"]["id"]), &admin)
        .await;
    assert_eq!(st, 200);
    // IAM access tokens last until they expire, as IBM's do: they are signed with the
    // database's key, not remembered by the process that issued them.
    let (st, _) = s.get("/api/alerts", &iam(&iam_token)).await;
    assert_eq!(st, 200);

    // A configured admin token replaces the stored one.
    let dir = s.stop().await;
    let s = Sdc::start_in(dir, |st| {
        st.sysdig.admin_token = Some("configured-admin-token".to_string().into());
    })
    .await;
    assert_bad_credentials(s.get("/api/alerts", &admin).await, "/api/alerts");
    let (st, v) = s
        .get("/api/alerts", &Auth::Token("configured-admin-token".into()))
        .await;
    assert_eq!((st, v["alerts"].as_array().map(Vec::len)), (200, Some(1)));
    s.stop().await;
}
