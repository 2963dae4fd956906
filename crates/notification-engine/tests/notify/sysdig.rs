//! A Sysdig channel's delivery, queued as the API queues a test notification.

use std::{sync::Arc, time::Duration};

use config_repo::{
    outbox::{AttemptStatus, NewDelivery, Outbox, Receiver, Source},
    sqlite::{
        FileMode, SqliteDb,
        outbox::{SCHEMA, SqliteOutbox},
    },
};
use notification_engine::NotifySettings;
use serde_json::json;

use super::common::*;

fn sysdig_outbox() -> (tempfile::TempDir, Arc<dyn Outbox>) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open(&dir.path().join("sysdig.db"), SCHEMA, FileMode::Shared).unwrap();
    (dir, Arc::new(SqliteOutbox::new(db, Source::Sysdig)))
}

fn alert_event(state: &str) -> serde_json::Value {
    json!({
        "notification": {"id": 9, "state": state, "resolved": false,
                         "timestamp": 1_764_860_095_000_000_i64, "entities": []},
        "alert": {"id": 3, "name": "disk full", "description": "", "severity": 0,
                  "timespan": 600_000_000, "condition": "avg(fs.used.percent) > 95", "filter": ""}
    })
}

fn delivery(event_id: &str, kind: &str, options: serde_json::Value, state: &str) -> NewDelivery {
    NewDelivery {
        event_id: event_id.into(),
        source: Source::Sysdig,
        tenant: "1".into(),
        receiver: Receiver {
            id: "42".into(),
            name: "channel".into(),
            kind: kind.into(),
            address: String::new(),
            options,
            period_s: 0,
        },
        event: alert_event(state),
        test: false,
        created_ms: now_ms(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opsgenie_creates_then_closes_by_alias_and_victorops_recovers() {
    let mut rx = http_receiver().await;
    let (_dir, outbox) = sysdig_outbox();
    let settings = NotifySettings {
        opsgenie_url: format!("{}/accept/v2/alerts", rx.base),
        victorops_url: format!("{}/accept/vo", rx.base),
        ..quick()
    };
    let notifier = start(vec![outbox.clone()], settings);
    let genie = json!({"apiKey": "genie-key"});
    outbox
        .enqueue(delivery("e-1", "OPSGENIE", genie.clone(), "ACTIVE"))
        .await
        .unwrap();
    notifier.wake();
    let create = rx.next(Duration::from_secs(5)).await.expect("create");
    outbox
        .enqueue(delivery("e-2", "OPSGENIE", genie, "OK"))
        .await
        .unwrap();
    notifier.wake();
    let close = rx.next(Duration::from_secs(5)).await.expect("close");
    assert_eq!(create.path, "/accept/v2/alerts");
    assert_eq!(create.header("authorization"), "GenieKey genie-key");
    assert_eq!(create.body["alias"], "sysdig-alert-3");
    assert_eq!(create.body["priority"], "P1");
    assert_eq!(close.path, "/accept/v2/alerts/sysdig-alert-3/close");
    assert_eq!(close.query, "identifierType=alias");

    let vo = json!({"apiKey": "vo-key", "routingKey": "db"});
    outbox
        .enqueue(delivery("e-3", "VICTOROPS", vo, "OK"))
        .await
        .unwrap();
    notifier.wake();
    let recovery = rx.next(Duration::from_secs(5)).await.expect("recovery");
    assert_eq!(recovery.path, "/accept/vo/vo-key/db");
    assert_eq!(recovery.body["message_type"], "RECOVERY");
    assert!(
        eventually(Duration::from_secs(2), || async {
            outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let log = outbox.attempts("1", "42", 10).await.unwrap();
    assert!(
        log.iter().all(|a| a.status == AttemptStatus::Delivered),
        "{log:?}"
    );
    assert!(
        log.iter()
            .all(|a| !a.answer.contains("vo-key") && !a.answer.contains("genie-key"))
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sns_channel_is_dropped_with_the_reason() {
    let (_dir, outbox) = sysdig_outbox();
    let notifier = start(vec![outbox.clone()], quick());
    assert!(!notifier.sysdig_kinds().iter().any(|k| k.as_str() == "SNS"));
    assert!(
        notifier
            .sysdig_kinds()
            .iter()
            .any(|k| k.as_str() == "MS_TEAMS")
    );
    outbox
        .enqueue(delivery(
            "e-1",
            "SNS",
            json!({"snsTopicARNs": ["arn:aws:sns:x"]}),
            "ACTIVE",
        ))
        .await
        .unwrap();
    notifier.wake();
    assert!(
        eventually(Duration::from_secs(3), || async {
            outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let log = outbox.attempts("1", "42", 10).await.unwrap();
    assert_eq!(log[0].status, AttemptStatus::Dropped);
    assert!(
        log[0].answer.starts_with("SNS is not served"),
        "{}",
        log[0].answer
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_channel_gets_sysdigs_document_with_its_headers_and_custom_data() {
    let mut rx = http_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open(&dir.path().join("sysdig.db"), SCHEMA, FileMode::Shared).unwrap();
    let outbox: Arc<dyn Outbox> = Arc::new(SqliteOutbox::new(db, Source::Sysdig));
    let event = json!({
        "notification": {"id": 9, "state": "ACTIVE", "resolved": false,
                         "timestamp": 1_764_860_095_000_000_i64, "entities": []},
        "alert": {"id": 3, "name": "disk full", "description": "", "severity": 0,
                  "timespan": 600_000_000, "condition": "avg(fs.used.percent) > 95", "filter": ""}
    });
    outbox
        .enqueue(NewDelivery {
            event_id: "test-1".into(),
            source: Source::Sysdig,
            tenant: "1".into(),
            receiver: Receiver {
                id: "42".into(),
                name: "hook".into(),
                kind: "WEBHOOK".into(),
                address: String::new(),
                options: json!({"url": format!("{}/ok", rx.base),
                                "additionalHeaders": {"X-Team": "storage"},
                                "customData": {"runbook": "https://wiki/disk"}}),
                period_s: 0,
            },
            event,
            test: true,
            created_ms: now_ms(),
        })
        .await
        .unwrap();
    let notifier = start(vec![outbox.clone()], quick());
    notifier.wake();
    let got = rx.next(Duration::from_secs(5)).await.expect("delivered");
    assert_eq!(got.header("x-team"), "storage");
    assert_eq!(got.header("idempotency-key"), "test-1");
    assert_eq!(got.body["alert"]["name"], "disk full");
    assert_eq!(got.body["alert"]["id"], 3);
    assert_eq!(got.body["event"]["id"], 9);
    assert_eq!(got.body["state"], "ACTIVE");
    assert_eq!(got.body["timespan"], 600_000_000);
    assert_eq!(got.body["runbook"], "https://wiki/disk");
    assert!(
        eventually(Duration::from_secs(2), || async {
            outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let log = outbox.attempts("1", "42", 10).await.unwrap();
    assert_eq!(log[0].status, AttemptStatus::Delivered);
    assert!(log[0].test);
    notifier.shutdown().await;
}
