//! What the Monasca handlers may reach.

use std::sync::Arc;

use async_trait::async_trait;
use config_repo::monasca::MonascaRepos;
use config_repo::outbox::{AddressCheck, Outbox, Wake};
use metric_store::{MetricStore, Sample};
use monasca::types::{AlarmState, NotificationType};

use crate::{GroupCache, SeriesKeys, identity::Identity};

/// The threshold engine as the API tells it about changes; the server implements it over
/// its engine.
#[async_trait]
pub trait AlarmFeed: Send + Sync {
    /// Hands an acknowledged (durable) batch to the engine.
    async fn observe(&self, samples: Arc<Vec<Sample>>);
    /// Definition `id` was created, changed or deleted.
    async fn definition_changed(&self, id: &str);
    /// The engine's time, epoch ms: API writes to alarms use it so history stays in order.
    fn now_ms(&self) -> i64;
    /// The API set an alarm's state, link or lifecycle state. Called while the alarms
    /// database is still held after the commit, so it must not block on it.
    fn alarm_updated(
        &self,
        id: &str,
        state: &AlarmState,
        link: Option<String>,
        lifecycle_state: Option<String>,
    );
    /// The API deleted an alarm.
    fn alarm_deleted(&self, id: &str);
}

/// What the notification engine offers the API; the server fills it in from its engine.
#[derive(Clone)]
pub struct Notifications {
    /// Where test notifications are queued, and whose attempt log `deliveries` reads.
    pub outbox: Arc<dyn Outbox>,
    /// The types this server can deliver, as `types` lists them and validation accepts them.
    pub types: Arc<[NotificationType]>,
    /// The engine's check of an address for its type (URL policy, key shapes).
    pub check_address: AddressCheck,
    /// Tells the engine deliveries were queued (so it need not wait for its next poll).
    pub wake: Wake,
}

/// Counts ingested measurements for the server's telemetry.
pub type IngestCounter = Arc<dyn Fn(usize) + Send + Sync>;

/// Everything the Monasca handlers share. Cheap to clone.
#[derive(Clone)]
pub struct MonascaState {
    pub store: Arc<dyn MetricStore>,
    pub repos: MonascaRepos,
    pub identity: Arc<Identity>,
    pub alarms: Arc<dyn AlarmFeed>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Series keys shared by ingest requests.
    pub series_keys: Arc<SeriesKeys>,
    /// Groups of recent `group_by` queries, for their next pages.
    pub group_cache: Arc<GroupCache>,
    /// Told how many measurements each ingest request stored.
    pub ingested: IngestCounter,
    pub notifications: Notifications,
}
