//! The Monasca side: notification methods, alarm definitions, alarms and their state history
//! (`alarms.db`). One repository trait per resource, plus a unit of work for changes whose
//! checks must see the same data as their writes.

mod alarm_definitions;
mod alarms;
pub mod cluster;
mod history;
mod notification_methods;
pub mod rows;
pub mod threshold;

use std::sync::{Arc, Mutex};

pub use alarm_definitions::*;
pub use alarms::*;
use async_trait::async_trait;
pub use history::*;
pub use notification_methods::*;

use crate::{RepoError, RepoResult};

/// Synchronous operations inside one transaction. Implemented by each backend; callers reach
/// it through [`in_unit`].
pub trait MonascaUnit {
    /// The tenant's definition `id`, if any.
    fn alarm_definition(&self, tenant: &str, id: &str) -> RepoResult<Option<AlarmDefinition>>;
    /// Another definition of the tenant with `name`, other than `except`.
    fn definition_named(
        &self,
        tenant: &str,
        name: &str,
        except: Option<&str>,
    ) -> RepoResult<Option<String>>;
    /// Whether the definition has alarms.
    fn definition_has_alarms(&self, id: &str) -> RepoResult<bool>;
    /// `Invalid` ([`unknown_action`]) for the first action naming no method of the tenant.
    fn check_actions(&self, definition: &AlarmDefinition) -> RepoResult<()>;
    /// Stores a new definition with its actions (no checks).
    fn insert_definition(&self, definition: &AlarmDefinition, now: i64) -> RepoResult<()>;
    /// Replaces a definition's fields and actions (no checks).
    fn update_definition(&self, definition: &AlarmDefinition, now: i64) -> RepoResult<()>;
    /// The tenant's alarm `id`, if any.
    fn alarm(&self, tenant: &str, id: &str) -> RepoResult<Option<AlarmRecord>>;
    /// Sets lifecycle state, link and `updated_at`; a given state with `state_updated_at`.
    fn update_alarm(&self, id: &str, change: &AlarmChange, now: i64) -> RepoResult<()>;
    /// Appends a state-history entry.
    fn append_history(&self, entry: &NewHistoryEntry) -> RepoResult<()>;
    /// Queues `event`'s notifications to each of `method_ids` the tenant has; how many.
    fn enqueue_notifications(
        &self,
        method_ids: &[String],
        event: &monasca::types::AlarmTransitionedEvent,
        now_ms: i64,
    ) -> RepoResult<usize>;
    /// Runs `f` once the unit commits, before anyone else reaches the data (a cache kept in
    /// step with the database sees no other change in between). Dropped on rollback.
    fn after_commit(&self, f: Box<dyn FnOnce() + Send>);
}

/// Work for [`MonascaUnits::run`]: an error rolls the unit back.
pub type UnitWork = Box<dyn FnOnce(&dyn MonascaUnit) -> RepoResult<()> + Send>;

/// Runs units of work.
#[async_trait]
pub trait MonascaUnits: Send + Sync {
    /// Runs `work` in one transaction, off the async runtime.
    async fn run(&self, work: UnitWork) -> RepoResult<()>;
}

/// Runs `work` as one unit and returns what it returns. `work` may fail with the caller's own
/// error (a domain rule broken): the unit is rolled back and that error returned.
///
/// # Errors
/// What `work` returns, or the backend's failure as `E`.
pub async fn in_unit<T, E, F>(units: &dyn MonascaUnits, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<RepoError> + Send + 'static,
    F: FnOnce(&dyn MonascaUnit) -> Result<T, E> + Send + 'static,
{
    let slot: Arc<Mutex<Option<Result<T, E>>>> = Arc::new(Mutex::new(None));
    let out = slot.clone();
    let ran = units
        .run(Box::new(move |unit| {
            let result = work(unit);
            let failed = result.is_err();
            *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            if failed {
                // Only to roll back: the caller gets the work's own error.
                Err(RepoError::Invalid("unit of work rejected".into()))
            } else {
                Ok(())
            }
        }))
        .await;
    let result = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (result, ran) {
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(v)), Ok(())) => Ok(v),
        (_, Err(e)) => Err(E::from(e)),
        (None, Ok(())) => Err(E::from(RepoError::Storage(
            "unit of work did not run".into(),
        ))),
    }
}

/// Every Monasca repository of one backend.
#[derive(Clone)]
pub struct MonascaRepos {
    pub notification_methods: Arc<dyn NotificationMethodRepo>,
    pub alarm_definitions: Arc<dyn AlarmDefinitionRepo>,
    pub alarms: Arc<dyn AlarmRepo>,
    pub state_history: Arc<dyn StateHistoryRepo>,
    pub units: Arc<dyn MonascaUnits>,
}

impl MonascaRepos {
    /// All repositories from one backend value.
    pub fn from_backend<B>(backend: B) -> Self
    where
        B: NotificationMethodRepo
            + AlarmDefinitionRepo
            + AlarmRepo
            + StateHistoryRepo
            + MonascaUnits
            + 'static,
    {
        let b = Arc::new(backend);
        Self {
            notification_methods: b.clone(),
            alarm_definitions: b.clone(),
            alarms: b.clone(),
            state_history: b.clone(),
            units: b,
        }
    }
}
