//! The dispatcher: claims due deliveries from every outbox, starts one task per delivery, and
//! settles each attempt. A delivery already being sent by this process is never started
//! twice; each send waits for a slot of its receiver (per-receiver limit) and a global slot,
//! and runs under the attempt timeout, so a slow or dead receiver only holds its own slots.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use config_repo::outbox::{Attempt, Delivery, Next, Outbox};
use tokio::{
    sync::{Notify, Semaphore, mpsc, oneshot, watch},
    task::JoinSet,
};

use crate::{
    NotifySettings, backoff,
    metrics::{AttemptLabels, Metrics, SourceLabels, TypeLabels},
    payload::{self, Request, Unsendable},
    send::{Outcome, OutcomeKind, email::Mailer, http::Clients, jira},
};

/// Deliveries claimed per query.
const CLAIM_BATCH: usize = 256;
/// Deliveries held in memory (sending or waiting for a slot), all receivers together.
const MAX_HELD: usize = 20_000;
/// When deliveries handed back fall due again if their receiver is making progress (else
/// after a lease).
const RETRY_HANDED_BACK: Duration = Duration::from_millis(200);
/// A receiver whose last attempt ended within this is making progress.
const PROGRESS_WINDOW: Duration = Duration::from_secs(2);
/// Attempts settled in one transaction at most.
const SETTLE_BATCH: usize = 512;
/// How often the queued gauge is refreshed.
const GAUGE_EVERY: Duration = Duration::from_secs(1);

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A delivery this process holds: being sent, or settled at this instant (so a claim that
/// read it before the settle committed does not start it again).
#[derive(Clone, Copy)]
enum Slot {
    Sending,
    Settled(Instant),
}

struct ReceiverSlots {
    sends: Arc<Semaphore>,
    held: usize,
    /// When an attempt to it last ended without timing out (or when it was first seen).
    progressed_at: Instant,
}

/// What became of a claimed delivery.
enum Started {
    Yes,
    /// Already held by this process.
    Held,
    /// Its receiver has as many as it may hold; hand it back, due soon if the receiver is
    /// making progress.
    Full {
        progressing: bool,
    },
}

/// An attempt to settle, and where to say whether it was.
type SettleJob = (Attempt, Next, oneshot::Sender<Result<(), String>>);

pub(crate) struct Engine {
    pub outboxes: Vec<Arc<dyn Outbox>>,
    /// One settler per outbox: attempts that end together are settled in one transaction.
    settlers: Vec<mpsc::UnboundedSender<SettleJob>>,
    pub settings: NotifySettings,
    pub clients: Clients,
    pub mailer: Option<Mailer>,
    pub metrics: Metrics,
    pub wake: Notify,
    global: Arc<Semaphore>,
    slots: Mutex<HashMap<(usize, i64), Slot>>,
    receivers: Mutex<HashMap<String, ReceiverSlots>>,
    held: AtomicUsize,
    pub tasks: Mutex<JoinSet<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Engine {
    pub fn new(
        outboxes: Vec<Arc<dyn Outbox>>,
        settings: NotifySettings,
        clients: Clients,
        mailer: Option<Mailer>,
        metrics: Metrics,
    ) -> Self {
        let settlers = outboxes
            .iter()
            .map(|outbox| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(settle_loop(outbox.clone(), rx));
                tx
            })
            .collect();
        Self {
            global: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
            settlers,
            outboxes,
            settings,
            clients,
            mailer,
            metrics,
            wake: Notify::new(),
            slots: Mutex::new(HashMap::new()),
            receivers: Mutex::new(HashMap::new()),
            held: AtomicUsize::new(0),
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Claims and starts due deliveries until stopped.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut gauge_at: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            let wait = self.round().await;
            if gauge_at.is_none_or(|t| t.elapsed() >= GAUGE_EVERY) {
                self.refresh_queued().await;
                gauge_at = Some(Instant::now());
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => break,
            }
        }
    }

    /// One look at every outbox; how long to sleep before the next.
    async fn round(self: &Arc<Self>) -> Duration {
        let round_start = Instant::now();
        let mut wait = self.settings.poll_interval();
        let lease = self.settings.lease_ms();
        while lock(&self.tasks).try_join_next().is_some() {}
        for (index, outbox) in self.outboxes.iter().enumerate() {
            let (mut soon, mut later) = (Vec::new(), Vec::new());
            loop {
                let room = MAX_HELD.saturating_sub(self.held.load(Ordering::Relaxed));
                if room == 0 {
                    break;
                }
                let batch = room.min(CLAIM_BATCH);
                let claim_start = Instant::now();
                match outbox.claim(now_ms(), lease, batch).await {
                    Ok(claimed) => {
                        let full = claimed.len() == batch;
                        for d in claimed {
                            let id = d.id;
                            match self.start(index, d, claim_start) {
                                Started::Full { progressing: true } => soon.push(id),
                                Started::Full { progressing: false } => later.push(id),
                                Started::Yes | Started::Held => {}
                            }
                        }
                        if !full {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, source = outbox.source().as_str(), "notifications: cannot claim deliveries");
                        break;
                    }
                }
            }
            let soon_ms = i64::try_from(RETRY_HANDED_BACK.as_millis()).unwrap_or(0);
            for (ids, due) in [(soon, now_ms() + soon_ms), (later, now_ms() + lease)] {
                if !ids.is_empty()
                    && let Err(e) = outbox.release(&ids, due).await
                {
                    // They stay leased and come back after the lease.
                    tracing::warn!(error = %e, "notifications: cannot hand deliveries back");
                }
            }
            match outbox.next_due_ms().await {
                Ok(Some(due)) => {
                    let ms = u64::try_from(due.saturating_sub(now_ms())).unwrap_or(0);
                    wait = wait.min(Duration::from_millis(ms));
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "notifications: cannot read the next due time");
                }
            }
        }
        lock(&self.slots).retain(|_, s| !matches!(s, Slot::Settled(at) if *at < round_start));
        // Never spin: deliveries due now but not started (their receiver is saturated) wait
        // for a send to finish, which wakes the dispatcher.
        wait.max(Duration::from_millis(5))
    }

    /// Starts delivery `d` of outbox `index` unless this process already holds it.
    fn start(self: &Arc<Self>, index: usize, d: Delivery, claim_start: Instant) -> Started {
        let key = (index, d.id);
        {
            let slots = lock(&self.slots);
            match slots.get(&key) {
                Some(Slot::Sending) => return Started::Held,
                Some(Slot::Settled(at)) if *at >= claim_start => return Started::Held,
                _ => {}
            }
        }
        let request = payload::build(&d.new, &self.settings);
        let receiver = match &request {
            Ok(r) => r.receiver_key(&self.settings),
            Err(_) => String::new(),
        };
        let sends = {
            let mut receivers = lock(&self.receivers);
            let r = receivers
                .entry(receiver.clone())
                .or_insert_with(|| ReceiverSlots {
                    sends: Arc::new(Semaphore::new(
                        self.settings.per_receiver_concurrency.max(1),
                    )),
                    held: 0,
                    progressed_at: Instant::now(),
                });
            if r.held >= self.settings.per_receiver_backlog.max(1) {
                let progressing = r.progressed_at.elapsed() < PROGRESS_WINDOW;
                return Started::Full { progressing };
            }
            r.held += 1;
            r.sends.clone()
        };
        lock(&self.slots).insert(key, Slot::Sending);
        self.held.fetch_add(1, Ordering::Relaxed);
        let engine = self.clone();
        lock(&self.tasks).spawn(async move {
            let progressed = engine.deliver(index, d, request, sends).await;
            engine.release(key, &receiver, progressed);
        });
        Started::Yes
    }

    fn release(&self, key: (usize, i64), receiver: &str, progressed: bool) {
        lock(&self.slots).insert(key, Slot::Settled(Instant::now()));
        {
            let mut receivers = lock(&self.receivers);
            if let Some(r) = receivers.get_mut(receiver) {
                r.held = r.held.saturating_sub(1);
                if progressed {
                    r.progressed_at = Instant::now();
                }
                if r.held == 0 {
                    receivers.remove(receiver);
                }
            }
        }
        if self.held.fetch_sub(1, Ordering::Relaxed) >= MAX_HELD {
            self.wake.notify_one();
        }
    }

    /// One attempt of `d`, settled in its outbox; whether the receiver answered in time.
    async fn deliver(
        &self,
        index: usize,
        d: Delivery,
        request: Result<Request, Unsendable>,
        receiver_sends: Arc<Semaphore>,
    ) -> bool {
        let Ok(receiver_slot) = receiver_sends.acquire_owned().await else {
            return false;
        };
        let Ok(global_slot) = self.global.clone().acquire_owned().await else {
            return false;
        };
        let outbox = &self.outboxes[index];
        let attempt_no = d.attempts.saturating_add(1);
        let idempotency_key = if d.sends == 0 {
            d.new.event_id.clone()
        } else {
            format!("{}/{}", d.new.event_id, d.sends)
        };
        let started_ms = now_ms();
        let clock = Instant::now();
        let mut answered = true;
        let outcome = match &request {
            Err(Unsendable(why)) => Outcome::dropped(why.clone()),
            Ok(r) => {
                let timeout = self.settings.timeout();
                match tokio::time::timeout(timeout, self.send(r, &idempotency_key)).await {
                    Ok(o) => o,
                    Err(_) => {
                        answered = false;
                        Outcome::failed(format!(
                            "no answer within {} ms (timed out)",
                            timeout.as_millis()
                        ))
                    }
                }
            }
        };
        let elapsed = clock.elapsed();
        // The receiver is done with: the next send to it need not wait for the bookkeeping.
        drop((receiver_slot, global_slot));
        let last = attempt_no >= self.settings.max_attempts.max(1);
        let done_ms = now_ms();
        let next = match outcome.kind {
            OutcomeKind::Delivered => {
                let period = d.new.receiver.period_s;
                let repeat = !d.new.test
                    && period > 0
                    && outbox.still_current(&d).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "notifications: cannot check a periodic delivery");
                        false
                    });
                if repeat {
                    Next::RepeatAt(done_ms.saturating_add(period.saturating_mul(1000)))
                } else {
                    Next::Done
                }
            }
            OutcomeKind::Failed if !last => {
                let delay = backoff::retry_delay_ms(
                    self.settings.backoff_base_ms,
                    self.settings.backoff_max_ms,
                    attempt_no,
                );
                Next::RetryAt(done_ms.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)))
            }
            _ => Next::Done,
        };
        let status = outcome.status(last);
        let attempt = Attempt {
            delivery_id: d.id,
            event_id: d.new.event_id.clone(),
            tenant: d.new.tenant.clone(),
            receiver_id: d.new.receiver.id.clone(),
            receiver_kind: d.new.receiver.kind.clone(),
            test: d.new.test,
            time_ms: started_ms,
            attempt: attempt_no,
            status,
            answer: outcome.answer.clone(),
            duration_ms: i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
        };
        self.observe(&d, &attempt, elapsed);
        let (done_tx, done_rx) = oneshot::channel();
        let settled = match self.settlers[index].send((attempt, next, done_tx)) {
            Ok(()) => done_rx
                .await
                .unwrap_or_else(|_| Err("the settler stopped".into())),
            Err(_) => Err("the settler stopped".into()),
        };
        if let Err(e) = settled {
            // The lease brings the delivery back: at least once, perhaps twice.
            tracing::error!(error = %e, delivery = d.id, "notifications: cannot record an attempt");
        }
        if matches!(next, Next::RetryAt(_) | Next::RepeatAt(_)) {
            self.wake.notify_one();
        }
        answered
    }

    async fn send(&self, request: &Request, idempotency_key: &str) -> Outcome {
        match request {
            Request::Http(h) => crate::send::http::post(&self.clients, h, idempotency_key).await,
            Request::Email(e) => match &self.mailer {
                Some(m) => m.send(e, idempotency_key).await,
                None => Outcome::dropped("EMAIL is not served: no SMTP server is configured"),
            },
            Request::Jira(j) => match &self.settings.jira {
                Some(account) => jira::send(&self.clients, account, j).await,
                None => Outcome::dropped("JIRA is not served: no Jira account is configured"),
            },
        }
    }

    fn observe(&self, d: &Delivery, a: &Attempt, elapsed: Duration) {
        use config_repo::outbox::AttemptStatus as S;
        let source = d.new.source.as_str();
        let kind = || TypeLabels {
            source,
            r#type: a.receiver_kind.clone(),
        };
        self.metrics
            .attempts
            .get_or_create(&AttemptLabels {
                source,
                r#type: a.receiver_kind.clone(),
                outcome: match a.status {
                    S::Delivered => "delivered",
                    S::Retrying => "retrying",
                    S::Failed => "failed",
                    S::Dropped => "dropped",
                },
            })
            .inc();
        self.metrics
            .attempt_seconds
            .get_or_create(&kind())
            .observe(elapsed.as_secs_f64());
        match a.status {
            S::Delivered => {
                self.metrics.delivered.get_or_create(&kind()).inc();
                if d.sends == 0 {
                    let delay_ms = now_ms().saturating_sub(d.new.created_ms).max(0);
                    self.metrics
                        .delivery_delay_seconds
                        .get_or_create(&kind())
                        .observe(delay_ms as f64 / 1000.0);
                }
                return;
            }
            S::Failed => {
                self.metrics.failed.get_or_create(&kind()).inc();
            }
            S::Dropped => {
                self.metrics.dropped.get_or_create(&kind()).inc();
            }
            S::Retrying => {}
        }
        tracing::warn!(
            receiver_id = %a.receiver_id,
            receiver_kind = %a.receiver_kind,
            event_id = %a.event_id,
            attempt = a.attempt,
            status = a.status.as_str(),
            answer = %a.answer,
            "notification attempt failed"
        );
    }

    async fn refresh_queued(&self) {
        let mut by_source: HashMap<&'static str, i64> = HashMap::new();
        for outbox in &self.outboxes {
            match outbox.pending().await {
                Ok(n) => {
                    *by_source.entry(outbox.source().as_str()).or_default() +=
                        i64::try_from(n).unwrap_or(i64::MAX);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "notifications: cannot count queued deliveries")
                }
            }
        }
        for (source, n) in by_source {
            self.metrics
                .queued
                .get_or_create(&SourceLabels { source })
                .set(n);
        }
    }
}

/// Settles the attempts sent to `jobs` in `outbox`, as many at once as are waiting.
async fn settle_loop(outbox: Arc<dyn Outbox>, mut jobs: mpsc::UnboundedReceiver<SettleJob>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < SETTLE_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (settled, replies): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|(attempt, next, reply)| ((attempt, next), reply))
            .unzip();
        let result = outbox
            .settle_many(&settled)
            .await
            .map_err(|e| e.to_string());
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}
