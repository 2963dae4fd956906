//! What the engine adds to the SQLite outbox (handing claimed deliveries back, settling in
//! batches), and a burst larger than one receiver may hold.

use std::time::{Duration, Instant};

use config_repo::outbox::{Attempt, AttemptStatus, Next};
use monasca::types::AlarmState;
use notification_engine::NotifySettings;

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_deliveries_fall_due_again_without_an_attempt() {
    let db = monasca_db();
    db.add_method("m-1", "WEBHOOK", "http://127.0.0.1:9/x", 0);
    db.queue(&["m-1"], &transition("a-1", AlarmState::Alarm));
    let now = now_ms();
    let claimed = db.outbox.claim(now, 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(db.outbox.claim(now, 60_000, 10).await.unwrap().is_empty());
    db.outbox.release(&[claimed[0].id], now + 50).await.unwrap();
    assert_eq!(db.outbox.next_due_ms().await.unwrap(), Some(now + 50));
    let again = db.outbox.claim(now + 50, 60_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].attempts, again[0].sends), (0, 0));
    assert!(db.attempts("m-1").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_many_logs_every_attempt_and_applies_every_next() {
    let db = monasca_db();
    db.add_method("m-1", "WEBHOOK", "http://127.0.0.1:9/x", 0);
    for a in ["a-1", "a-2", "a-3"] {
        db.queue(&["m-1"], &transition(a, AlarmState::Alarm));
    }
    let now = now_ms();
    let claimed = db.outbox.claim(now, 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let attempt = |i: usize, status| Attempt {
        delivery_id: claimed[i].id,
        event_id: claimed[i].new.event_id.clone(),
        tenant: TENANT.into(),
        receiver_id: "m-1".into(),
        receiver_kind: "WEBHOOK".into(),
        test: false,
        time_ms: now,
        attempt: 1,
        status,
        answer: format!("answer {i}"),
        duration_ms: 1,
    };
    db.outbox
        .settle_many(&[
            (attempt(0, AttemptStatus::Delivered), Next::Done),
            (attempt(1, AttemptStatus::Retrying), Next::RetryAt(now + 10)),
            (
                attempt(2, AttemptStatus::Delivered),
                Next::RepeatAt(now + 20),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(db.outbox.pending().await.unwrap(), 2);
    let later = db.outbox.claim(now + 20, 60_000, 10).await.unwrap();
    let counts: Vec<_> = later.iter().map(|d| (d.attempts, d.sends)).collect();
    assert_eq!(counts, [(1, 0), (0, 1)]);
    let answers: Vec<_> = db
        .attempts("m-1")
        .await
        .into_iter()
        .map(|a| a.answer)
        .collect();
    assert_eq!(answers, ["answer 2", "answer 1", "answer 0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_what_one_receiver_may_hold_does_not_wait_for_leases() {
    const N: usize = 600;
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-ok", "WEBHOOK", &format!("{}/ok", rx.base), 0);
    let ids: Vec<String> = (0..N).map(|n| format!("a-{n}")).collect();
    db.queue_many("m-ok", &ids);
    let started = Instant::now();
    let settings = NotifySettings {
        per_receiver_backlog: 100,
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    notifier.wake();
    for got in 0..N {
        assert!(
            rx.next(Duration::from_secs(10)).await.is_some(),
            "stalled after {got} deliveries"
        );
    }
    // Well under the 60 s lease the deliveries handed back would otherwise wait for.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    notifier.shutdown().await;
}
