//! The notification outbox: deliveries still to make, written in the same transaction as the
//! state change that causes them, so a change committed before a crash is still delivered
//! after the restart (at least once). The notification engine claims due deliveries, sends,
//! and settles each attempt here; the attempt log is what a user reads to see why a page did
//! not arrive.
//!
//! Each database that records state changes (Monasca's alarms, Sysdig's alerts) keeps its own
//! outbox next to them; the engine drains every outbox it is given.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::RepoResult;

/// Where a delivery goes: a snapshot of the notification method or channel taken when the
/// delivery was queued, so a later edit or delete cannot lose a queued transition.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Receiver {
    /// The notification method's or channel's id.
    pub id: String,
    pub name: String,
    /// A Monasca notification type (`WEBHOOK`, `EMAIL`, …) or a Sysdig channel type
    /// (`WEBHOOK`, `PAGER_DUTY`, …).
    pub kind: String,
    /// Monasca: the method's address. Sysdig: empty (the options say where).
    pub address: String,
    /// Sysdig: the channel's options. Monasca: null.
    pub options: Value,
    /// Seconds between repeats while the alarm stays in the state (0: once).
    pub period_s: i64,
}

/// Addresses embed secrets (webhook tokens, PagerDuty keys): `Debug` shows only their kind.
impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("period_s", &self.period_s)
            .finish_non_exhaustive()
    }
}

/// Which source produced a delivery's event, and so how its payloads are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// A Monasca alarm transition: the event is an `AlarmTransitionedEvent`.
    Monasca,
    /// A Sysdig alert notification: the event is the notification record, with the alert.
    Sysdig,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Monasca => "monasca",
            Source::Sysdig => "sysdig",
        }
    }

    /// The source stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "monasca" => Some(Source::Monasca),
            "sysdig" => Some(Source::Sysdig),
            _ => None,
        }
    }
}

/// A delivery to queue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDelivery {
    /// Unique per (event, receiver); receivers see it as the idempotency key, so a retry
    /// after a timeout can be recognised.
    pub event_id: String,
    pub source: Source,
    /// The Monasca tenant, or the Sysdig team id.
    pub tenant: String,
    pub receiver: Receiver,
    /// What happened; its shape depends on `source`.
    pub event: Value,
    /// A test notification asked for through the API rather than a state change.
    pub test: bool,
    pub created_ms: i64,
}

/// A queued delivery the engine claimed.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub new: NewDelivery,
    /// Failed attempts since the last success.
    pub attempts: u32,
    /// Successful sends so far (periodic deliveries repeat).
    pub sends: u32,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttemptStatus {
    /// The receiver accepted it.
    Delivered,
    /// It failed and will be tried again.
    Retrying,
    /// It failed for the last time.
    Failed,
    /// Not sent, and never will be (its receiver type is not served, its address is refused).
    Dropped,
}

impl AttemptStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Delivered => "DELIVERED",
            AttemptStatus::Retrying => "RETRYING",
            AttemptStatus::Failed => "FAILED",
            AttemptStatus::Dropped => "DROPPED",
        }
    }

    /// The status stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "DELIVERED" => AttemptStatus::Delivered,
            "RETRYING" => AttemptStatus::Retrying,
            "FAILED" => AttemptStatus::Failed,
            "DROPPED" => AttemptStatus::Dropped,
            _ => return None,
        })
    }
}

/// One attempt, as the attempt log keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery_id: i64,
    pub event_id: String,
    pub tenant: String,
    pub receiver_id: String,
    pub receiver_kind: String,
    pub test: bool,
    /// When the attempt started, epoch ms.
    pub time_ms: i64,
    /// 1 for the first attempt of a send.
    pub attempt: u32,
    pub status: AttemptStatus,
    /// What the receiver answered (status line and the start of its body), or why nothing
    /// was sent.
    pub answer: String,
    pub duration_ms: i64,
}

/// What becomes of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing more to send: the delivery leaves the outbox.
    Done,
    /// Try again at this time (epoch ms); the failed attempt counts.
    RetryAt(i64),
    /// Sent; send again at this time (periodic notifications), attempts start over.
    RepeatAt(i64),
}

/// An outbox: deliveries queued with state changes, claimed and settled by the engine.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Which events this outbox holds.
    fn source(&self) -> Source;

    /// Queues a delivery outside a state change (a test notification).
    ///
    /// # Errors
    /// Storage fails.
    async fn enqueue(&self, delivery: NewDelivery) -> RepoResult<i64>;

    /// Up to `limit` deliveries due at `now_ms`, oldest first, each leased until
    /// `now_ms + lease_ms`: another claim skips them until then, so a delivery whose sender
    /// died (or whose process was killed) is claimed again once its lease runs out.
    ///
    /// # Errors
    /// Storage fails.
    async fn claim(&self, now_ms: i64, lease_ms: i64, limit: usize) -> RepoResult<Vec<Delivery>>;

    /// Hands claimed deliveries `ids` back without an attempt, due again at `due_ms`: the
    /// engine claimed more for one receiver than it holds in memory at once. A store that
    /// cannot leaves them leased: they come back when the lease runs out.
    ///
    /// # Errors
    /// Storage fails.
    async fn release(&self, ids: &[i64], due_ms: i64) -> RepoResult<()> {
        let _ = (ids, due_ms);
        Ok(())
    }

    /// When the earliest queued delivery falls due, epoch ms.
    ///
    /// # Errors
    /// Storage fails.
    async fn next_due_ms(&self) -> RepoResult<Option<i64>>;

    /// Logs `attempt` and applies `next` to its delivery, in one transaction.
    ///
    /// # Errors
    /// Storage fails.
    async fn settle(&self, attempt: &Attempt, next: Next) -> RepoResult<()>;

    /// Settles several attempts, in one transaction where the store can (the engine
    /// batches the attempts that end together, so a burst costs few commits).
    ///
    /// # Errors
    /// Storage fails; then none of them is settled.
    async fn settle_many(&self, settled: &[(Attempt, Next)]) -> RepoResult<()> {
        for (attempt, next) in settled {
            self.settle(attempt, *next).await?;
        }
        Ok(())
    }

    /// Whether a periodic delivery should still repeat: its alarm is still in the state it
    /// announced and its method still has the period it was queued with.
    ///
    /// # Errors
    /// Storage fails.
    async fn still_current(&self, delivery: &Delivery) -> RepoResult<bool>;

    /// The latest `limit` attempts of receiver `receiver_id` of `tenant`, newest first.
    ///
    /// # Errors
    /// Storage fails.
    async fn attempts(
        &self,
        tenant: &str,
        receiver_id: &str,
        limit: usize,
    ) -> RepoResult<Vec<Attempt>>;

    /// How many deliveries are queued.
    ///
    /// # Errors
    /// Storage fails.
    async fn pending(&self) -> RepoResult<u64>;
}

/// The notification engine's check of a Monasca method's address for its type (`kind`,
/// `address`): a URL it must not call, a PagerDuty key of the wrong shape…; the message says
/// why. The API checks with it before storing.
pub type AddressCheck = std::sync::Arc<dyn Fn(&str, &str) -> Result<(), String> + Send + Sync>;

/// The notification engine's check of a Sysdig channel's options for its type (`kind`,
/// `options`): what the type needs, URLs it must not call; the message says why.
pub type OptionsCheck = std::sync::Arc<dyn Fn(&str, &Value) -> Result<(), String> + Send + Sync>;

/// Tells the notification engine deliveries were queued, so it need not wait for its poll.
pub type Wake = std::sync::Arc<dyn Fn() + Send + Sync>;
