//! What every [`Outbox`] must do: queue once per event id, hand out due deliveries oldest
//! first under a lease, settle attempts into the delivery and the attempt log, and keep each
//! outbox to its own source and each log to its own receiver.

use serde_json::json;

use crate::outbox::{Attempt, AttemptStatus, Delivery, NewDelivery, Next, Outbox, Receiver};

fn delivery(outbox: &dyn Outbox, event_id: &str, tenant: &str, created_ms: i64) -> NewDelivery {
    NewDelivery {
        event_id: event_id.into(),
        source: outbox.source(),
        tenant: tenant.into(),
        receiver: Receiver {
            id: "r1".into(),
            name: "it's \"quoted\" \\ ; DROP TABLE notification_outbox; --".into(),
            kind: "WEBHOOK".into(),
            address: "http://127.0.0.1:9/hook?token=s3cret".into(),
            options: json!({"url": "http://127.0.0.1:9/x", "notifyOnOk": false}),
            period_s: 60,
        },
        event: json!({"alarmId": "a1", "newState": "ALARM", "text": "nul \u{0} and 'quotes'"}),
        test: event_id.ends_with("test"),
        created_ms,
    }
}

fn attempt(d: &Delivery, number: u32, status: AttemptStatus, time_ms: i64) -> Attempt {
    Attempt {
        delivery_id: d.id,
        event_id: d.new.event_id.clone(),
        tenant: d.new.tenant.clone(),
        receiver_id: d.new.receiver.id.clone(),
        receiver_kind: d.new.receiver.kind.clone(),
        test: d.new.test,
        time_ms,
        attempt: number,
        status,
        answer: format!("HTTP 500 'no' \\ attempt {number}"),
        duration_ms: 12,
    }
}

fn ids(ds: &[Delivery]) -> Vec<&str> {
    ds.iter().map(|d| d.new.event_id.as_str()).collect()
}

/// Runs the outbox conformance suite against `outbox`, which must be empty.
///
/// # Panics
/// When the outbox behaves differently from what the notification engine relies on.
pub async fn outbox(outbox: &dyn Outbox) {
    let ok = |r: crate::RepoResult<()>| r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outbox.pending().await.ok(), Some(0));
    assert_eq!(outbox.next_due_ms().await.ok(), Some(None));

    // Queued once per event id.
    let first = delivery(outbox, "e1", "t1", 1_000);
    let id1 = outbox.enqueue(first.clone()).await.unwrap_or(-1);
    let id2 = outbox
        .enqueue(delivery(outbox, "e2-test", "t1", 2_000))
        .await
        .unwrap_or(-1);
    assert_ne!(id1, id2);
    assert_eq!(outbox.enqueue(first.clone()).await.ok(), Some(id1));
    assert_eq!(outbox.pending().await.ok(), Some(2));
    assert_eq!(outbox.next_due_ms().await.ok(), Some(Some(1_000)));

    // Due deliveries only, as queued; a claimed one is leased.
    let claimed = outbox.claim(1_500, 10_000, 10).await.unwrap_or_default();
    assert_eq!(ids(&claimed), ["e1"]);
    let d1 = &claimed[0];
    assert_eq!((d1.id, &d1.new, d1.attempts, d1.sends), (id1, &first, 0, 0));
    let claimed = outbox.claim(2_500, 10_000, 10).await.unwrap_or_default();
    assert_eq!(ids(&claimed), ["e2-test"], "e1 is leased");
    let d2 = claimed[0].clone();
    assert!(d2.new.test);
    assert_eq!(outbox.next_due_ms().await.ok(), Some(Some(11_500)));
    // A lease that ran out (its sender died) hands the delivery out again.
    let again = outbox.claim(11_500, 10_000, 10).await.unwrap_or_default();
    assert_eq!(ids(&again), ["e1"]);

    // Released: due again when asked, without an attempt.
    ok(outbox.release(&[d2.id], 3_000).await);
    let d2 = outbox.claim(3_000, 1_000, 10).await.unwrap_or_default();
    assert_eq!(ids(&d2), ["e2-test"]);
    let d2 = d2[0].clone();

    // Settled: a retry counts the failure, a repeat counts the send, done removes it.
    ok(outbox
        .settle(
            &attempt(&d2, 1, AttemptStatus::Retrying, 3_000),
            Next::RetryAt(5_000),
        )
        .await);
    let d2 = outbox.claim(5_000, 1_000, 10).await.unwrap_or_default();
    assert_eq!(
        d2.iter().map(|d| (d.attempts, d.sends)).collect::<Vec<_>>(),
        [(1, 0)]
    );
    let d2 = d2[0].clone();
    ok(outbox
        .settle(
            &attempt(&d2, 2, AttemptStatus::Delivered, 5_000),
            Next::RepeatAt(6_000),
        )
        .await);
    let d2 = outbox.claim(6_000, 1_000, 10).await.unwrap_or_default();
    assert_eq!(
        d2.iter().map(|d| (d.attempts, d.sends)).collect::<Vec<_>>(),
        [(0, 1)]
    );
    let d2 = d2[0].clone();
    ok(outbox
        .settle(
            &attempt(&d2, 1, AttemptStatus::Delivered, 6_000),
            Next::Done,
        )
        .await);
    assert_eq!(outbox.pending().await.ok(), Some(1));

    // The attempt log: newest first, per tenant and receiver.
    let log = outbox.attempts("t1", "r1", 10).await.unwrap_or_default();
    assert_eq!(
        log.iter()
            .map(|a| (a.time_ms, a.status))
            .collect::<Vec<_>>(),
        [
            (6_000, AttemptStatus::Delivered),
            (5_000, AttemptStatus::Delivered),
            (3_000, AttemptStatus::Retrying)
        ]
    );
    assert_eq!(log[2], attempt(&d2, 1, AttemptStatus::Retrying, 3_000));
    assert_eq!(
        outbox.attempts("t1", "r1", 1).await.map(|l| l.len()).ok(),
        Some(1)
    );
    assert!(
        outbox
            .attempts("t2", "r1", 10)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert!(
        outbox
            .attempts("t1", "r2", 10)
            .await
            .unwrap_or_default()
            .is_empty()
    );

    // Earliest due first (e1's lease ran out at 21 500), at most `limit`; several settled at
    // once.
    for (i, created) in [(3, 30_000), (4, 20_000), (5, 40_000)] {
        let _ = outbox
            .enqueue(delivery(outbox, &format!("e{i}"), "t2", created))
            .await;
    }
    let batch = outbox.claim(50_000, 1_000, 2).await.unwrap_or_default();
    assert_eq!(ids(&batch), ["e4", "e1"]);
    let settled: Vec<_> = batch
        .iter()
        .map(|d| (attempt(d, 1, AttemptStatus::Failed, 50_000), Next::Done))
        .collect();
    ok(outbox.settle_many(&settled).await);
    assert_eq!(outbox.pending().await.ok(), Some(2), "e3 and e5 remain");

    // The log keeps the latest 200 attempts of a receiver.
    let e5 = outbox.claim(60_000, 1_000, 10).await.unwrap_or_default();
    let e5 = e5
        .iter()
        .find(|d| d.new.event_id == "e5")
        .cloned()
        .unwrap_or_else(|| panic!("e5 is due"));
    let many: Vec<_> = (0..205)
        .map(|i| {
            let a = attempt(&e5, 1, AttemptStatus::Retrying, 100_000 + i);
            (a, Next::RetryAt(200_000))
        })
        .collect();
    ok(outbox.settle_many(&many).await);
    let log = outbox.attempts("t2", "r1", 1_000).await.unwrap_or_default();
    assert_eq!(log.len(), 200);
    assert_eq!(log.first().map(|a| a.time_ms), Some(100_204));
}
