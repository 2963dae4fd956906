//! Periodic notifications: re-sent every `period` while the alarm stays in the announced
//! state, then no more.

use std::time::Duration;

use config_repo::outbox::AttemptStatus;
use monasca::types::AlarmState;

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_method_repeats_while_the_alarm_stays_and_stops_when_it_leaves() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_alarm("a-1", "ALARM");
    db.add_method("m-every", "WEBHOOK", &format!("{}/ok", rx.base), 1);
    db.queue(&["m-every"], &transition("a-1", AlarmState::Alarm));
    let notifier = start(vec![db.outbox.clone()], quick());
    notifier.wake();

    let first = rx.next(Duration::from_secs(5)).await.expect("first send");
    let second = rx
        .next(Duration::from_secs(5))
        .await
        .expect("repeat after the period");
    let gap = second.at.duration_since(first.at);
    assert!(gap >= Duration::from_millis(900), "repeated after {gap:?}");
    let key = first.header("idempotency-key").to_string();
    assert_eq!(second.header("idempotency-key"), format!("{key}/1"));
    assert_eq!(second.body, first.body);

    db.set_alarm_state("a-1", "OK");
    // The send in progress (if any) is the last; then nothing more.
    let rest = rx.all_within(Duration::from_millis(2_500)).await;
    assert!(rest.len() <= 1, "still repeating: {} more", rest.len());
    assert_eq!(db.outbox.pending().await.unwrap(), 0);
    let log = db.attempts("m-every").await;
    assert!(
        log.iter()
            .all(|a| a.status == AttemptStatus::Delivered && a.attempt == 1)
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_without_a_period_sends_once() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_alarm("a-1", "ALARM");
    db.add_method("m-once", "WEBHOOK", &format!("{}/ok", rx.base), 0);
    db.queue(&["m-once"], &transition("a-1", AlarmState::Alarm));
    let notifier = start(vec![db.outbox.clone()], quick());
    notifier.wake();
    rx.next(Duration::from_secs(5)).await.expect("sent");
    assert!(rx.next(Duration::from_millis(1_500)).await.is_none());
    assert_eq!(db.outbox.pending().await.unwrap(), 0);
    notifier.shutdown().await;
}
