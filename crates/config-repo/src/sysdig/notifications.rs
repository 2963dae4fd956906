//! Alert notifications: team-owned objects of kind `notification` that point at their alert.
//! Recorded by the alert engine and by the API's injection route, so the rule of what a
//! notification holds lives here, next to the records, for both.

use super::{Document, SysdigTx, TeamObject, kinds};
use crate::{
    RepoResult,
    outbox::{NewDelivery, Receiver, Source},
};
use serde_json::{Value, json};

/// Records a notification of `alert` in `team` (state `ACTIVE` or `OK`, time in µs).
///
/// # Errors
/// The repository fails.
pub fn record(
    c: &dyn SysdigTx,
    team: i64,
    alert: &TeamObject,
    state: &str,
    timestamp_us: i64,
    entities: Value,
) -> RepoResult<TeamObject> {
    let a = &alert.doc;
    let mut doc = Document::new();
    doc.insert("alert".into(), alert.id.into());
    doc.insert("name".into(), a.get("name").cloned().unwrap_or(Value::Null));
    doc.insert("state".into(), state.into());
    doc.insert("resolved".into(), false.into());
    doc.insert("timestamp".into(), timestamp_us.into());
    for k in ["severity", "condition", "filter", "timespan", "type"] {
        doc.insert(k.into(), a.get(k).cloned().unwrap_or(Value::Null));
    }
    doc.insert(
        "criteria".into(),
        a.get("condition").cloned().unwrap_or(Value::Null),
    );
    doc.insert("groupAggregations".into(), json!([]));
    doc.insert("entities".into(), entities);
    let notification = c.obj_insert(kinds::NOTIFICATION, team, doc)?;
    enqueue_deliveries(c, team, alert, &notification)?;
    Ok(notification)
}

/// Whether a channel with `options` is told of a notification in `state`: a disabled channel
/// never is; an `OK` goes out unless the channel turned `notifyOnOk` or `notifyOnResolve` off.
pub fn channel_wants(enabled: bool, options: &Value, state: &str) -> bool {
    let off = |k: &str| options.get(k).and_then(Value::as_bool) == Some(false);
    enabled && (state != "OK" || !(off("notifyOnOk") || off("notifyOnResolve")))
}

/// Queues `notification` to each channel of the alert that wants it, in the caller's
/// transaction. The event carries the notification and the alert as they are now.
fn enqueue_deliveries(
    c: &dyn SysdigTx,
    team: i64,
    alert: &TeamObject,
    notification: &TeamObject,
) -> RepoResult<()> {
    let ids = alert
        .doc
        .get("notificationChannelIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect::<Vec<_>>())
        .unwrap_or_default();
    if ids.is_empty() {
        return Ok(());
    }
    let state = notification
        .doc
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("ACTIVE");
    // `{"notification": N, "alert": A}`, each with its id: what the payloads read.
    let mut n = notification.doc.clone();
    n.insert("id".into(), notification.id.into());
    let mut a = alert.doc.clone();
    a.insert("id".into(), alert.id.into());
    let event = json!({"notification": n, "alert": a});
    for id in ids {
        let Some(ch) = c.obj_get(kinds::CHANNEL, team, id)? else {
            continue;
        };
        let enabled = ch.doc.get("enabled").and_then(Value::as_bool) != Some(false);
        let options = ch.doc.get("options").cloned().unwrap_or(Value::Null);
        if !channel_wants(enabled, &options, state) {
            continue;
        }
        c.outbox_enqueue(&NewDelivery {
            event_id: uuid::Uuid::new_v4().to_string(),
            source: Source::Sysdig,
            tenant: team.to_string(),
            receiver: channel_receiver(&ch),
            event: event.clone(),
            test: false,
            created_ms: crate::now_ms(),
        })?;
    }
    Ok(())
}

/// Queues a test notification to channel `ch` of `team` (as Sysdig's "send test
/// notification" does), at `now_ms`; returns its event id.
///
/// # Errors
/// The repository fails.
pub fn enqueue_test(
    c: &dyn SysdigTx,
    team: i64,
    ch: &TeamObject,
    now_ms: i64,
) -> RepoResult<String> {
    let name = ch
        .doc
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let event = json!({
        "notification": {
            "id": 0,
            "alert": 0,
            "name": "Test notification",
            "state": "ACTIVE",
            "resolved": false,
            "timestamp": now_ms.saturating_mul(1000),
            "entities": [],
        },
        "alert": {
            "id": 0,
            "name": format!("Test notification through {name}"),
            "description": "A test notification sent on request; no alert fired.",
            "severity": 4,
            "timespan": 60_000_000,
            "condition": "",
            "filter": null,
            "type": "MANUAL",
        },
    });
    let event_id = uuid::Uuid::new_v4().to_string();
    c.outbox_enqueue(&NewDelivery {
        event_id: event_id.clone(),
        source: Source::Sysdig,
        tenant: team.to_string(),
        receiver: channel_receiver(ch),
        event,
        test: true,
        created_ms: now_ms,
    })?;
    Ok(event_id)
}

/// The receiver snapshot of channel `ch`.
pub fn channel_receiver(ch: &TeamObject) -> Receiver {
    let text = |k: &str| {
        ch.doc
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Receiver {
        id: ch.id.to_string(),
        name: text("name"),
        kind: text("type"),
        address: String::new(),
        options: ch.doc.get("options").cloned().unwrap_or(Value::Null),
        period_s: 0,
    }
}

/// Deletes the notifications of alert `alert_id` (they go with their alert).
///
/// # Errors
/// The repository fails.
pub fn delete_of_alert(c: &dyn SysdigTx, team: i64, alert_id: i64) -> RepoResult<()> {
    c.obj_delete_by(kinds::NOTIFICATION, team, "alert", alert_id)?;
    Ok(())
}
