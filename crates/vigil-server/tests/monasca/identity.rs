//! The built-in identity service, monasca-api's roles and tenancy across projects.

use crate::kit::{Running, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use vigil_server::identity::{AuthMode, UserConfig};

use crate::common::raw;

fn user(name: &str, project: &str, roles: &[&str]) -> UserConfig {
    UserConfig {
        name: name.into(),
        password: format!("{name}-secret"),
        project: project.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

async fn start() -> (Running, tempfile::TempDir) {
    let TestServer { running, dir } = TestServer::start_with(|s| {
        s.auth = AuthMode::Identity;
        s.users = vec![
            user("alice", "p1", &["monasca-user"]),
            user("bob", "p2", &["monasca-user"]),
            user("agent", "p1", &["monasca-agent"]),
            user("reader", "p1", &["monasca-read-only-user"]),
            user("ops", "p2", &["admin"]),
            user("both", "p1", &["monasca-agent", "monasca-read-only-user"]),
        ];
    })
    .await;
    (running, dir)
}

async fn login(
    url: &str,
    name: &str,
    password: &str,
    project: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {"name": name, "domain": {"name": "Default"}, "password": password}}}});
    if let Some(p) = project {
        auth["scope"] = json!({"project": {"name": p, "domain": {"name": "Default"}}});
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::Client::new()
        .post(format!("{url}/identity/v3/auth/tokens"))
        .json(&json!({"auth": auth}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let token = resp
        .headers()
        .get("x-subject-token")
        .map(|v| v.to_str().unwrap().to_string());
    (status, token, resp.json().await.unwrap_or(Value::Null))
}

async fn token(url: &str, name: &str, project: &str) -> String {
    let (s, t, _) = login(url, name, &format!("{name}-secret"), Some(project)).await;
    assert_eq!(s, 201, "{name} login");
    t.unwrap()
}

#[tokio::test]
async fn keystone_subset_issues_validates_and_revokes_tokens() {
    let (server, _dir) = start().await;
    let url = server.url();
    let (s, body) = raw(Method::GET, &format!("{url}/identity"), None, None, "").await;
    assert_eq!(
        (s, body["versions"]["values"][0]["id"].as_str()),
        (300, Some("v3.14"))
    );
    let (s, body) = raw(Method::GET, &format!("{url}/identity/v3"), None, None, "").await;
    assert_eq!(
        (s, body["version"]["status"].as_str()),
        (200, Some("stable"))
    );

    let (s, tok, body) = login(&url, "alice", "alice-secret", Some("p1")).await;
    assert_eq!(s, 201);
    let tok = tok.unwrap();
    let catalog = body["token"]["catalog"].as_array().unwrap();
    let monitoring = catalog.iter().find(|c| c["type"] == "monitoring").unwrap();
    let public = monitoring["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["interface"] == "public")
        .unwrap();
    assert_eq!(public["url"], format!("{url}/v2.0"));
    assert_eq!(body["token"]["project"]["name"], "p1");
    assert_eq!(body["token"]["roles"][0]["name"], "monasca-user");

    let (s, _, body) = login(&url, "alice", "wrong", Some("p1")).await;
    assert_eq!((s, body["error"]["code"].as_i64()), (401, Some(401)));
    assert!(!body.to_string().contains("wrong"));
    let (s, _, _) = login(&url, "alice", "alice-secret", Some("p2")).await;
    assert_eq!(s, 401, "no roles on another project");
    let (s, unscoped, body) = login(&url, "alice", "alice-secret", None).await;
    assert_eq!(s, 201);
    assert!(body["token"].get("catalog").is_none());
    let (s, _) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        unscoped.as_deref(),
        None,
        "",
    )
    .await;
    assert_eq!(s, 401, "an unscoped token has no project");

    // Re-scoping with the token method.
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": tok}}, "scope": {"project": {"name": "p1", "domain": {"name": "Default"}}}}});
    let resp = reqwest::Client::new()
        .post(format!("{url}/identity/v3/auth/tokens"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let tok2 = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();

    // Validation and revocation.
    let http = reqwest::Client::new();
    let v = http
        .get(format!("{url}/identity/v3/auth/tokens"))
        .header("X-Auth-Token", &tok)
        .header("X-Subject-Token", &tok2)
        .send()
        .await
        .unwrap();
    assert_eq!(v.status().as_u16(), 200);
    let d = http
        .delete(format!("{url}/identity/v3/auth/tokens"))
        .header("X-Auth-Token", &tok)
        .header("X-Subject-Token", &tok2)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status().as_u16(), 204);
    let (s, body) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        Some(&tok2),
        None,
        "",
    )
    .await;
    assert_eq!(
        (s, body["error"]["title"].as_str()),
        (401, Some("Unauthorized"))
    );
    let (s, _) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        Some(&tok),
        None,
        "",
    )
    .await;
    assert_eq!(s, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn roles_and_projects_matrix() {
    let (server, _dir) = start().await;
    let url = server.url();
    let metric = r#"{"name":"m","dimensions":{"h":"a"},"timestamp":1767225600000,"value":1}"#;
    let nm = r#"{"name":"n","type":"EMAIL","address":"a@b"}"#;
    let def = r#"{"name":"d","expression":"max(m) > 1"}"#;
    // (endpoint, method, body): what each role may do, as monasca-api's default policy.
    let calls: [(&str, Method, &str); 6] = [
        ("/v2.0/metrics", Method::POST, metric),
        ("/v2.0/metrics", Method::GET, ""),
        ("/v2.0/notification-methods", Method::POST, nm),
        ("/v2.0/notification-methods", Method::GET, ""),
        ("/v2.0/alarm-definitions", Method::POST, def),
        ("/v2.0/alarms", Method::GET, ""),
    ];
    let expect: [(&str, &str, [bool; 6]); 5] = [
        ("alice", "p1", [true, true, true, true, true, true]),
        ("agent", "p1", [true, false, false, false, false, false]),
        ("reader", "p1", [false, true, false, true, false, true]),
        ("ops", "p2", [true, true, false, false, false, false]),
        ("both", "p1", [true, true, false, true, false, true]),
    ];
    for (name, project, allowed) in expect {
        let tok = token(&url, name, project).await;
        for ((path, method, body), ok) in calls.iter().zip(allowed) {
            let (s, b) = raw(
                method.clone(),
                &format!("{url}{path}"),
                Some(&tok),
                Some("application/json"),
                body.to_string(),
            )
            .await;
            if ok {
                assert!(s < 400 || s == 409, "{name} {method} {path}: {s} {b}");
            } else {
                assert_eq!(
                    (s, b["title"].as_str()),
                    (401, Some("Forbidden")),
                    "{name} {method} {path}"
                );
                assert_eq!(
                    b["description"],
                    "The request does not have access to this service"
                );
            }
        }
    }

    // Projects never see each other's data; only the delegate role acts for another project.
    let alice = token(&url, "alice", "p1").await;
    let bob = token(&url, "bob", "p2").await;
    let ops = token(&url, "ops", "p2").await;
    let names = |tok: String, query: &'static str| {
        let url = url.clone();
        async move {
            let (s, b) = raw(
                Method::GET,
                &format!("{url}/v2.0/metrics/names{query}"),
                Some(&tok),
                None,
                "",
            )
            .await;
            assert_eq!(s, 200);
            b["elements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let (s, _) = raw(
        Method::POST,
        &format!("{url}/v2.0/metrics"),
        Some(&alice),
        Some("application/json"),
        r#"{"name":"p1.only","timestamp":1767225600000,"value":2}"#,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(names(alice.clone(), "").await, ["m", "p1.only"]);
    // p2 has only the `m` that ops posted in the matrix above.
    assert_eq!(names(bob.clone(), "").await, ["m"]);
    assert_eq!(
        names(bob.clone(), "?tenant_id=p1").await,
        ["m"],
        "tenant_id needs the delegate role"
    );
    assert_eq!(names(ops.clone(), "?tenant_id=p1").await, ["m", "p1.only"]);
    let (s, _) = raw(
        Method::POST,
        &format!("{url}/v2.0/metrics?tenant_id=p1"),
        Some(&ops),
        Some("application/json"),
        r#"{"name":"from-ops","timestamp":1767225600000,"value":2}"#,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(names(alice.clone(), "").await, ["from-ops", "m", "p1.only"]);
    assert_eq!(names(bob.clone(), "").await, ["m"]);
    for path in [
        "/v2.0/alarms",
        "/v2.0/alarm-definitions",
        "/v2.0/notification-methods",
    ] {
        let (_, b) = raw(Method::GET, &format!("{url}{path}"), Some(&bob), None, "").await;
        assert_eq!(b["elements"], json!([]), "{path}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn keystone_mode_validates_tokens_with_the_identity_service() {
    // Server A plays Keystone; server B checks every token with it, as a service.
    let (keystone, _a) = start().await;
    let ks = keystone.url();
    let TestServer {
        running: monasca,
        dir: _dir,
    } = TestServer::start_with(|s| {
        s.auth = AuthMode::Keystone;
        s.keystone = Some(vigil_server::identity::keystone::KeystoneConfig {
            url: format!("{ks}/identity"),
            username: "alice".into(),
            password: "alice-secret".into(),
            project: "p1".into(),
            user_domain: "Default".into(),
            project_domain: "Default".into(),
            // Ask Keystone every time, so a revocation shows at once.
            cache_ttl: 0,
            cache_size: 10,
        });
    })
    .await;
    let url = monasca.url();

    let bob = token(&ks, "bob", "p2").await;
    let alice = token(&ks, "alice", "p1").await;
    let (st, _) = raw(
        Method::POST,
        &format!("{url}/v2.0/metrics"),
        Some(&bob),
        Some("application/json"),
        r#"{"name":"bobs","timestamp":1767225600000,"value":1}"#,
    )
    .await;
    assert_eq!(st, 204);
    let (st, b) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics/names"),
        Some(&bob),
        None,
        "",
    )
    .await;
    assert_eq!((st, b["elements"][0]["name"].as_str()), (200, Some("bobs")));
    let (_, b) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics/names"),
        Some(&alice),
        None,
        "",
    )
    .await;
    assert_eq!(b["elements"], json!([]), "projects stay apart");
    let (st, b) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        Some("bogus"),
        None,
        "",
    )
    .await;
    assert_eq!((st, b["error"]["code"].as_i64()), (401, Some(401)));
    // Roles come from Keystone: the agent may post but not read.
    let agent = token(&ks, "agent", "p1").await;
    let (st, _) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        Some(&agent),
        None,
        "",
    )
    .await;
    assert_eq!(st, 401);
    // Revoked in Keystone, refused here.
    let http = reqwest::Client::new();
    let d = http
        .delete(format!("{ks}/identity/v3/auth/tokens"))
        .header("X-Auth-Token", &alice)
        .header("X-Subject-Token", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status().as_u16(), 204);
    let (st, _) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        Some(&bob),
        None,
        "",
    )
    .await;
    assert_eq!(st, 401);
    // Keystone gone: tokens cannot be checked, a 503 in falcon's shape (as keystonemiddleware
    // answers), not a 401 telling the client its token is bad.
    keystone.stop().await.unwrap();
    let (st, b) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        Some(&alice),
        None,
        "",
    )
    .await;
    assert_eq!(st, 503, "{b}");
    assert!(
        b["title"].is_string() && b["description"].is_string(),
        "{b}"
    );
    monasca.stop().await.unwrap();
}

/// Every endpoint, every role, two projects: what each role may do, and that an id of another
/// project is never found.
#[tokio::test]
async fn every_endpoint_every_role_two_projects() {
    let (server, _dir) = start().await;
    let url = server.url();
    let alice = token(&url, "alice", "p1").await;
    let bob = token(&url, "bob", "p2").await;
    // Resources of p1, made by its user.
    let post = |tok: String, path: &'static str, body: &'static str| {
        let url = url.clone();
        async move {
            let (s, b) = raw(
                Method::POST,
                &format!("{url}{path}"),
                Some(&tok),
                Some("application/json"),
                body,
            )
            .await;
            assert!(s == 201 || s == 204, "{path}: {s} {b}");
            b
        }
    };
    post(
        alice.clone(),
        "/v2.0/metrics",
        r#"{"name":"m","dimensions":{"h":"a"},"timestamp":1767225600000,"value":95}"#,
    )
    .await;
    let nm = post(
        alice.clone(),
        "/v2.0/notification-methods",
        r#"{"name":"n","type":"EMAIL","address":"a@b"}"#,
    )
    .await;
    let def = post(
        alice.clone(),
        "/v2.0/alarm-definitions",
        r#"{"name":"d","expression":"max(m) > 90"}"#,
    )
    .await;
    let (nm, def) = (
        nm["id"].as_str().unwrap().to_string(),
        def["id"].as_str().unwrap().to_string(),
    );
    // The engine creates the alarm from the metric above (and the next one).
    post(
        alice.clone(),
        "/v2.0/metrics",
        r#"{"name":"m","dimensions":{"h":"a"},"timestamp":1767225601000,"value":96}"#,
    )
    .await;
    let mut alarm = String::new();
    for _ in 0..250 {
        let (_, b) = raw(
            Method::GET,
            &format!("{url}/v2.0/alarms"),
            Some(&alice),
            None,
            "",
        )
        .await;
        if let Some(id) = b["elements"][0]["id"].as_str() {
            alarm = id.to_string();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!alarm.is_empty(), "no alarm was created");

    let reads = [
        "/v2.0/metrics".to_string(),
        "/v2.0/metrics/measurements?name=m&start_time=2026-01-01T00:00:00Z".into(),
        "/v2.0/metrics/statistics?name=m&statistics=avg&start_time=2026-01-01T00:00:00Z".into(),
        "/v2.0/metrics/names".into(),
        "/v2.0/metrics/dimensions/names".into(),
        "/v2.0/metrics/dimensions/names/values?dimension_name=h".into(),
        "/v2.0/notification-methods".into(),
        format!("/v2.0/notification-methods/{nm}"),
        "/v2.0/notification-methods/types".into(),
        "/v2.0/alarm-definitions".into(),
        format!("/v2.0/alarm-definitions/{def}"),
        "/v2.0/alarms".into(),
        format!("/v2.0/alarms/{alarm}"),
        "/v2.0/alarms/count".into(),
        "/v2.0/alarms/state-history".into(),
        format!("/v2.0/alarms/{alarm}/state-history"),
    ];
    // Which roles may read: metrics for user, read-only and delegate; the rest for user and
    // read-only.
    for (name, project, metrics_ok, others_ok) in [
        ("alice", "p1", true, true),
        ("reader", "p1", true, true),
        ("agent", "p1", false, false),
        ("ops", "p2", true, false),
    ] {
        let tok = token(&url, name, project).await;
        for path in &reads {
            let metrics = path.starts_with("/v2.0/metrics");
            let allowed = if metrics { metrics_ok } else { others_ok };
            let (s, b) = raw(Method::GET, &format!("{url}{path}"), Some(&tok), None, "").await;
            if allowed {
                assert_eq!(s, 200, "{name} GET {path}: {b}");
            } else {
                assert_eq!(
                    (s, b["title"].as_str()),
                    (401, Some("Forbidden")),
                    "{name} GET {path}"
                );
            }
        }
    }
    // The other project's user: lists are empty, ids are not found, nothing can be changed.
    for path in &reads {
        let (s, b) = raw(Method::GET, &format!("{url}{path}"), Some(&bob), None, "").await;
        if path.ends_with(&nm) || path.ends_with(&def) || path.ends_with(&alarm) {
            assert_eq!(s, 404, "bob GET {path}: {b}");
        } else if path.contains("/count") {
            assert_eq!(b["counts"], json!([[0]]), "bob GET {path}");
        } else if path.ends_with("/types") {
            assert_eq!(s, 200);
        } else {
            assert_eq!(
                (s, &b["elements"]),
                (200, &json!([])),
                "bob GET {path}: {b}"
            );
        }
    }
    let writes = [
        (
            Method::PATCH,
            format!("/v2.0/notification-methods/{nm}"),
            r#"{"name":"x"}"#,
        ),
        (
            Method::PUT,
            format!("/v2.0/notification-methods/{nm}"),
            r#"{"name":"x","type":"EMAIL","address":"a@b","period":0}"#,
        ),
        (
            Method::PATCH,
            format!("/v2.0/alarm-definitions/{def}"),
            r#"{"severity":"HIGH"}"#,
        ),
        (
            Method::PATCH,
            format!("/v2.0/alarms/{alarm}"),
            r#"{"link":"http://x"}"#,
        ),
        (Method::DELETE, format!("/v2.0/alarms/{alarm}"), ""),
        (Method::DELETE, format!("/v2.0/alarm-definitions/{def}"), ""),
        (
            Method::DELETE,
            format!("/v2.0/notification-methods/{nm}"),
            "",
        ),
    ];
    for (method, path, body) in &writes {
        let (s, b) = raw(
            method.clone(),
            &format!("{url}{path}"),
            Some(&bob),
            Some("application/json"),
            *body,
        )
        .await;
        assert_eq!(s, 404, "bob {method} {path}: {b}");
        for (name, project) in [("reader", "p1"), ("agent", "p1")] {
            let tok = token(&url, name, project).await;
            let (s, b) = raw(
                method.clone(),
                &format!("{url}{path}"),
                Some(&tok),
                Some("application/json"),
                *body,
            )
            .await;
            assert_eq!(
                (s, b["title"].as_str()),
                (401, Some("Forbidden")),
                "{name} {method} {path}"
            );
        }
    }
    // And the owner can do all of it.
    for (method, path, body) in &writes {
        let (s, b) = raw(
            method.clone(),
            &format!("{url}{path}"),
            Some(&alice),
            Some("application/json"),
            *body,
        )
        .await;
        assert!(s == 200 || s == 204, "alice {method} {path}: {s} {b}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn application_credentials_log_in_as_their_user() {
    let (server, _dir) = start().await;
    let url = server.url();
    let alice = token(&url, "alice", "p1").await;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!(
            "{url}/identity/v3/users/alice/application_credentials"
        ))
        .header("X-Auth-Token", &alice)
        .json(&json!({"application_credential": {"name": "ci"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cred = &created["application_credential"];
    let (id, secret) = (
        cred["id"].as_str().unwrap(),
        cred["secret"].as_str().unwrap(),
    );
    assert_eq!(cred["project_id"], "p1");
    let login = |ident: Value| {
        let url = url.clone();
        async move {
            let body = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": ident}}});
            let r = reqwest::Client::new()
                .post(format!("{url}/identity/v3/auth/tokens"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.headers()
                    .get("x-subject-token")
                    .map(|v| v.to_str().unwrap().to_string()),
            )
        }
    };
    let (s, tok) = login(json!({"id": id, "secret": secret})).await;
    assert_eq!(s, 201);
    let (s, _) = raw(
        Method::GET,
        &format!("{url}/v2.0/metrics"),
        tok.as_deref(),
        None,
        "",
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = login(json!({"name": "ci", "user": {"name": "alice", "domain": {"name": "Default"}}, "secret": secret})).await;
    assert_eq!(s, 201);
    let (s, _) = login(json!({"id": id, "secret": "wrong"})).await;
    assert_eq!(s, 401);
    // Only for oneself.
    let bob = token(&url, "bob", "p2").await;
    let r = http
        .post(format!(
            "{url}/identity/v3/users/alice/application_credentials"
        ))
        .header("X-Auth-Token", &bob)
        .json(&json!({"application_credential": {"name": "steal"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    server.stop().await.unwrap();
}
