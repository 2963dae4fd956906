//! The notification-method commands.

use anyhow::Result;
use monasca::{
    Client,
    notification_methods::{
        CreateNotificationMethod, DeleteNotificationMethod, GetNotificationMethod, ListDeliveries,
        ListNotificationMethodTypes, ListNotificationMethods, TestNotificationMethod,
        UpdateNotificationMethod,
    },
    types::NotificationMethodRequest,
};
use serde_json::{Map, Value};

use crate::{
    args::{check_sort_by, given},
    cli::{
        NotificationCreate, NotificationDeliveries, NotificationId, NotificationList,
        NotificationPatch, NotificationTest, NotificationTypeList, NotificationUpdate,
    },
    output::{ValueFormat, done, json, json_ascii, print},
};

const SORT_FIELDS: [&str; 6] = ["id", "name", "type", "address", "created_at", "updated_at"];

/// `POST /notification-methods`; a period of 0 (the default) is not sent.
pub async fn create(client: &Client, a: NotificationCreate) -> Result<()> {
    let req = NotificationMethodRequest {
        name: a.name,
        kind: a.kind.into(),
        address: a.address,
        period: (a.period != 0).then_some(a.period),
    };
    let created = client.send(&CreateNotificationMethod(req)).await?;
    print(&json_ascii(&created)?)
}

pub async fn list(client: &Client, a: NotificationList) -> Result<()> {
    let mut op = ListNotificationMethods::new();
    if let Some(l) = a.paging.limit {
        op = op.limit(l);
    }
    if let Some(o) = given(a.paging.offset) {
        op = op.offset(o);
    }
    if let Some(s) = given(a.sort_by) {
        check_sort_by(&s, &SORT_FIELDS, true)?;
        op = op.sort_by(s);
    }
    let env = client.send(&op).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .into_iter()
        .map(|n| {
            vec![
                n.name,
                n.id,
                n.kind.to_string(),
                n.address,
                n.period.to_string(),
            ]
        })
        .collect();
    a.out
        .print_rows(&["name", "id", "type", "address", "period"], rows)
}

pub async fn show_one(client: &Client, a: NotificationId) -> Result<()> {
    let n = client.send(&GetNotificationMethod(a.id)).await?;
    if a.out.json {
        return print(&json(&n)?);
    }
    a.out.print_object(&n, |k| match k {
        "links" => ValueFormat::DictList,
        "name" | "id" | "type" | "address" | "period" => ValueFormat::Json,
        _ => ValueFormat::Str,
    })
}

/// `PUT`: every field, period included even when 0.
pub async fn update(client: &Client, a: NotificationUpdate) -> Result<()> {
    let mut body = Map::new();
    body.insert("name".into(), a.name.into());
    body.insert("type".into(), a.kind.into());
    body.insert("address".into(), a.address.into());
    body.insert("period".into(), a.period.into());
    send_update(client, a.id, body, false).await
}

/// `PATCH`: name, type and address when non-empty; the period whenever given (0 too).
pub async fn patch(client: &Client, a: NotificationPatch) -> Result<()> {
    let mut body = Map::new();
    for (k, v) in [("name", a.name), ("type", a.kind), ("address", a.address)] {
        if let Some(v) = given(v) {
            body.insert(k.into(), v.into());
        }
    }
    if let Some(p) = a.period {
        body.insert("period".into(), p.into());
    }
    send_update(client, a.id, body, true).await
}

async fn send_update(
    client: &Client,
    id: String,
    body: Map<String, Value>,
    partial: bool,
) -> Result<()> {
    let op = UpdateNotificationMethod {
        id,
        body: Value::Object(body),
        partial,
    };
    let updated = client.send(&op).await?;
    print(&json_ascii(&updated)?)
}

pub async fn delete(client: &Client, a: NotificationId) -> Result<()> {
    client.send(&DeleteNotificationMethod(a.id)).await?;
    done("Successfully deleted notification")
}

pub async fn type_list(client: &Client, a: NotificationTypeList) -> Result<()> {
    let env = client.send(&ListNotificationMethodTypes).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .into_iter()
        .map(|t| vec![t.kind.to_string()])
        .collect();
    a.out.print_rows(&["types"], rows)
}

/// Queues a test notification, then follows its attempts until one is final or `--wait`
/// runs out: delivered prints one line; failed, dropped or still retrying is an error.
pub async fn send_test(client: &Client, a: NotificationTest) -> Result<()> {
    let queued = client.send(&TestNotificationMethod(a.id.clone())).await?;
    if a.wait == 0 {
        return done(&format!("Test notification {} queued", queued.event_id));
    }
    let line = cli_kit::follow_test_notification(&queued.event_id, a.wait, || async {
        let env = client
            .send(&ListDeliveries {
                id: a.id.clone(),
                limit: Some(200),
            })
            .await?;
        // Newest first: the first attempt of this event is its latest.
        Ok(env
            .elements
            .into_iter()
            .find(|d| d.event_id == queued.event_id)
            .map(|d| cli_kit::TestAttempt {
                status: d.status,
                attempt: d.attempt,
                answer: d.answer,
            }))
    })
    .await?;
    done(&line)
}

pub async fn deliveries(client: &Client, a: NotificationDeliveries) -> Result<()> {
    let env = client
        .send(&ListDeliveries {
            id: a.id,
            limit: a.limit,
        })
        .await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .into_iter()
        .map(|d| {
            vec![
                d.timestamp,
                d.event_id,
                d.attempt.to_string(),
                d.status,
                d.duration_ms.to_string(),
                d.answer,
            ]
        })
        .collect();
    a.out.print_rows(
        &[
            "timestamp",
            "event_id",
            "attempt",
            "status",
            "duration_ms",
            "answer",
        ],
        rows,
    )
}
