//! Points where Vigil answers as openstack/monasca-api does even though another answer would
//! look reasonable: metric names, alarm definition updates, group paging ids, 401 challenges.

use crate::kit::TestServer;
use monasca::{
    alarms::{CreateAlarmDefinition, UpdateAlarmDefinition},
    metrics::{CreateMetrics, ListMeasurements, ListStatistics},
    types::AlarmDefinitionRequest,
};
use reqwest::Method;
use serde_json::json;
use vigil_server::identity::{AuthMode, UserConfig, keystone::KeystoneConfig};

use crate::common::{Server, T0, metric, raw};

#[tokio::test]
async fn an_empty_name_is_refused_wherever_it_stands_in_the_batch() {
    let server = Server::start().await;
    let url = format!("{}/v2.0/metrics", server.url());
    let empty = r#"{"name":"","value":1,"timestamp":1767225600000}"#;
    let good = r#"{"name":"a","value":1,"timestamp":1767225600000}"#;
    for body in [
        empty.to_string(),
        format!("[{empty}]"),
        format!("[{empty},{good}]"),
        format!("[{good},{empty}]"),
    ] {
        let (status, answer) = raw(
            Method::POST,
            &url,
            Some("acme"),
            Some("application/json"),
            body.clone(),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(
            answer["description"], "invalid length for metric name: ",
            "{body}"
        );
    }
    let names = raw(
        Method::GET,
        &format!("{}/v2.0/metrics/names", server.url()),
        Some("acme"),
        None,
        "",
    )
    .await;
    assert_eq!(names.1["elements"], json!([]), "nothing was stored");
}

async fn definition(c: &monasca::Client, match_by: &[&str]) -> String {
    let req = AlarmDefinitionRequest {
        name: format!("d{}", match_by.join("-")),
        expression: "avg(cpu) > 90".into(),
        match_by: Some(match_by.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    c.send(&CreateAlarmDefinition(req)).await.unwrap().id
}

#[tokio::test]
async fn definition_updates_as_upstream_checks_them() {
    let server = Server::start().await;
    let c = server.client("acme");
    let url = |id: &str| format!("{}/v2.0/alarm-definitions/{id}", server.url());
    let send = |method: Method, id: String, body: serde_json::Value| {
        let u = url(&id);
        async move {
            raw(
                method,
                &u,
                Some("acme"),
                Some("application/json"),
                body.to_string(),
            )
            .await
        }
    };
    let id = definition(&c, &["hostname"]).await;

    // PATCH takes the strings as upstream does: Python's truth value of what it gets.
    for (given, enabled) in [
        (json!(false), false),
        (json!("true"), true),
        (json!(false), false),
        (json!("false"), true),
        (json!(""), false),
        (json!(null), false),
        (json!(1), true),
    ] {
        let (s, d) = send(Method::PATCH, id.clone(), json!({"actions_enabled": given})).await;
        assert_eq!(
            (s, &d["actions_enabled"]),
            (200, &json!(enabled)),
            "{given}: {d}"
        );
    }
    // PUT and POST check the schema: a boolean only.
    let full = json!({"name": "put", "expression": "avg(cpu) > 90", "description": "",
        "severity": "LOW", "match_by": ["hostname"], "alarm_actions": [], "ok_actions": [],
        "undetermined_actions": [], "actions_enabled": "true"});
    let (s, e) = send(Method::PUT, id.clone(), full.clone()).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        e["description"],
        "expected bool for dictionary value @ data['actions_enabled']"
    );
    let mut ok = full.clone();
    ok["actions_enabled"] = json!(false);
    let (s, d) = send(Method::PUT, id.clone(), ok).await;
    assert_eq!((s, &d["actions_enabled"]), (200, &json!(false)), "{d}");
    let posted = |body: serde_json::Value| {
        let u = format!("{}/v2.0/alarm-definitions", server.url());
        async move {
            raw(
                Method::POST,
                &u,
                Some("acme"),
                Some("application/json"),
                body.to_string(),
            )
            .await
        }
    };
    let (s, e) =
        posted(json!({"name": "p1", "expression": "avg(cpu) > 1", "actions_enabled": "false"}))
            .await;
    assert_eq!(s, 422, "{e}");
    // Upstream creates every definition enabled, whatever the body says.
    let (s, d) =
        posted(json!({"name": "p2", "expression": "avg(cpu) > 1", "actions_enabled": false})).await;
    assert_eq!((s, &d["actions_enabled"]), (201, &json!(true)), "{d}");

    // match_by never changes, even on a definition without alarms; the same list is fine.
    for (method, body) in [
        (Method::PATCH, json!({"match_by": ["service"]})),
        (Method::PATCH, json!({"match_by": []})),
        (Method::PUT, {
            let mut b = full.clone();
            b["actions_enabled"] = json!(true);
            b["match_by"] = json!(["hostname", "service"]);
            b
        }),
    ] {
        let (s, e) = send(method.clone(), id.clone(), body.clone()).await;
        assert_eq!(
            (s, e["title"].as_str(), e["description"].as_str()),
            (
                422,
                Some("InvalidUpdateException"),
                Some("match_by must not change")
            ),
            "{method} {body}"
        );
    }
    let unchanged = c
        .send(&UpdateAlarmDefinition {
            id: id.clone(),
            body: json!({"match_by": ["hostname"], "severity": "HIGH"}),
            partial: true,
        })
        .await
        .unwrap();
    assert_eq!(
        (unchanged.severity.as_str(), unchanged.match_by),
        ("HIGH", vec!["hostname".to_string()])
    );
    let none = definition(&c, &[]).await;
    let (s, e) = send(Method::PATCH, none, json!({"match_by": ["hostname"]})).await;
    assert_eq!(s, 422, "{e}");
}

/// Upstream's InfluxDB repository numbers the elements of a page from 0, from the offset's id
/// (measurements) or from one past it (statistics); the client follows `next` links.
#[tokio::test]
async fn grouped_pages_number_their_elements_as_upstream() {
    let server = Server::start().await;
    let c = server.client("acme");
    let hosts = ["h0", "h1", "h2", "h3"];
    let mut batch = Vec::new();
    for h in hosts {
        for p in 0..5 {
            batch.push(metric("cpu", &[("hostname", h)], T0 + p * 60_000, 1.0));
        }
    }
    c.send(&CreateMetrics::batch(&batch).unwrap())
        .await
        .unwrap();
    let start = monasca::time::format_seconds(T0);

    // 20 rows, 3 a page: groups are cut in the middle.
    let op = ListStatistics::new("cpu", "count", start.as_str())
        .period(60)
        .group_by("hostname")
        .limit(3);
    let mut page = c.page(&op).await.unwrap();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let next = page.next.clone();
        let query = next.as_ref().map(|u| u.query().unwrap_or("").to_string());
        let offset = query.as_deref().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "offset")
                .map(|(_, v)| v.into_owned())
        });
        for e in &page.elements {
            seen.push((
                e.dimensions["hostname"].clone(),
                e.statistics.len(),
                e.id.clone(),
            ));
        }
        let Some(next) = next else { break };
        let offset = offset.unwrap();
        let following: monasca::Page<monasca::types::Statistics> = c.get_page(next).await.unwrap();
        let first_id = match offset.split_once('_') {
            Some((id, _)) => id.parse::<usize>().unwrap() + 1,
            None => 0,
        };
        for (i, e) in following.elements.iter().enumerate() {
            assert_eq!(e.id, (first_id + i).to_string(), "offset {offset}");
        }
        page = following;
    }
    assert_eq!(pages, 7);
    let rows: usize = seen.iter().map(|s| s.1).sum();
    assert_eq!(rows, 20, "every bucket of every group, once: {seen:?}");
    let mut groups: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    groups.dedup();
    assert_eq!(groups, hosts);

    let op = ListMeasurements::new("cpu", start.as_str())
        .group_by("hostname")
        .limit(3);
    let mut page = c.page(&op).await.unwrap();
    assert_eq!(
        page.elements
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["0"]
    );
    let mut rows = 0;
    loop {
        rows += page
            .elements
            .iter()
            .map(|e| e.measurements.len())
            .sum::<usize>();
        let Some(next) = page.next.clone() else { break };
        let offset: String = url::form_urlencoded::parse(next.query().unwrap().as_bytes())
            .find(|(k, _)| k == "offset")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let first_id: usize = offset.split_once('_').unwrap().0.parse().unwrap();
        page = c.get_page(next).await.unwrap();
        for (i, e) in page.elements.iter().enumerate() {
            assert_eq!(e.id, (first_id + i).to_string(), "offset {offset}");
        }
    }
    assert_eq!(rows, 20);
}

async fn challenge(url: &str) -> (u16, Option<String>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::Client::new()
        .get(format!("{url}/v2.0/metrics"))
        .send()
        .await
        .unwrap();
    let header = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), header)
}

#[tokio::test]
async fn a_401_names_the_service_that_issues_tokens() {
    // --auth none: no identity service to point at.
    let none = Server::start().await;
    assert_eq!(challenge(&none.url()).await, (401, Some("Token".into())));
    let identity = TestServer::start_with(|s| s.auth = AuthMode::Identity).await;
    let ks = identity.running.url();
    assert_eq!(
        challenge(&ks).await,
        (401, Some(format!("Keystone uri=\"{ks}/identity\"")))
    );
    // The identity service's own refusals say the same, as Keystone's do.
    let refused = reqwest::Client::new()
        .post(format!("{ks}/identity/v3/auth/tokens"))
        .json(
            &json!({"auth": {"identity": {"methods": ["password"], "password": {"user":
            {"name": "mini-mon", "domain": {"name": "Default"}, "password": "wrong"}}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        format!("Keystone uri=\"{ks}/identity\"").as_str()
    );
    let keystone = TestServer::start_with(|s| {
        s.auth = AuthMode::Keystone;
        s.users = vec![UserConfig {
            name: "svc".into(),
            password: "svc-secret".into(),
            project: "p".into(),
            roles: vec!["admin".into()],
        }];
        s.keystone = Some(KeystoneConfig {
            url: format!("{ks}/identity"),
            username: "svc".into(),
            password: "svc-secret".into(),
            project: "p".into(),
            user_domain: "Default".into(),
            project_domain: "Default".into(),
            cache_ttl: 0,
            cache_size: 10,
        });
    })
    .await;
    assert_eq!(
        challenge(&keystone.running.url()).await,
        (401, Some(format!("Keystone uri=\"{ks}/identity\"")))
    );
}
