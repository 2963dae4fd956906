//! Deliveries per second to one local receiver (a measurement, not a check: run with
//! `--ignored --nocapture`).

use std::time::{Duration, Instant};

use monasca::types::AlarmState;
use notification_engine::NotifySettings;

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn deliveries_per_second_to_one_receiver() {
    let n_env = std::env::var("DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok());
    let n: usize = n_env.unwrap_or(2_000);
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-ok", "WEBHOOK", &format!("{}/ok", rx.base), 0);
    let ids: Vec<String> = (0..n).map(|i| format!("a-{i}")).collect();
    db.queue_many("m-ok", &ids);
    let started = Instant::now();
    let concurrency = std::env::var("CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4);
    let settings = NotifySettings {
        per_receiver_concurrency: concurrency,
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    notifier.wake();
    let mut got = 0;
    while got < n {
        if rx.next(Duration::from_secs(10)).await.is_none() {
            panic!(
                "only {got} delivered; queued {}",
                db.outbox.pending().await.unwrap()
            );
        }
        got += 1;
    }
    let received = started.elapsed();
    assert!(
        eventually(Duration::from_secs(60), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let settled = started.elapsed();
    println!(
        "{n} deliveries: received in {received:?} ({:.0}/s), settled in {settled:?} ({:.0}/s)",
        n as f64 / received.as_secs_f64(),
        n as f64 / settled.as_secs_f64()
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn latency_from_queueing_to_the_receiver() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-ok", "WEBHOOK", &format!("{}/ok", rx.base), 0);
    let notifier = start(vec![db.outbox.clone()], quick());
    let mut took = Vec::new();
    for n in 0..300 {
        let queued = Instant::now();
        db.queue(&["m-ok"], &transition(&format!("a-{n}"), AlarmState::Alarm));
        notifier.wake();
        let got = rx.next(Duration::from_secs(5)).await.expect("delivered");
        took.push(got.at.duration_since(queued));
    }
    took.sort();
    println!(
        "queue to receiver: p50 {:?}, p99 {:?}, max {:?}",
        took[took.len() / 2],
        took[took.len() * 99 / 100],
        took[took.len() - 1]
    );
    notifier.shutdown().await;
}
