//! The webhook URL policy: literal addresses refused when written, names resolved into a
//! denied network refused when sending (the delivery is dropped, with the reason).

use std::time::Duration;

use config_repo::outbox::AttemptStatus;
use monasca::types::AlarmState;
use notification_engine::NotifySettings;

use super::common::*;

fn deny_loopback() -> NotifySettings {
    NotifySettings {
        webhook_deny_networks: vec!["127.0.0.0/8".into(), "::1/128".into()],
        ..quick()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_denied_addresses_are_refused_at_check_time() {
    let db = monasca_db();
    let notifier = start(vec![db.outbox.clone()], deny_loopback());
    assert_eq!(
        notifier
            .policy()
            .check("http://127.0.0.1:8080/hook")
            .unwrap_err(),
        "the address 127.0.0.1 is in the denied network 127.0.0.0/8"
    );
    assert!(
        notifier.policy().check("http://169.254.169.254/").is_ok(),
        "the operator's list replaces the default"
    );
    // A name is not resolved at check time.
    assert!(
        notifier
            .policy()
            .check("http://localhost:8080/hook")
            .is_ok()
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_into_a_denied_network_is_dropped_when_sending() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method(
        "m-local",
        "WEBHOOK",
        &format!("http://localhost:{}/ok?token=s3cret", rx.port),
        0,
    );
    db.add_method("m-literal", "WEBHOOK", &format!("{}/ok", rx.base), 0);
    db.queue(
        &["m-local", "m-literal"],
        &transition("a-1", AlarmState::Alarm),
    );
    let notifier = start(vec![db.outbox.clone()], deny_loopback());
    notifier.wake();
    assert!(
        eventually(Duration::from_secs(5), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    assert!(
        rx.next(Duration::from_millis(300)).await.is_none(),
        "a denied receiver was called"
    );

    let local = db.attempts("m-local").await;
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].status, AttemptStatus::Dropped);
    assert!(
        local[0]
            .answer
            .starts_with("refused by the webhook URL policy: localhost is refused: the address"),
        "{}",
        local[0].answer
    );
    assert!(!local[0].answer.contains("s3cret"));
    let literal = db.attempts("m-literal").await;
    assert_eq!(literal[0].status, AttemptStatus::Dropped);
    assert_eq!(
        literal[0].answer,
        "refused by the webhook URL policy: the address 127.0.0.1 is in the denied network 127.0.0.0/8"
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_policy_lets_a_local_receiver_be_called_by_name() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method(
        "m-local",
        "WEBHOOK",
        &format!("http://localhost:{}/ok", rx.port),
        0,
    );
    db.queue(&["m-local"], &transition("a-1", AlarmState::Alarm));
    let notifier = start(vec![db.outbox.clone()], quick());
    notifier.wake();
    rx.next(Duration::from_secs(5)).await.expect("delivered");
    notifier.shutdown().await;
}
