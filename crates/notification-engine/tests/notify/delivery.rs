//! Retries, timeouts, isolation between receivers, leases, metrics.

use std::time::{Duration, Instant};

use config_repo::outbox::AttemptStatus;
use monasca::types::AlarmState;

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_200_is_delivered_once_after_two_attempts_with_one_key() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-flaky", "WEBHOOK", &format!("{}/flaky", rx.base), 0);
    assert_eq!(
        db.queue(&["m-flaky"], &transition("a-1", AlarmState::Alarm)),
        1
    );
    let notifier = start(vec![db.outbox.clone()], quick());
    notifier.wake();

    let first = rx
        .next(Duration::from_secs(5))
        .await
        .expect("first attempt");
    let second = rx.next(Duration::from_secs(5)).await.expect("the retry");
    assert!(
        rx.next(Duration::from_millis(500)).await.is_none(),
        "sent once more than needed"
    );
    let key = first.header("idempotency-key");
    assert!(!key.is_empty());
    assert_eq!(second.header("idempotency-key"), key);
    assert_eq!(first.body, second.body);
    assert_eq!(first.body["alarm_id"], "a-1");
    assert_eq!(first.path, "/flaky");
    assert_eq!(first.header("content-type"), "application/json");

    assert!(
        eventually(Duration::from_secs(2), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let log = db.attempts("m-flaky").await;
    let seen: Vec<_> = log.iter().rev().map(|a| (a.attempt, a.status)).collect();
    assert_eq!(
        seen,
        [(1, AttemptStatus::Retrying), (2, AttemptStatus::Delivered)]
    );
    assert_eq!(
        log[1].answer,
        "HTTP 500 Internal Server Error: boom, try later"
    );
    assert_eq!(log[0].answer, "HTTP 200 OK: ok now");
    assert_eq!(log[0].event_id, key);
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_times_out_while_another_is_served_promptly() {
    let mut hanging = http_receiver().await;
    let mut healthy = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-hang", "WEBHOOK", &format!("{}/hang", hanging.base), 0);
    db.add_method("m-ok", "WEBHOOK", &format!("{}/ok", healthy.base), 0);
    let settings = NotifySettings {
        timeout_ms: 1_000,
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    // The hanging one first, so it is claimed and started first.
    db.queue(&["m-hang"], &transition("a-1", AlarmState::Alarm));
    notifier.wake();
    hanging
        .next(Duration::from_secs(5))
        .await
        .expect("the hanging receiver is called");

    let queued = Instant::now();
    db.queue(&["m-ok"], &transition("a-2", AlarmState::Alarm));
    notifier.wake();
    let got = healthy
        .next(Duration::from_secs(5))
        .await
        .expect("the healthy receiver is served");
    let latency = got.at.duration_since(queued);
    // Had it waited for the hanging send, it would have taken the 1 s timeout.
    assert!(latency < Duration::from_millis(500), "took {latency:?}");

    // The hanging receiver's attempt timed out and is retried.
    hanging.next(Duration::from_secs(5)).await.expect("a retry");
    assert!(
        eventually(Duration::from_secs(3), || async {
            db.attempts("m-hang").await.iter().any(|a| {
                a.status == AttemptStatus::Retrying
                    && a.answer == "no answer within 1000 ms (timed out)"
            })
        })
        .await,
        "{:?}",
        db.attempts("m-hang").await
    );
    assert_eq!(
        db.attempts("m-ok").await[0].status,
        AttemptStatus::Delivered
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sends_to_a_hanging_receiver_leave_slots_for_the_others() {
    let mut hanging = http_receiver().await;
    let mut healthy = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-hang", "WEBHOOK", &format!("{}/hang", hanging.base), 0);
    db.add_method("m-ok", "WEBHOOK", &format!("{}/ok", healthy.base), 0);
    let settings = NotifySettings {
        timeout_ms: 3_000,
        per_receiver_concurrency: 2,
        max_in_flight: 4,
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    for n in 0..10 {
        db.queue(
            &["m-hang"],
            &transition(&format!("a-{n}"), AlarmState::Alarm),
        );
    }
    notifier.wake();
    hanging.next(Duration::from_secs(5)).await.expect("called");
    hanging
        .next(Duration::from_secs(5))
        .await
        .expect("called twice");
    assert!(
        hanging.next(Duration::from_millis(300)).await.is_none(),
        "more sends at once than the per-receiver limit"
    );
    let queued = Instant::now();
    db.queue(&["m-ok"], &transition("b-1", AlarmState::Alarm));
    notifier.wake();
    let got = healthy.next(Duration::from_secs(5)).await.expect("served");
    let latency = got.at.duration_since(queued);
    assert!(latency < Duration::from_millis(1_000), "took {latency:?}");
    drop(notifier);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_stop_at_the_maximum_and_the_delivery_is_recorded_as_failed() {
    let rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-404", "WEBHOOK", &format!("{}/missing", rx.base), 0);
    db.queue(&["m-404"], &transition("a-1", AlarmState::Alarm));
    let notifier = start(
        vec![db.outbox.clone()],
        NotifySettings {
            max_attempts: 3,
            ..quick()
        },
    );
    notifier.wake();
    assert!(
        eventually(Duration::from_secs(5), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let statuses: Vec<_> = db
        .attempts("m-404")
        .await
        .iter()
        .rev()
        .map(|a| a.status)
        .collect();
    assert_eq!(
        statuses,
        [
            AttemptStatus::Retrying,
            AttemptStatus::Retrying,
            AttemptStatus::Failed
        ]
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_claimed_by_a_dead_sender_is_claimed_again_after_its_lease() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-ok", "WEBHOOK", &format!("{}/ok", rx.base), 0);
    db.queue(&["m-ok"], &transition("a-1", AlarmState::Alarm));
    // A previous process claimed it for 1.5 s and died before settling.
    let claimed = db.outbox.claim(now_ms(), 1_500, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let dead_at = Instant::now();

    let notifier = start(vec![db.outbox.clone()], quick());
    notifier.wake();
    let got = rx
        .next(Duration::from_secs(5))
        .await
        .expect("delivered after the lease");
    let after = got.at.duration_since(dead_at);
    assert!(
        after >= Duration::from_millis(1_400),
        "claimed again too early: {after:?}"
    );
    assert_eq!(got.header("idempotency-key"), claimed[0].new.event_id);
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_abandoned_by_a_dropped_notifier_is_delivered_by_the_next_one() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-hang", "WEBHOOK", &format!("{}/hang", rx.base), 0);
    db.queue(&["m-hang"], &transition("a-1", AlarmState::Alarm));
    let first = start(
        vec![db.outbox.clone()],
        NotifySettings {
            lease_s: 1,
            timeout_ms: 60_000,
            ..quick()
        },
    );
    first.wake();
    let sent = rx
        .next(Duration::from_secs(5))
        .await
        .expect("the first notifier sends");
    drop(first);
    // Nothing settled it: it is still queued, and comes back after the lease.
    assert_eq!(db.outbox.pending().await.unwrap(), 1);
    let second = start(
        vec![db.outbox.clone()],
        NotifySettings {
            lease_s: 1,
            ..quick()
        },
    );
    second.wake();
    let again = rx
        .next(Duration::from_secs(5))
        .await
        .expect("the second notifier sends");
    assert_eq!(
        again.header("idempotency-key"),
        sent.header("idempotency-key")
    );
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_attempts_and_outcomes() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-flaky", "WEBHOOK", &format!("{}/flaky", rx.base), 0);
    db.add_method("m-sns", "HIPCHAT", "x", 0);
    db.queue(&["m-flaky", "m-sns"], &transition("a-1", AlarmState::Alarm));
    let mut registry = prometheus_client::registry::Registry::with_prefix("vigil");
    let notifier =
        notification_engine::Notifier::start(vec![db.outbox.clone()], quick(), &mut registry)
            .unwrap();
    notifier.wake();
    rx.next(Duration::from_secs(5)).await.unwrap();
    rx.next(Duration::from_secs(5)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(3), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        r#"vigil_notification_attempts_total{source="monasca",type="WEBHOOK",outcome="retrying"} 1"#,
        r#"vigil_notification_attempts_total{source="monasca",type="WEBHOOK",outcome="delivered"} 1"#,
        r#"vigil_notification_delivered_total{source="monasca",type="WEBHOOK"} 1"#,
        r#"vigil_notification_dropped_total{source="monasca",type="HIPCHAT"} 1"#,
        r#"vigil_notification_delivery_delay_seconds_count{source="monasca",type="WEBHOOK"} 1"#,
        r#"vigil_notification_attempt_duration_seconds_count{source="monasca",type="WEBHOOK"} 2"#,
        r#"vigil_notification_queued{source="monasca"} 0"#,
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    let dropped = db.attempts("m-sns").await;
    assert_eq!(dropped[0].status, AttemptStatus::Dropped);
    assert_eq!(
        dropped[0].answer,
        "notification type HIPCHAT is not served by this server"
    );
    notifier.shutdown().await;
}

use notification_engine::NotifySettings;
