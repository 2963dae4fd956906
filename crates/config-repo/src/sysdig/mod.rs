//! What the Sysdig Monitor emulation keeps: users, teams, memberships, Monitor API tokens and
//! team-owned objects (channels, alerts, notifications, dashboards, events) as JSON documents.
//!
//! Handlers change several records at once after checking others (a name is free, a channel
//! exists), so the repository hands out a unit of work: [`SysdigRepo::tx`] runs a closure with a
//! [`SysdigTx`] (sync operations inside one transaction) on the blocking pool and commits when the
//! closure returns `Ok`. The closure's error type is the caller's own (`E: From<RepoError>`), so
//! API logic can refuse with its own error from inside the transaction.

mod model;
mod secure_events;

use std::{any::Any, collections::HashMap};

pub use model::{Member, ROLE_CUSTOMER, Team, TeamObject, User, kinds};
pub use secure_events::{EventPos, EventRange, NewSecureEvent, SecureEvent, event_kinds};

use crate::{RepoError, RepoResult};

/// Sync operations inside one transaction of the Sysdig repository. Object-safe: handlers get a
/// `&dyn SysdigTx`. `Option` answers mean "no such record"; [`RepoError::NotFound`] is kept for
/// operations whose caller named a record that must exist.
pub trait SysdigTx {
    // --- notification outbox ------------------------------------------------------------------

    /// Queues a notification delivery with the change that causes it.
    fn outbox_enqueue(&self, delivery: &crate::outbox::NewDelivery) -> RepoResult<()>;

    // --- meta / customer ---------------------------------------------------------------------

    /// A value of the key-value table (`bootstrapped`, `alert_state:<id>:segments`).
    fn meta_get(&self, key: &str) -> RepoResult<Option<String>>;
    fn meta_set(&self, key: &str, value: &str) -> RepoResult<()>;
    /// Creates the single customer (id 1) if it is missing.
    fn customer_ensure(&self, name: &str) -> RepoResult<()>;
    /// The customer's name (`vigil` when none is stored).
    fn customer_name(&self) -> RepoResult<String>;

    // --- users -------------------------------------------------------------------------------

    /// Every user, by id.
    fn users(&self) -> RepoResult<Vec<User>>;
    fn user(&self, id: i64) -> RepoResult<Option<User>>;
    /// The user called `name`, compared case-insensitively.
    fn user_by_name(&self, name: &str) -> RepoResult<Option<User>>;
    /// Stores a new user at version 1; [`RepoError::Conflict`] when the name is taken.
    fn user_insert(&self, username: &str, system_role: &str, doc: &Document) -> RepoResult<User>;
    /// Writes the user's columns and document as given (the caller raises the version).
    fn user_update(&self, user: &User) -> RepoResult<()>;
    /// Deletes a user with its memberships and tokens; `false` when there was none.
    fn user_delete(&self, id: i64) -> RepoResult<bool>;

    // --- teams -------------------------------------------------------------------------------

    /// Every team, by id.
    fn teams(&self) -> RepoResult<Vec<Team>>;
    fn team(&self, id: i64) -> RepoResult<Option<Team>>;
    /// The team called `name`, compared case-insensitively.
    fn team_by_name(&self, name: &str) -> RepoResult<Option<Team>>;
    /// Stores a new team at version 1 and returns its id; [`RepoError::Conflict`] when the name
    /// is taken.
    fn team_insert(&self, name: &str, doc: &Document) -> RepoResult<i64>;
    /// Writes the team's columns and document as given (the caller raises the version).
    fn team_update(&self, team: &Team) -> RepoResult<()>;
    /// Deletes a team with its memberships, tokens and objects; `false` when there was none.
    fn team_delete(&self, id: i64) -> RepoResult<bool>;

    /// The default team of `product` ("Monitor Operations" for `SDC`).
    fn default_team(&self, product: &str) -> RepoResult<Option<Team>> {
        Ok(self
            .teams()?
            .into_iter()
            .find(|t| t.is_default() && t.products().iter().any(|p| p == product)))
    }

    // --- memberships -------------------------------------------------------------------------

    /// The role of `user` in `team`.
    fn membership(&self, team: i64, user: i64) -> RepoResult<Option<String>>;
    /// Adds `user` to `team` with `role`, or changes its role.
    fn membership_set(&self, team: i64, user: i64, role: &str) -> RepoResult<()>;
    /// A team's members, by user id.
    fn team_members(&self, team: i64) -> RepoResult<Vec<Member>>;
    /// `(team id, role)` of a user's memberships, by team id.
    fn user_teams(&self, user: i64) -> RepoResult<Vec<(i64, String)>>;
    /// Replaces a team's members; tokens of removed members for this team stop working.
    fn members_replace(&self, team: i64, members: &[(i64, String)]) -> RepoResult<()>;

    // --- Monitor API tokens ------------------------------------------------------------------

    /// `(user id, team id)` of a token.
    fn token_owner(&self, key: &str) -> RepoResult<Option<(i64, i64)>>;
    /// The token of (user, team), issued on first use.
    fn token_for(&self, user: i64, team: i64) -> RepoResult<String>;
    /// Gives (user, team) the token `key`, replacing its old one (which then stops working).
    fn token_set(&self, user: i64, team: i64, key: &str) -> RepoResult<()>;

    // --- team-owned objects ------------------------------------------------------------------

    /// A team's objects of `kind`, by id.
    fn obj_list(&self, kind: &str, team: i64) -> RepoResult<Vec<TeamObject>>;
    fn obj_get(&self, kind: &str, team: i64, id: i64) -> RepoResult<Option<TeamObject>>;
    /// Whether another of the team's objects of `kind` (any but `except`) is called `name`
    /// (document field `name`, compared exactly).
    fn obj_name_taken(
        &self,
        kind: &str,
        team: i64,
        name: &str,
        except: Option<i64>,
    ) -> RepoResult<bool>;
    /// How many of the team's objects of `kind` have each integer value of document field
    /// `field`; objects whose field is not an integer are not counted.
    fn obj_counts_by(&self, kind: &str, team: i64, field: &str) -> RepoResult<HashMap<i64, i64>>;
    /// Stores a new document at version 1 (the column fields are removed from `doc`).
    fn obj_insert(&self, kind: &str, team: i64, doc: Document) -> RepoResult<TeamObject>;
    /// Writes `obj.doc` back; `bump` raises the version and the modification time.
    fn obj_save(&self, obj: &mut TeamObject, bump: bool) -> RepoResult<()>;
    /// `false` when the team has no object `id` of `kind`.
    fn obj_delete(&self, kind: &str, team: i64, id: i64) -> RepoResult<bool>;
    /// Deletes the team's objects of `kind` whose integer field `field` is `value`; how many.
    fn obj_delete_by(&self, kind: &str, team: i64, field: &str, value: i64) -> RepoResult<usize>;

    // --- Secure runtime events ---------------------------------------------------------------

    /// Stores an event of `kind` ([`event_kinds`]); [`RepoError::Conflict`] when the team
    /// already has an event of that kind with this id.
    fn secure_event_insert(
        &self,
        kind: &str,
        team: i64,
        event: &NewSecureEvent,
    ) -> RepoResult<SecureEvent>;
    fn secure_event_get(&self, kind: &str, team: i64, id: &str) -> RepoResult<Option<SecureEvent>>;
    /// The team's events of `kind` in `range`, in the range's direction.
    fn secure_events_range(
        &self,
        kind: &str,
        team: i64,
        range: &EventRange,
    ) -> RepoResult<Vec<SecureEvent>>;
    /// How many of the team's events of `kind` are in `range` (its `limit` aside).
    fn secure_events_count(&self, kind: &str, team: i64, range: &EventRange) -> RepoResult<u64>;
    /// The highest `seq` stored so far (of any team and kind; 0 before the first event): a
    /// snapshot bound for [`EventRange::max_seq`].
    fn secure_events_last_seq(&self) -> RepoResult<i64>;
}

/// A stored JSON document.
pub type Document = serde_json::Map<String, serde_json::Value>;

/// What a unit of work hands back through the type-erased [`SysdigRepo::run`]: `Ok` commits,
/// `Err` rolls back.
pub type Erased = Result<Box<dyn Any + Send>, Box<dyn Any + Send>>;

/// A unit of work, type-erased so that [`SysdigRepo`] stays object-safe.
pub type Work = Box<dyn FnOnce(&dyn SysdigTx) -> Erased + Send>;

/// The Sysdig repository: where units of work run.
#[async_trait::async_trait]
pub trait SysdigRepo: Send + Sync {
    /// Runs `work` in one transaction on the blocking pool: committed when it returns `Ok`,
    /// rolled back otherwise. Use [`SysdigRepo::tx`] (on `dyn SysdigRepo`) instead.
    ///
    /// # Errors
    /// The transaction cannot be opened or committed.
    async fn run(&self, work: Work) -> RepoResult<Erased>;

    /// [`SysdigRepo::run`] for a unit that only reads (the caller lookup of every request): a
    /// backend may run it beside other units instead of after them; a write in it fails. Use
    /// [`SysdigRepo::read`] (on `dyn SysdigRepo`).
    ///
    /// # Errors
    /// The transaction cannot be opened or committed.
    async fn run_read(&self, work: Work) -> RepoResult<Erased> {
        self.run(work).await
    }
}

impl dyn SysdigRepo + '_ {
    /// Runs `f` in one transaction: its `Ok` is committed, its `Err` rolls everything back.
    ///
    /// # Errors
    /// What `f` returns, or the repository's failure converted into `E`.
    pub async fn tx<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<RepoError> + Send + 'static,
        F: FnOnce(&dyn SysdigTx) -> Result<T, E> + Send + 'static,
    {
        self.unit(f, false).await
    }

    /// [`Self::tx`] for a unit that only reads ([`SysdigRepo::run_read`]).
    ///
    /// # Errors
    /// What `f` returns, or the repository's failure (a write in `f` among them).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<RepoError> + Send + 'static,
        F: FnOnce(&dyn SysdigTx) -> Result<T, E> + Send + 'static,
    {
        self.unit(f, true).await
    }

    async fn unit<T, E, F>(&self, f: F, read_only: bool) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<RepoError> + Send + 'static,
        F: FnOnce(&dyn SysdigTx) -> Result<T, E> + Send + 'static,
    {
        let work: Work = Box::new(move |tx| match f(tx) {
            Ok(v) => Ok(Box::new(v)),
            Err(e) => Err(Box::new(e)),
        });
        let lost = || RepoError::Storage("a unit of work returned an unexpected type".into());
        let ran = if read_only {
            self.run_read(work).await?
        } else {
            self.run(work).await?
        };
        match ran {
            Ok(v) => v.downcast::<T>().map(|v| *v).map_err(|_| lost().into()),
            Err(e) => Err(e.downcast::<E>().map_or_else(|_| lost().into(), |e| *e)),
        }
    }
}

pub mod conformance;
pub mod notifications;
