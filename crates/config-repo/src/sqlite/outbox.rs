//! [`Outbox`] in SQLite: two tables beside the records whose changes queue deliveries (in
//! `alarms.db` for Monasca, in `sysdig.db` for Sysdig), so a delivery is queued in the same
//! transaction as its state change.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::SqliteDb;
use crate::{
    RepoError, RepoResult,
    outbox::{Attempt, AttemptStatus, Delivery, NewDelivery, Next, Outbox, Receiver, Source},
};

/// The outbox tables; part of the schema of every database with an outbox.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS notification_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    tenant TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    receiver TEXT NOT NULL,
    event TEXT NOT NULL,
    test INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    due_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sends INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notification_outbox_due ON notification_outbox(due_ms, id);

CREATE TABLE IF NOT EXISTS notification_attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    receiver_id TEXT NOT NULL,
    receiver_kind TEXT NOT NULL,
    test INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    answer TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_attempt_receiver
    ON notification_attempt(tenant, receiver_id, id);
"#;

/// Adds the outbox tables to `db` (idempotent).
///
/// # Errors
/// Storage fails.
pub fn create_tables(db: &SqliteDb) -> RepoResult<()> {
    db.blocking(|c| {
        c.execute_batch(SCHEMA)?;
        Ok(())
    })
}

/// How many attempts the log keeps per receiver.
const ATTEMPTS_KEPT: i64 = 200;

/// Queues `d` on connection `c`, inside the caller's transaction. A delivery whose event id
/// is already queued is kept as it is.
///
/// # Errors
/// Storage fails.
pub fn insert(c: &Connection, d: &NewDelivery) -> RepoResult<()> {
    let receiver = serde_json::to_string(&d.receiver)
        .map_err(|e| RepoError::Storage(format!("cannot encode a receiver: {e}")))?;
    c.execute(
        "INSERT OR IGNORE INTO notification_outbox \
         (event_id, source, tenant, receiver_id, receiver, event, test, created_ms, due_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            d.event_id,
            d.source.as_str(),
            d.tenant,
            d.receiver.id,
            receiver,
            d.event.to_string(),
            d.test,
            d.created_ms
        ],
    )?;
    Ok(())
}

/// Queues Monasca alarm transition `event` to each notification method of `method_ids` its
/// tenant has, inside the caller's transaction; how many were queued.
///
/// # Errors
/// Storage fails.
pub fn enqueue_for_methods(
    c: &Connection,
    method_ids: &[String],
    event: &monasca::types::AlarmTransitionedEvent,
    now_ms: i64,
) -> RepoResult<usize> {
    let doc = serde_json::to_value(event)
        .map_err(|e| RepoError::Storage(format!("cannot encode an alarm event: {e}")))?;
    let mut q = c.prepare_cached(
        "SELECT name, type, address, period FROM notification_method \
         WHERE id = ?1 AND tenant_id = ?2",
    )?;
    let mut queued = 0;
    for id in method_ids {
        let Some((name, kind, address, period)) = q
            .query_row(params![id, event.tenant_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?
        else {
            continue;
        };
        insert(
            c,
            &NewDelivery {
                event_id: uuid::Uuid::new_v4().to_string(),
                source: Source::Monasca,
                tenant: event.tenant_id.clone(),
                receiver: Receiver {
                    id: id.clone(),
                    name,
                    kind,
                    address,
                    options: Value::Null,
                    period_s: period,
                },
                event: doc.clone(),
                test: false,
                created_ms: now_ms,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// An [`Outbox`] over the database `db` (whose schema includes [`SCHEMA`]).
#[derive(Clone)]
pub struct SqliteOutbox {
    db: SqliteDb,
    source: Source,
}

impl SqliteOutbox {
    /// The outbox of `source`'s database.
    pub fn new(db: SqliteDb, source: Source) -> Self {
        Self { db, source }
    }
}

fn delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, [String; 5], bool, i64, u32, u32)> {
    Ok((
        r.get(0)?,
        [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn decode(
    (id, [event_id, source, tenant, receiver, event], test, created_ms, attempts, sends): (
        i64,
        [String; 5],
        bool,
        i64,
        u32,
        u32,
    ),
) -> RepoResult<Delivery> {
    let bad = |what: &str| RepoError::Storage(format!("queued delivery {id} has a bad {what}"));
    Ok(Delivery {
        id,
        new: NewDelivery {
            event_id,
            source: Source::parse(&source).ok_or_else(|| bad("source"))?,
            tenant,
            receiver: serde_json::from_str::<Receiver>(&receiver).map_err(|_| bad("receiver"))?,
            event: serde_json::from_str::<Value>(&event).map_err(|_| bad("event"))?,
            test,
            created_ms,
        },
        attempts,
        sends,
    })
}

fn attempt_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    let status: String = r.get(9)?;
    Ok(Attempt {
        delivery_id: r.get(0)?,
        event_id: r.get(1)?,
        tenant: r.get(2)?,
        receiver_id: r.get(3)?,
        receiver_kind: r.get(4)?,
        test: r.get(5)?,
        time_ms: r.get(6)?,
        attempt: r.get(7)?,
        answer: r.get(8)?,
        status: AttemptStatus::parse(&status).unwrap_or(AttemptStatus::Failed),
        duration_ms: r.get(10)?,
    })
}

/// Logs attempt `a` and applies `next` to its delivery, inside the caller's transaction.
fn settle_one(tx: &Connection, a: &Attempt, next: Next) -> RepoResult<()> {
    tx.execute(
        "INSERT INTO notification_attempt (delivery_id, event_id, tenant, \
         receiver_id, receiver_kind, test, time_ms, attempt, status, answer, \
         duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            a.delivery_id,
            a.event_id,
            a.tenant,
            a.receiver_id,
            a.receiver_kind,
            a.test,
            a.time_ms,
            a.attempt,
            a.status.as_str(),
            a.answer,
            a.duration_ms
        ],
    )?;
    tx.execute(
        "DELETE FROM notification_attempt WHERE tenant = ?1 AND receiver_id = ?2 \
         AND id <= (SELECT id FROM notification_attempt WHERE tenant = ?1 \
         AND receiver_id = ?2 ORDER BY id DESC LIMIT 1 OFFSET ?3)",
        params![a.tenant, a.receiver_id, ATTEMPTS_KEPT],
    )?;
    match next {
        Next::Done => tx.execute(
            "DELETE FROM notification_outbox WHERE id = ?1",
            [a.delivery_id],
        )?,
        Next::RetryAt(at) => tx.execute(
            "UPDATE notification_outbox SET due_ms = ?2, attempts = attempts + 1 \
             WHERE id = ?1",
            params![a.delivery_id, at],
        )?,
        Next::RepeatAt(at) => tx.execute(
            "UPDATE notification_outbox SET due_ms = ?2, attempts = 0, \
             sends = sends + 1 WHERE id = ?1",
            params![a.delivery_id, at],
        )?,
    };
    Ok(())
}

#[async_trait::async_trait]
impl Outbox for SqliteOutbox {
    fn source(&self) -> Source {
        self.source
    }

    async fn enqueue(&self, d: NewDelivery) -> RepoResult<i64> {
        self.db
            .call(move |c| {
                insert(c, &d)?;
                Ok(c.query_row(
                    "SELECT id FROM notification_outbox WHERE event_id = ?1",
                    [&d.event_id],
                    |r| r.get(0),
                )?)
            })
            .await
    }

    async fn claim(&self, now_ms: i64, lease_ms: i64, limit: usize) -> RepoResult<Vec<Delivery>> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let rows = {
                    let mut q = tx.prepare_cached(
                        "SELECT id, event_id, source, tenant, receiver, event, test, created_ms, \
                         attempts, sends FROM notification_outbox WHERE due_ms <= ?1 \
                         ORDER BY due_ms, id LIMIT ?2",
                    )?;
                    q.query_map(params![now_ms, limit as i64], delivery)?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                };
                let lease = now_ms.saturating_add(lease_ms);
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    tx.execute(
                        "UPDATE notification_outbox SET due_ms = ?2 WHERE id = ?1",
                        params![row.0, lease],
                    )?;
                    out.push(decode(row)?);
                }
                tx.commit()?;
                Ok(out)
            })
            .await
    }

    async fn release(&self, ids: &[i64], due_ms: i64) -> RepoResult<()> {
        let ids = ids.to_vec();
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                {
                    let mut q = tx.prepare_cached(
                        "UPDATE notification_outbox SET due_ms = ?2 WHERE id = ?1",
                    )?;
                    for id in ids {
                        q.execute(params![id, due_ms])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn next_due_ms(&self) -> RepoResult<Option<i64>> {
        self.db
            .call(|c| {
                Ok(
                    c.query_row("SELECT min(due_ms) FROM notification_outbox", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
    }

    async fn settle(&self, a: &Attempt, next: Next) -> RepoResult<()> {
        self.settle_many(&[(a.clone(), next)]).await
    }

    async fn settle_many(&self, settled: &[(Attempt, Next)]) -> RepoResult<()> {
        let settled = settled.to_vec();
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                for (a, next) in &settled {
                    settle_one(&tx, a, *next)?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn still_current(&self, d: &Delivery) -> RepoResult<bool> {
        if self.source != Source::Monasca {
            return Ok(false);
        }
        let alarm = d.new.event.get("alarmId").and_then(Value::as_str);
        let state = d.new.event.get("newState").and_then(Value::as_str);
        let (Some(alarm), Some(state)) = (alarm, state) else {
            return Ok(false);
        };
        let (alarm, state) = (alarm.to_string(), state.to_string());
        let (method, period) = (d.new.receiver.id.clone(), d.new.receiver.period_s);
        self.db
            .call(move |c| {
                let now: Option<(String, i64)> = c
                    .query_row(
                        "SELECT a.state, m.period FROM alarm a, notification_method m \
                         WHERE a.id = ?1 AND m.id = ?2",
                        params![alarm, method],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                Ok(now.is_some_and(|(s, p)| s == state && p == period))
            })
            .await
    }

    async fn attempts(
        &self,
        tenant: &str,
        receiver_id: &str,
        limit: usize,
    ) -> RepoResult<Vec<Attempt>> {
        let (tenant, receiver_id) = (tenant.to_string(), receiver_id.to_string());
        self.db
            .call(move |c| {
                let mut q = c.prepare_cached(
                    "SELECT delivery_id, event_id, tenant, receiver_id, receiver_kind, test, \
                     time_ms, attempt, answer, status, duration_ms FROM notification_attempt \
                     WHERE tenant = ?1 AND receiver_id = ?2 ORDER BY id DESC LIMIT ?3",
                )?;
                Ok(
                    q.query_map(params![tenant, receiver_id, limit as i64], attempt_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?,
                )
            })
            .await
    }

    async fn pending(&self) -> RepoResult<u64> {
        self.db
            .call(|c| {
                Ok(
                    c.query_row("SELECT count(*) FROM notification_outbox", [], |r| {
                        r.get::<_, i64>(0)
                    })? as u64,
                )
            })
            .await
    }
}
