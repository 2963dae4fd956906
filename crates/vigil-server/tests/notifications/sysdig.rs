//! Sysdig alert notifications reach the alert's channels, with Sysdig's webhook document.

use std::time::Duration;

use crate::kit::{TestServer, sysdig_creds::ADMIN_TOKEN, with_sysdig_creds};
use http::Method;
use serde_json::json;
use sysdig::{alerts::Alert, channels::Channel};

use vigil_testkit::receiver::Receiver;

async fn start() -> TestServer {
    TestServer::start_with(|s| {
        with_sysdig_creds(s);
        s.notifications.timeout_ms = 500;
        s.notifications.backoff_base_ms = 100;
    })
    .await
}

#[tokio::test]
async fn a_firing_alert_posts_sysdigs_document_with_the_channels_headers_and_data() {
    let server = start().await;
    let hooks = Receiver::start().await;
    let c = server.sysdig(ADMIN_TOKEN);
    let mut hook = Channel::webhook("ops hook", format!("{}/sysdig", hooks.url));
    hook.options
        .extra
        .insert("additionalHeaders".into(), json!({"X-Token": "t0k"}));
    hook.options
        .extra
        .insert("customData".into(), json!({"env": "prod"}));
    let hook = c.channels().create(&hook).await.unwrap();
    let mut quiet = Channel::webhook("quiet hook", format!("{}/quiet", hooks.url));
    quiet.enabled = Some(false);
    let quiet = c.channels().create(&quiet).await.unwrap();
    let ids = vec![hook.id.unwrap(), quiet.id.unwrap()];
    let mut alert = Alert::manual("cpu busy", "avg(cpu.used.percent) > 80").severity(2);
    alert.notification_channel_ids = Some(ids);
    let alert = c.alerts().create(&alert).await.unwrap();
    let now_us = jiff::Timestamp::now().as_microsecond();
    c.raw(Method::POST, "/vigil/sysdig/notifications")
        .json(&json!({"notification": {"alert": alert.id, "state": "ACTIVE", "value": 91.5, "timestamp": now_us}}))
        .unwrap()
        .send()
        .await
        .unwrap();
    let got = hooks.wait("/sysdig", 1).await;
    let b = &got[0].body;
    assert_eq!(got[0].headers["x-token"], "t0k");
    assert!(got[0].headers.contains_key("idempotency-key"));
    assert_eq!(b["env"], "prod");
    assert_eq!(
        (b["state"].as_str(), b["resolved"].as_bool()),
        (Some("ACTIVE"), Some(false))
    );
    assert_eq!(b["timestamp"], now_us);
    assert_eq!(b["condition"], "avg(cpu.used.percent) > 80");
    assert_eq!(b["alert"]["name"], "cpu busy");
    assert_eq!(b["alert"]["severity"], 2);
    assert_eq!(b["alert"]["id"], json!(alert.id));
    assert_eq!(b["entities"][0]["metricValues"][0]["value"], 91.5);
    let attempts = c.channels().deliveries(hook.id.unwrap()).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, "DELIVERED");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        hooks.received("/quiet").is_empty(),
        "a disabled channel is not told"
    );
    server.stop().await;
}

#[tokio::test]
async fn channels_send_test_notifications_on_request_and_on_save() {
    let server = start().await;
    let hooks = Receiver::start().await;
    let c = server.sysdig(ADMIN_TOKEN);
    let ch = c
        .channels()
        .create(&Channel::slack(
            "team room",
            format!("{}/slack", hooks.url),
            None,
        ))
        .await
        .unwrap();
    let id = ch.id.unwrap();
    let queued = c.channels().send_test(id).await.unwrap();
    assert_eq!(queued.notification_channel_id, id);
    let got = hooks.wait("/slack", 1).await;
    assert!(
        got[0].body["text"]
            .as_str()
            .unwrap()
            .contains("Test notification"),
        "{got:?}"
    );
    let attempts = c.channels().deliveries(id).await.unwrap();
    assert_eq!(
        (attempts[0].event_id.as_str(), attempts[0].test),
        (queued.event_id.as_str(), true)
    );

    let mut saved = Channel::webhook("tested on save", format!("{}/saved", hooks.url));
    saved
        .extra
        .insert("sendTestNotification".into(), json!(true));
    c.channels().create(&saved).await.unwrap();
    hooks.wait("/saved", 1).await;

    let bad = c
        .channels()
        .create(&Channel::webhook("bad", "gopher://127.0.0.1/x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("http or https"), "{bad}");
    server.stop().await;
}
