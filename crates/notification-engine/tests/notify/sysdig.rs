//! A Sysdig channel's delivery, queued as the API queues a test notification.

use std::{sync::Arc, time::Duration};

use config_repo::{
    outbox::{AttemptStatus, NewDelivery, Outbox, Receiver, Source},
    sqlite::{
        FileMode, SqliteDb,
        outbox::{SCHEMA, SqliteOutbox},
    },
};
use serde_json::json;

use super::common::*;

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
