//! Vigil's notification engine: it drains the notification outboxes (deliveries queued in
//! the same transaction as the alarm transition or Sysdig alert notification that caused
//! them) and delivers each to its receiver — webhooks, e-mail, PagerDuty, Slack, Jira for
//! Monasca methods; webhooks, e-mail, Slack, PagerDuty, OpsGenie, VictorOps and Microsoft
//! Teams for Sysdig channels — with bounded retries, per-receiver limits and an attempt log.
//!
//! Files by job: [`settings`] (the `[notifications]` table), [`policy`] (which URLs tenants
//! may make the server call), `dispatch` (claiming, concurrency, settling), [`backoff`],
//! `metrics`, `payload` (what each receiver type gets, no I/O), `send` (HTTP, SMTP, Jira),
//! [`validate`] (addresses and channel options, for the APIs).
//!
//! Guarantees: at least once (a delivery leaves its outbox only when an attempt is settled;
//! one whose sender died is claimed again after its lease); every HTTP request carries
//! `Idempotency-Key: <event id>` (`<event id>/<n>` for the n-th periodic re-send), the same on
//! every retry; failures are retried with capped exponential backoff and full jitter up to
//! `max_attempts`, then recorded as failed with the receiver's answer.
//!
//! Sysdig events are queued as `{"notification": N, "alert": A}` (see `payload::sysdig`);
//! Monasca events are `monasca::types::AlarmTransitionedEvent`s. Test notifications are built
//! the same way and sent like any other.
//!
//! Not delivered, and why: Sysdig `SNS` (publishing needs AWS credentials and SigV4 request
//! signing, and nothing local could receive it; such deliveries are dropped with that
//! answer). Of upstream's options, not supported: the webhook plugin's Keystone token
//! (`X-Auth-Token` when `keystone.auth_required`), Slack's and Jira's Jinja templates
//! (`message_template`, `custom_formatter`), proxies, and Slack's form-encoded fallback (the
//! message is posted as JSON only).
//!
//! ```no_run
//! # async fn demo(outbox: std::sync::Arc<dyn config_repo::outbox::Outbox>) -> anyhow::Result<()> {
//! use notification_engine::{Notifier, NotifySettings};
//! let mut registry = prometheus_client::registry::Registry::with_prefix("vigil");
//! let notifier = Notifier::start(vec![outbox], NotifySettings::default(), &mut registry)?;
//! // The API validates a webhook address before storing it:
//! notifier.policy().check("https://hooks.example.com/alarms").map_err(anyhow::Error::msg)?;
//! // After each committed transition, so delivery does not wait for the next poll:
//! notifier.wake();
//! // What `GET /v2.0/notification-methods/types` lists:
//! let types = notifier.monasca_types();
//! # let _ = types;
//! notifier.shutdown().await;
//! # Ok(()) }
//! ```

pub mod backoff;
mod dispatch;
mod metrics;
pub mod payload;
pub mod policy;
mod send;
pub mod settings;
pub mod validate;

use std::{sync::Arc, time::Duration};

use config_repo::outbox::Outbox;
use monasca::types::NotificationType;
use sysdig::channels::ChannelKind;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    dispatch::Engine,
    metrics::Metrics,
    send::{email::Mailer, http::Clients},
};
pub use crate::{
    policy::UrlPolicy,
    settings::{EmailSettings, JiraSettings, NotifySettings, SmtpSecurity},
};

/// The running engine. Cheap to share (`Arc`); stop it with [`Notifier::shutdown`].
pub struct Notifier {
    engine: Arc<Engine>,
    stop: watch::Sender<bool>,
    dispatcher: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Notifier {
    /// Starts draining `outboxes` on the current Tokio runtime, registering the engine's
    /// metrics (`notification_*`) in `registry`.
    ///
    /// # Errors
    /// A setting that cannot be used: a denied network that is not a CIDR, an SMTP sender
    /// that is not an address, TLS that cannot start.
    pub fn start(
        outboxes: Vec<Arc<dyn Outbox>>,
        settings: NotifySettings,
        registry: &mut prometheus_client::registry::Registry,
    ) -> anyhow::Result<Arc<Self>> {
        let policy = UrlPolicy::new(&settings)?;
        let clients = Clients::new(policy)?;
        let mailer = settings.email.as_ref().map(Mailer::new).transpose()?;
        let metrics = Metrics::register(registry);
        let engine = Arc::new(Engine::new(outboxes, settings, clients, mailer, metrics));
        let (stop, stopped) = watch::channel(false);
        let dispatcher = tokio::spawn(engine.clone().run(stopped));
        Ok(Arc::new(Self {
            engine,
            stop,
            dispatcher: std::sync::Mutex::new(Some(dispatcher)),
        }))
    }

    /// Looks at the outboxes now rather than at the next poll: call it after committing a
    /// change that queued deliveries.
    pub fn wake(&self) {
        self.engine.wake.notify_one();
    }

    /// Stops claiming, lets the sends under way finish (each within the attempt timeout),
    /// then returns. Deliveries not settled stay leased and are claimed again after the
    /// lease, by this process's successor.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let dispatcher = self
            .dispatcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(d) = dispatcher {
            let _ = d.await;
        }
        let mut tasks =
            std::mem::take(&mut *self.engine.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        let grace = self.engine.settings.timeout() + Duration::from_secs(1);
        let _ =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        tasks.abort_all();
    }

    /// The Monasca notification types this server delivers: WEBHOOK, PAGERDUTY and SLACK
    /// always, EMAIL with an SMTP server configured, JIRA with a Jira account.
    pub fn monasca_types(&self) -> Vec<NotificationType> {
        let s = &self.engine.settings;
        NotificationType::KNOWN
            .iter()
            .filter(|t| match t {
                NotificationType::Email => self.engine.mailer.is_some(),
                NotificationType::Jira => s.jira.is_some(),
                NotificationType::Webhook
                | NotificationType::Pagerduty
                | NotificationType::Slack => true,
                NotificationType::Other(_) => false,
            })
            .cloned()
            .collect()
    }

    /// The Sysdig channel types this server delivers: all but SNS (which needs AWS), EMAIL
    /// only with an SMTP server configured, and MS_TEAMS besides sdcclient's list.
    pub fn sysdig_kinds(&self) -> Vec<ChannelKind> {
        let mut kinds: Vec<ChannelKind> = [
            ChannelKind::Email,
            ChannelKind::PagerDuty,
            ChannelKind::Slack,
            ChannelKind::Opsgenie,
            ChannelKind::VictorOps,
            ChannelKind::Webhook,
        ]
        .into_iter()
        .filter(|k| *k != ChannelKind::Email || self.engine.mailer.is_some())
        .collect();
        kinds.push(ChannelKind::Other("MS_TEAMS".into()));
        kinds
    }

    /// The URL rules webhook, Slack, Teams and Jira addresses must follow.
    pub fn policy(&self) -> &UrlPolicy {
        &self.engine.clients.policy
    }

    /// Whether a Monasca method of type `kind` at `address` can be delivered to (see
    /// [`validate::monasca_address`]).
    ///
    /// # Errors
    /// Why not, for an API error body.
    pub fn check_monasca_address(&self, kind: &str, address: &str) -> Result<(), String> {
        validate::monasca_address(self.policy(), kind, address)
    }

    /// Whether a Sysdig channel of type `kind` with `options` can be delivered to (see
    /// [`validate::sysdig_options`]).
    ///
    /// # Errors
    /// Why not, for an API error body.
    pub fn check_sysdig_options(
        &self,
        kind: &str,
        options: &serde_json::Value,
    ) -> Result<(), String> {
        validate::sysdig_options(self.policy(), kind, options)
    }

    /// The settings the engine runs with.
    pub fn settings(&self) -> &NotifySettings {
        &self.engine.settings
    }
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("outboxes", &self.engine.outboxes.len())
            .field("settings", &self.engine.settings)
            .finish_non_exhaustive()
    }
}

impl Drop for Notifier {
    /// Without a shutdown, stops claiming and abandons the sends under way (as a crash
    /// would: their leases bring them back).
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(d) = self
            .dispatcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            d.abort();
        }
        self.engine
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .abort_all();
    }
}
