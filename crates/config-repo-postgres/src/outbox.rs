//! [`Outbox`] in PostgreSQL: one table of deliveries for every source, written in the same
//! transaction as the state change that queues them. Claims lease rows with
//! `FOR UPDATE SKIP LOCKED`, so two nodes claiming at once get different deliveries, and a
//! delivery whose node died is claimed again once its lease runs out.

use config_repo::{
    RepoError, RepoResult,
    outbox::{Attempt, AttemptStatus, Delivery, NewDelivery, Next, Outbox, Receiver, Source},
};
use postgres::{GenericClient, Row};
use serde_json::Value;

use crate::{PgDb, PgResultExt, error::col};

/// How many attempts the log keeps per receiver (as on SQLite).
const ATTEMPTS_KEPT: i64 = 200;

/// Queues `d` inside the caller's transaction. A delivery whose event id is already queued is
/// kept as it is.
///
/// # Errors
/// Storage fails.
pub fn insert(c: &mut impl GenericClient, d: &NewDelivery) -> RepoResult<()> {
    let receiver = serde_json::to_string(&d.receiver)
        .map_err(|e| RepoError::Storage(format!("cannot encode a receiver: {e}")))?;
    c.execute(
        "INSERT INTO notification_outbox \
         (event_id, source, tenant, receiver_id, receiver, event, test, created_ms, due_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (event_id) DO NOTHING",
        &[
            &d.event_id,
            &d.source.as_str(),
            &d.tenant,
            &d.receiver.id,
            &receiver,
            &d.event.to_string(),
            &d.test,
            &d.created_ms,
        ],
    )
    .pg()?;
    Ok(())
}

/// Queues Monasca alarm transition `event` to each notification method of `method_ids` its
/// tenant has, inside the caller's transaction; how many were queued.
///
/// # Errors
/// Storage fails.
pub fn enqueue_for_methods(
    c: &mut impl GenericClient,
    method_ids: &[String],
    event: &monasca::types::AlarmTransitionedEvent,
    now_ms: i64,
) -> RepoResult<usize> {
    let doc = serde_json::to_value(event)
        .map_err(|e| RepoError::Storage(format!("cannot encode an alarm event: {e}")))?;
    let mut queued = 0;
    for id in method_ids {
        let Some(r) = c
            .query_opt(
                "SELECT name, type, address, period FROM notification_method \
                 WHERE id = $1 AND tenant_id = $2",
                &[id, &event.tenant_id],
            )
            .pg()?
        else {
            continue;
        };
        let receiver = Receiver {
            id: id.clone(),
            name: col(&r, 0)?,
            kind: col(&r, 1)?,
            address: col(&r, 2)?,
            options: Value::Null,
            period_s: col(&r, 3)?,
        };
        insert(
            c,
            &NewDelivery {
                event_id: uuid::Uuid::new_v4().to_string(),
                source: Source::Monasca,
                tenant: event.tenant_id.clone(),
                receiver,
                event: doc.clone(),
                test: false,
                created_ms: now_ms,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// The outbox of `source` in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgOutbox {
    db: PgDb,
    source: Source,
}

impl PgOutbox {
    /// The deliveries of `source` in `db`.
    pub fn new(db: PgDb, source: Source) -> Self {
        Self { db, source }
    }
}

const DELIVERY_COLS: &str =
    "id, event_id, source, tenant, receiver, event, test, created_ms, attempts, sends";

fn delivery(r: &Row) -> RepoResult<Delivery> {
    let id: i64 = r.try_get(0).pg()?;
    let bad = |what: &str| RepoError::Storage(format!("queued delivery {id} has a bad {what}"));
    let source: String = r.try_get(2).pg()?;
    let receiver: String = r.try_get(4).pg()?;
    let event: String = r.try_get(5).pg()?;
    let count = |i: usize| -> RepoResult<u32> {
        u32::try_from(r.try_get::<_, i32>(i).pg()?).map_err(|_| bad("count"))
    };
    Ok(Delivery {
        id,
        new: NewDelivery {
            event_id: r.try_get(1).pg()?,
            source: Source::parse(&source).ok_or_else(|| bad("source"))?,
            tenant: r.try_get(3).pg()?,
            receiver: serde_json::from_str::<Receiver>(&receiver).map_err(|_| bad("receiver"))?,
            event: serde_json::from_str::<Value>(&event).map_err(|_| bad("event"))?,
            test: r.try_get(6).pg()?,
            created_ms: r.try_get(7).pg()?,
        },
        attempts: count(8)?,
        sends: count(9)?,
    })
}

fn attempt(r: &Row) -> RepoResult<Attempt> {
    let status: String = r.try_get(9).pg()?;
    let number: i32 = r.try_get(7).pg()?;
    Ok(Attempt {
        delivery_id: r.try_get(0).pg()?,
        event_id: r.try_get(1).pg()?,
        tenant: r.try_get(2).pg()?,
        receiver_id: r.try_get(3).pg()?,
        receiver_kind: r.try_get(4).pg()?,
        test: r.try_get(5).pg()?,
        time_ms: r.try_get(6).pg()?,
        attempt: u32::try_from(number).unwrap_or(0),
        answer: r.try_get(8).pg()?,
        status: AttemptStatus::parse(&status).unwrap_or(AttemptStatus::Failed),
        duration_ms: r.try_get(10).pg()?,
    })
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Logs attempt `a` and applies `next` to its delivery, inside the caller's transaction.
fn settle_one(
    tx: &mut postgres::Transaction<'_>,
    source: Source,
    a: &Attempt,
    next: Next,
) -> RepoResult<()> {
    tx.execute(
        "INSERT INTO notification_attempt (source, delivery_id, event_id, tenant, receiver_id, \
         receiver_kind, test, time_ms, attempt, status, answer, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &source.as_str(),
            &a.delivery_id,
            &a.event_id,
            &a.tenant,
            &a.receiver_id,
            &a.receiver_kind,
            &a.test,
            &a.time_ms,
            &int(a.attempt),
            &a.status.as_str(),
            &a.answer,
            &a.duration_ms,
        ],
    )
    .pg()?;
    tx.execute(
        "DELETE FROM notification_attempt WHERE source = $1 AND tenant = $2 \
         AND receiver_id = $3 AND id <= (SELECT id FROM notification_attempt \
         WHERE source = $1 AND tenant = $2 AND receiver_id = $3 \
         ORDER BY id DESC LIMIT 1 OFFSET $4)",
        &[&source.as_str(), &a.tenant, &a.receiver_id, &ATTEMPTS_KEPT],
    )
    .pg()?;
    let id = a.delivery_id;
    match next {
        Next::Done => tx.execute("DELETE FROM notification_outbox WHERE id = $1", &[&id]),
        Next::RetryAt(at) => tx.execute(
            "UPDATE notification_outbox SET due_ms = $2, attempts = attempts + 1 WHERE id = $1",
            &[&id, &at],
        ),
        Next::RepeatAt(at) => tx.execute(
            "UPDATE notification_outbox SET due_ms = $2, attempts = 0, sends = sends + 1 \
             WHERE id = $1",
            &[&id, &at],
        ),
    }
    .pg()?;
    Ok(())
}

#[async_trait::async_trait]
impl Outbox for PgOutbox {
    fn source(&self) -> Source {
        self.source
    }

    async fn enqueue(&self, d: NewDelivery) -> RepoResult<i64> {
        self.db
            .call(move |c| {
                insert(c, &d)?;
                c.query_one(
                    "SELECT id FROM notification_outbox WHERE event_id = $1",
                    &[&d.event_id],
                )
                .pg()?
                .try_get(0)
                .pg()
            })
            .await
    }

    async fn claim(&self, now_ms: i64, lease_ms: i64, limit: usize) -> RepoResult<Vec<Delivery>> {
        let source = self.source.as_str();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease = now_ms.saturating_add(lease_ms);
        self.db
            .call(move |c| {
                // Rows another node is claiming right now are skipped, not waited for.
                let rows = c
                    .query(
                        &format!(
                            "WITH due AS (SELECT id, due_ms FROM notification_outbox \
                             WHERE source = $1 AND due_ms <= $2 ORDER BY due_ms, id LIMIT $3 \
                             FOR UPDATE SKIP LOCKED), \
                             leased AS (UPDATE notification_outbox o SET due_ms = $4 FROM due \
                             WHERE o.id = due.id RETURNING o.*, due.due_ms AS was_due) \
                             SELECT {DELIVERY_COLS} FROM leased ORDER BY was_due, id"
                        ),
                        &[&source, &now_ms, &limit, &lease],
                    )
                    .pg()?;
                rows.iter().map(delivery).collect()
            })
            .await
    }

    async fn release(&self, ids: &[i64], due_ms: i64) -> RepoResult<()> {
        let (ids, source) = (ids.to_vec(), self.source.as_str());
        self.db
            .call(move |c| {
                c.execute(
                    "UPDATE notification_outbox SET due_ms = $2 WHERE id = ANY($1) \
                     AND source = $3",
                    &[&ids, &due_ms, &source],
                )
                .pg()?;
                Ok(())
            })
            .await
    }

    async fn next_due_ms(&self) -> RepoResult<Option<i64>> {
        let source = self.source.as_str();
        self.db
            .call(move |c| {
                c.query_one(
                    "SELECT min(due_ms) FROM notification_outbox WHERE source = $1",
                    &[&source],
                )
                .pg()?
                .try_get(0)
                .pg()
            })
            .await
    }

    async fn settle(&self, a: &Attempt, next: Next) -> RepoResult<()> {
        self.settle_many(&[(a.clone(), next)]).await
    }

    async fn settle_many(&self, settled: &[(Attempt, Next)]) -> RepoResult<()> {
        let (settled, source) = (settled.to_vec(), self.source);
        self.db
            .call(move |c| {
                let mut tx = c.transaction().pg()?;
                for (a, next) in &settled {
                    settle_one(&mut tx, source, a, *next)?;
                }
                tx.commit().pg()
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
                let now = c
                    .query_opt(
                        "SELECT a.state, m.period FROM alarm a, notification_method m \
                         WHERE a.id = $1 AND m.id = $2",
                        &[&alarm, &method],
                    )
                    .pg()?;
                Ok(match now {
                    Some(r) => {
                        r.try_get::<_, String>(0).pg()? == state
                            && r.try_get::<_, i64>(1).pg()? == period
                    }
                    None => false,
                })
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
        let source = self.source.as_str();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .call(move |c| {
                c.query(
                    "SELECT delivery_id, event_id, tenant, receiver_id, receiver_kind, test, \
                     time_ms, attempt, answer, status, duration_ms FROM notification_attempt \
                     WHERE source = $1 AND tenant = $2 AND receiver_id = $3 \
                     ORDER BY id DESC LIMIT $4",
                    &[&source, &tenant, &receiver_id, &limit],
                )
                .pg()?
                .iter()
                .map(attempt)
                .collect()
            })
            .await
    }

    async fn pending(&self) -> RepoResult<u64> {
        let source = self.source.as_str();
        self.db
            .call(move |c| {
                let n: i64 = c
                    .query_one(
                        "SELECT count(*) FROM notification_outbox WHERE source = $1",
                        &[&source],
                    )
                    .pg()?
                    .try_get(0)
                    .pg()?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }
}
