//! Monasca alarm actions reach their receivers.

use std::time::Duration;

use crate::kit::{Settings, TestServer, inline_engine};
use monasca::{
    Client,
    alarms::{CreateAlarmDefinition, ListAlarms, Params, UpdateAlarm},
    metrics::CreateMetrics,
    notification_methods::{
        CreateNotificationMethod, ListDeliveries, ListNotificationMethodTypes,
        TestNotificationMethod,
    },
    types::{AlarmDefinitionRequest, AlarmState, AlarmUpdate, NotificationMethodRequest},
};

use crate::common::metric;
use vigil_testkit::receiver::{Answer, Receiver};

fn fast_delivery(s: &mut Settings) {
    s.engine = inline_engine(Duration::from_millis(50));
    s.notifications.timeout_ms = 500;
    s.notifications.backoff_base_ms = 100;
    s.notifications.backoff_max_ms = 300;
}

async fn method(c: &Client, name: &str, kind: &str, address: &str) -> String {
    c.send(&CreateNotificationMethod(NotificationMethodRequest {
        name: name.into(),
        kind: kind.into(),
        address: address.into(),
        period: None,
    }))
    .await
    .unwrap()
    .id
}

async fn definition(
    c: &Client,
    name: &str,
    expression: &str,
    alarm: &[&str],
    ok: &[&str],
) -> String {
    c.send(&CreateAlarmDefinition(AlarmDefinitionRequest {
        name: name.into(),
        expression: expression.into(),
        alarm_actions: Some(alarm.iter().map(|s| s.to_string()).collect()),
        ok_actions: Some(ok.iter().map(|s| s.to_string()).collect()),
        match_by: Some(vec!["hostname".into()]),
        ..Default::default()
    }))
    .await
    .unwrap()
    .id
}

async fn post(c: &Client, name: &str, value: f64) {
    let now = jiff::Timestamp::now().as_millisecond();
    c.send(&CreateMetrics::batch(&[metric(name, &[("hostname", "web1")], now, value)]).unwrap())
        .await
        .unwrap();
}

async fn statuses(c: &Client, id: &str) -> Vec<String> {
    c.send(&ListDeliveries {
        id: id.into(),
        limit: None,
    })
    .await
    .unwrap()
    .elements
    .into_iter()
    .map(|a| a.status)
    .collect()
}

/// The deliveries' statuses once they are all DELIVERED, or as they are after `within`: the
/// receiver sees a request before the server has recorded its answer (later still when the
/// outbox is in PostgreSQL), so a status read right after the receiver's may lag behind it.
async fn statuses_within(c: &Client, id: &str, within: Duration) -> Vec<String> {
    let until = tokio::time::Instant::now() + within;
    loop {
        let now = statuses(c, id).await;
        let done = !now.is_empty() && now.iter().all(|s| s == "DELIVERED");
        if done || tokio::time::Instant::now() >= until {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_transition_posts_upstreams_webhook_document_once() {
    let server = TestServer::start_with(|s| {
        fast_delivery(s);
        s.notifications.email = None;
    })
    .await;
    let hooks = Receiver::start().await;
    let c = server.monasca("acme");
    let types = c.send(&ListNotificationMethodTypes).await.unwrap();
    let types: Vec<_> = types.elements.iter().map(|t| t.kind.to_string()).collect();
    assert_eq!(
        types,
        ["PAGERDUTY", "SLACK", "WEBHOOK"],
        "no SMTP server, no EMAIL"
    );
    let refused = c
        .send(&CreateNotificationMethod(NotificationMethodRequest {
            name: "mail".into(),
            kind: "EMAIL".into(),
            address: "ops@example.com".into(),
            period: None,
        }))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("Not a valid notification method type EMAIL"),
        "{refused}"
    );

    let hook = method(&c, "hook", "WEBHOOK", &format!("{}/hook", hooks.url)).await;
    let def = definition(&c, "cpu high", "max(cpu) > 90", &[&hook], &[&hook]).await;
    post(&c, "cpu", 95.0).await;
    let got = hooks.wait("/hook", 1).await;
    let alarms = c.send(&ListAlarms(Params::new())).await.unwrap();
    let alarm = &alarms.elements[0];
    let b = &got[0].body;
    assert_eq!(b["alarm_id"], alarm.id.as_str());
    assert_eq!(b["alarm_definition_id"], def.as_str());
    assert_eq!(b["alarm_name"], "cpu high");
    assert_eq!(
        (b["old_state"].as_str(), b["state"].as_str()),
        (Some("UNDETERMINED"), Some("ALARM"))
    );
    assert_eq!(b["tenant_id"], "acme");
    assert_eq!(
        b["metrics"],
        serde_json::json!([{"name": "cpu", "dimensions": {"hostname": "web1"}}])
    );
    assert!(b["alarm_timestamp"].is_i64());
    let key = got[0].headers["idempotency-key"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!key.is_empty());

    // Through the API too: setting OK is a transition, told to the OK actions.
    c.send(&UpdateAlarm {
        id: alarm.id.clone(),
        body: AlarmUpdate {
            state: Some(AlarmState::Ok),
            ..Default::default()
        },
        partial: true,
    })
    .await
    .unwrap();
    let got = hooks.wait("/hook", 2).await;
    assert_eq!(got[1].body["state"], "OK");
    assert_eq!(got[1].body["message"], "Alarm state updated via API");
    assert_ne!(got[1].headers["idempotency-key"].to_str().unwrap(), key);
    // The engine may take it back to ALARM at its next evaluation (95 is still in the
    // window): a transition of its own. Each transition arrives once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = hooks.received("/hook");
    let keys: std::collections::BTreeSet<_> = got
        .iter()
        .map(|r| r.headers["idempotency-key"].clone())
        .collect();
    assert_eq!(
        keys.len(),
        got.len(),
        "a transition delivered twice: {got:?}"
    );
    assert!(statuses(&c, &hook).await.iter().all(|s| s == "DELIVERED"));
    server.stop().await;
}

#[tokio::test]
async fn a_hanging_receiver_delays_no_one_and_a_500_is_retried_with_the_same_key() {
    let server = TestServer::start_with(fast_delivery).await;
    let hooks = Receiver::start().await;
    hooks.script("/hang", &[Answer::Hang, Answer::Hang, Answer::Hang]);
    hooks.script("/flaky", &[Answer::Status(500)]);
    let c = server.monasca("acme");
    let hang = method(&c, "hang", "WEBHOOK", &format!("{}/hang", hooks.url)).await;
    let flaky = method(&c, "flaky", "WEBHOOK", &format!("{}/flaky", hooks.url)).await;
    let fast = method(&c, "fast", "WEBHOOK", &format!("{}/fast", hooks.url)).await;
    definition(&c, "disk", "max(disk) > 90", &[&hang, &flaky, &fast], &[]).await;
    post(&c, "disk", 99.0).await;
    hooks.wait("/fast", 1).await;
    assert_eq!(
        statuses_within(&c, &fast, Duration::from_millis(300)).await,
        ["DELIVERED"],
        "not held up by the hanging one"
    );
    let flaky_posts = hooks.wait("/flaky", 2).await;
    assert_eq!(
        flaky_posts[0].headers["idempotency-key"],
        flaky_posts[1].headers["idempotency-key"]
    );
    assert_eq!(flaky_posts[0].body, flaky_posts[1].body);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if statuses(&c, &flaky).await == ["DELIVERED", "RETRYING"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The hanging receiver times out and is tried again.
    hooks.wait("/hang", 2).await;
    let attempts = c
        .send(&ListDeliveries {
            id: hang.clone(),
            limit: None,
        })
        .await
        .unwrap()
        .elements;
    assert_eq!(attempts.last().unwrap().status, "RETRYING");
    assert!(
        attempts.last().unwrap().answer.contains("timed out"),
        "{attempts:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_test_route_sends_through_the_method() {
    let server = TestServer::start_with(fast_delivery).await;
    let hooks = Receiver::start().await;
    let c = server.monasca("acme");
    let hook = method(&c, "pager", "SLACK", &format!("{}/slack", hooks.url)).await;
    let queued = c.send(&TestNotificationMethod(hook.clone())).await.unwrap();
    let got = hooks.wait("/slack", 1).await;
    let text: serde_json::Value =
        serde_json::from_str(got[0].body["text"].as_str().unwrap()).unwrap();
    assert_eq!(text["alarm_name"], "Test notification through pager");
    let attempts = c
        .send(&ListDeliveries {
            id: hook.clone(),
            limit: None,
        })
        .await
        .unwrap()
        .elements;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(
        (attempts[0].event_id.as_str(), attempts[0].test),
        (queued.event_id.as_str(), true)
    );
    // Another tenant cannot test or read the method.
    let other = server.monasca("someone-else");
    assert!(
        other
            .send(&TestNotificationMethod(hook.clone()))
            .await
            .is_err()
    );
    assert!(
        other
            .send(&ListDeliveries {
                id: hook,
                limit: None
            })
            .await
            .is_err()
    );
    server.stop().await;
}

#[tokio::test]
async fn denied_networks_are_refused_at_save_and_at_send() {
    let server = TestServer::start_with(|s| {
        fast_delivery(s);
        s.notifications.webhook_deny_networks = vec!["127.0.0.0/8".into(), "::1/128".into()];
    })
    .await;
    let hooks = Receiver::start().await;
    let c = server.monasca("acme");
    let refused = c
        .send(&CreateNotificationMethod(NotificationMethodRequest {
            name: "internal".into(),
            kind: "WEBHOOK".into(),
            address: format!("{}/x", hooks.url),
            period: None,
        }))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("not allowed"), "{refused}");
    // A name is only resolved when sending: refused then, and recorded as dropped.
    let port = hooks.url.rsplit(':').next().unwrap();
    let named = method(
        &c,
        "by name",
        "WEBHOOK",
        &format!("http://localhost:{port}/x"),
    )
    .await;
    c.send(&TestNotificationMethod(named.clone()))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while statuses(&c, &named).await.is_empty() {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(statuses(&c, &named).await, ["DROPPED"]);
    assert!(hooks.received("/x").is_empty());
    server.stop().await;
}

/// Deleting a method a definition names takes it out of the definition's actions (upstream's
/// rule), but what was already queued to it is still delivered: no transition is lost.
#[tokio::test]
async fn a_deleted_methods_queued_deliveries_still_arrive() {
    use monasca::{alarms::GetAlarmDefinition, notification_methods::DeleteNotificationMethod};
    let server = TestServer::start_with(fast_delivery).await;
    // The receiver's port, with nobody listening yet: the first attempts are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = server.monasca("acme");
    let hook = method(
        &c,
        "soon gone",
        "WEBHOOK",
        &format!("http://127.0.0.1:{port}/hook"),
    )
    .await;
    let def = definition(&c, "gone", "last(gone) > 1", &[&hook], &[]).await;
    post(&c, "gone", 5.0).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !statuses(&c, &hook).await.iter().any(|s| s == "RETRYING") {
        assert!(std::time::Instant::now() < deadline, "no failed attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.send(&DeleteNotificationMethod(hook.clone()))
        .await
        .unwrap();
    let d = c.send(&GetAlarmDefinition { id: def }).await.unwrap();
    assert!(d.alarm_actions.is_empty(), "{:?}", d.alarm_actions);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let hooks = Receiver::start_on(listener).await;
    let got = hooks.wait("/hook", 1).await;
    assert_eq!(got[0].body["alarm_name"], "gone");
    server.stop().await;
}
