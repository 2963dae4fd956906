//! `vigil serve --config-db postgres://…`: two nodes over one throwaway PostgreSQL (started
//! by the test, see `config_repo_postgres::testing`) serve the same definitions, alarms,
//! notification methods and Sysdig objects. `#[ignore]`d: `.ci/run` runs them after
//! installing Debian's `postgresql`.

use std::time::Duration;

use config_repo_postgres::{PgSettings, testing};
use monasca::{
    alarms::{CreateAlarmDefinition, ListAlarmDefinitions, ListAlarms, Params},
    metrics::CreateMetrics,
    notification_methods::{CreateNotificationMethod, GetNotificationMethod},
    types::{AlarmDefinitionRequest, NotificationMethodRequest},
};
use sysdig::alerts::Alert;
use vigil_server::config::ConfigDb;

use reqwest::Method;

use crate::{
    common::{T0, metric},
    kit::{TestServer, inline_engine, raw, sysdig_creds::ADMIN_TOKEN, with_sysdig_creds},
};

async fn node(url: &str) -> TestServer {
    node_with(url, |_| {}).await
}

async fn node_with(
    url: &str,
    more: impl FnOnce(&mut vigil_server::config::Settings) + Send + 'static,
) -> TestServer {
    let url = url.to_string();
    TestServer::start_with(move |s| {
        s.config_db = ConfigDb::Postgres(Box::new(PgSettings::parse(&url).unwrap()));
        s.engine = inline_engine(Duration::from_secs(3600));
        with_sysdig_creds(s);
        more(s);
    })
    .await
}

/// Logs `mini-mon` (the default user) in on `node`, scoped to its project: the token.
async fn login(node: &TestServer) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "mini-mon", "domain": {"name": "Default"}, "password": "password"}}},
        "scope": {"project": {"name": "mini-mon", "domain": {"name": "Default"}}}}});
    let resp = reqwest::Client::new()
        .post(format!("{}/identity/v3/auth/tokens", node.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn a_token_issued_by_one_node_is_accepted_and_revoked_on_every_node() {
    let url = testing::fresh_database();
    let identity = |s: &mut vigil_server::config::Settings| {
        s.auth = vigil_server::identity::AuthMode::Identity;
    };
    let (a, b) = tokio::join!(node_with(&url, identity), node_with(&url, identity));
    let token = login(&a).await;
    let methods = |n: &TestServer| format!("{}/v2.0/notification-methods", n.url());
    let (status, body) = raw(Method::GET, &methods(&b), Some(&token), None, "").await;
    assert_eq!(status, 200, "B accepts A's token: {body}");
    let (status, _) = raw(Method::GET, &methods(&b), Some("not-a-token"), None, "").await;
    assert_eq!(status, 401);
    // An application credential made on A logs in on B, by id and by name; not with
    // another secret.
    let made: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/identity/v3/users/mini-mon/application_credentials",
            a.url()
        ))
        .header("x-auth-token", &token)
        .json(&serde_json::json!({"application_credential": {"name": "ci"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cred = &made["application_credential"];
    let (cred_id, secret) = (
        cred["id"].as_str().unwrap(),
        cred["secret"].as_str().unwrap(),
    );
    for (ident, want) in [
        (serde_json::json!({"id": cred_id, "secret": secret}), 201),
        (
            serde_json::json!({"name": "ci", "user": {"name": "mini-mon"}, "secret": secret}),
            201,
        ),
        (serde_json::json!({"id": cred_id, "secret": "wrong"}), 401),
    ] {
        let body = serde_json::json!({"auth": {"identity": {
            "methods": ["application_credential"], "application_credential": ident}}});
        let status = reqwest::Client::new()
            .post(format!("{}/identity/v3/auth/tokens", b.url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, want, "{body}");
    }
    // The database holds hashes of the tokens and the secret, never them.
    let db = testing::open(&url).await;
    let (in_clear, secret) = (token.clone(), secret.to_string());
    let (rows, clear): (i64, i64) = db
        .call(move |c| {
            let r = c
                .query_one(
                    "SELECT (SELECT count(*) FROM identity_tokens), \
                     (SELECT count(*) FROM identity_tokens WHERE token_hash = $1) + \
                     (SELECT count(*) FROM identity_app_credentials WHERE secret_hash = $2)",
                    &[&in_clear, &secret],
                )
                .unwrap();
            Ok((r.get(0), r.get(1)))
        })
        .await
        .unwrap();
    assert_eq!((rows, clear), (3, 0), "three logins, nothing in clear");
    // Revoked through B, refused by A.
    let revoked = reqwest::Client::new()
        .delete(format!("{}/identity/v3/auth/tokens", b.url()))
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    let (status, _) = raw(Method::GET, &methods(&a), Some(&token), None, "").await;
    assert_eq!(status, 401, "A refuses the token B revoked");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn two_nodes_over_one_postgres_serve_the_same_configuration() {
    let url = testing::fresh_database();
    // Started together: one migrates the schema and bootstraps the Sysdig customer, the
    // other finds both done.
    let (a, b) = tokio::join!(node(&url), node(&url));
    let (ca, cb) = (a.monasca("acme"), b.monasca("acme"));

    // A method made on one node is read on the other, and its name is taken on both.
    let hook = NotificationMethodRequest {
        name: "ops-hook".into(),
        kind: "WEBHOOK".into(),
        address: "http://127.0.0.1:9/hook".into(),
        period: None,
    };
    let made = ca
        .send(&CreateNotificationMethod(hook.clone()))
        .await
        .unwrap();
    let seen = cb
        .send(&GetNotificationMethod(made.id.clone()))
        .await
        .unwrap();
    assert_eq!(seen.name, "ops-hook");
    let dup = cb.send(&CreateNotificationMethod(hook)).await.unwrap_err();
    assert_eq!(dup.status(), Some(409));

    // A definition made on A, a metric posted to A: the alarm A's engine opens is listed
    // by B.
    let def = ca
        .send(&CreateAlarmDefinition(AlarmDefinitionRequest {
            name: "cpu high".into(),
            expression: "avg(cpu) > 10".into(),
            alarm_actions: Some(vec![made.id.clone()]),
            ..Default::default()
        }))
        .await
        .unwrap();
    let defs = cb.page(&ListAlarmDefinitions(Params::new())).await.unwrap();
    assert_eq!(defs.elements.len(), 1);
    assert_eq!(defs.elements[0].alarm_actions, vec![made.id.clone()]);
    ca.send(&CreateMetrics::batch(&[metric("cpu", &[("hostname", "h1")], T0, 50.0)]).unwrap())
        .await
        .unwrap();
    let mut alarms = Vec::new();
    for _ in 0..50 {
        alarms = cb
            .page(&ListAlarms(
                Params::new().set("alarm_definition_id", &def.id),
            ))
            .await
            .unwrap()
            .elements;
        if !alarms.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(alarms.len(), 1, "B lists the alarm A's engine opened");
    // Tenants stay apart.
    let other = b
        .monasca("someone-else")
        .page(&ListAlarmDefinitions(Params::new()))
        .await
        .unwrap();
    assert!(other.elements.is_empty());

    // Sysdig: both nodes bootstrapped the same customer once; an alert made on one is read
    // on the other.
    let alert = a
        .sysdig(ADMIN_TOKEN)
        .alerts()
        .create(&Alert::manual("cpu busy", "avg(cpu.used.percent) > 80"))
        .await
        .unwrap();
    let read = b
        .sysdig(ADMIN_TOKEN)
        .alerts()
        .get(alert.id.unwrap())
        .await
        .unwrap();
    assert_eq!(read.name, "cpu busy");

    // A node started later, over a new data directory, finds it all.
    a.stop().await;
    let c = node(&url).await;
    let seen = c
        .monasca("acme")
        .send(&GetNotificationMethod(made.id.clone()))
        .await
        .unwrap();
    assert_eq!(seen.name, "ops-hook");
    b.stop().await;
    c.stop().await;
}

/// A PostgreSQL of the test's own (the test stops and starts it) and a database in it.
async fn own_instance() -> (std::sync::Arc<testing::Instance>, String) {
    let pg = std::sync::Arc::new(
        tokio::task::spawn_blocking(testing::Instance::create)
            .await
            .unwrap(),
    );
    let url = on_instance(&pg, testing::Instance::create_database).await;
    (pg, url)
}

/// Runs `f` (blocking) on the instance.
async fn on_instance<T: Send + 'static>(
    pg: &std::sync::Arc<testing::Instance>,
    f: fn(&testing::Instance) -> T,
) -> T {
    let pg = pg.clone();
    tokio::task::spawn_blocking(move || f(&pg)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn while_postgres_is_down_requests_get_503_and_the_node_recovers_by_itself() {
    let (pg, url) = own_instance().await;
    let server = node(&url).await;
    let methods = format!("{}/v2.0/notification-methods", server.url());
    let (status, _) = raw(Method::GET, &methods, Some("acme"), None, "").await;
    assert_eq!(status, 200);

    on_instance(&pg, testing::Instance::stop).await;
    let (status, body) = raw(Method::GET, &methods, Some("acme"), None, "").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["title"].is_string() && body["description"].is_string(),
        "{body}"
    );
    let made = raw(
        Method::POST,
        &methods,
        Some("acme"),
        Some("application/json"),
        r#"{"name": "hook", "type": "WEBHOOK", "address": "http://127.0.0.1:9/"}"#,
    )
    .await;
    assert_eq!(made.0, 503, "{}", made.1);
    let sysdig = server.sysdig(ADMIN_TOKEN).alerts().list().await;
    assert!(sysdig.is_err(), "the Sysdig API refuses too");

    on_instance(&pg, testing::Instance::start).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = raw(Method::GET, &methods, Some("acme"), None, "").await;
    assert_eq!(status, 200, "{body}");
    let made = raw(
        Method::POST,
        &methods,
        Some("acme"),
        Some("application/json"),
        r#"{"name": "hook", "type": "WEBHOOK", "address": "http://127.0.0.1:9/"}"#,
    )
    .await;
    assert_eq!(made.0, 201, "{}", made.1);
    server.sysdig(ADMIN_TOKEN).alerts().list().await.unwrap();
    server.stop().await;
}

/// With the built-in identity every request's token is checked in PostgreSQL: while it is
/// down a valid token is neither accepted nor refused, so the answer is a 503 in falcon's
/// shape (as keystonemiddleware answers when Keystone is unreachable), not a 401 telling the
/// client to log in again; the same token works once PostgreSQL is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn while_postgres_is_down_a_token_check_is_a_503_not_a_401() {
    let (pg, url) = own_instance().await;
    let server = node_with(&url, |s| {
        s.auth = vigil_server::identity::AuthMode::Identity;
    })
    .await;
    let token = login(&server).await;
    let metrics = format!("{}/v2.0/metrics", server.url());
    let tokens = format!("{}/identity/v3/auth/tokens", server.url());
    let prom = format!("{}/api/v1/labels", server.url());
    assert_eq!(
        raw(Method::GET, &metrics, Some(&token), None, "").await.0,
        200
    );

    on_instance(&pg, testing::Instance::stop).await;
    let (status, body) = raw(Method::GET, &metrics, Some(&token), None, "").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["title"], "Service unavailable", "{body}");
    let validate = reqwest::Client::new()
        .get(&tokens)
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(validate.status().as_u16(), 503, "token validation");
    let labels = reqwest::Client::new()
        .get(&prom)
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(labels.status().as_u16(), 503, "the Prometheus API");

    on_instance(&pg, testing::Instance::start).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = raw(Method::GET, &metrics, Some(&token), None, "").await;
    assert_eq!(
        status, 200,
        "the same token once PostgreSQL is back: {body}"
    );
    let (status, _) = raw(Method::GET, &metrics, Some("not-a-token"), None, "").await;
    assert_eq!(status, 401);
    server.stop().await;
}
