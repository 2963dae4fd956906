//! Alarm evaluation shared by several nodes over one database: each alarm definition is
//! leased to one live node, which alone evaluates it and writes its alarms. Only a shared
//! backend (PostgreSQL) implements [`EvaluationLeases`]; a single node on SQLite evaluates
//! everything.
//!
//! One call, [`EvaluationLeases::round`], does a node's bookkeeping once a second: it says the
//! node is alive, renews its leases, gives back what exceeds its fair share (definitions over
//! live nodes, so a node that joins gets a share) and claims unleased or lapsed definitions up
//! to that share. The threshold engine's write batches check the lease
//! ([`super::threshold::ThresholdWrites::holds`]), so a node whose lease lapsed writes nothing.

use crate::RepoResult;

/// A node taking part in evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Unique per process start.
    pub id: String,
    /// Where other nodes send it the samples of the definitions it holds.
    pub url: String,
}

/// Something the API changed that nodes other than the one that served the request must hear
/// of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// A definition was created, changed or deleted.
    Definition(String),
    /// An alarm's state, link or lifecycle state was set, or the alarm deleted.
    Alarm(String),
}

/// The outcome of one [`EvaluationLeases::round`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseRound {
    /// Every definition this node holds now (renewed or just claimed).
    pub held: Vec<String>,
    /// The definitions other live nodes hold, with the holder's URL.
    pub others: Vec<(String, String)>,
    /// Nodes alive now, this one included.
    pub live_nodes: usize,
    /// Changes logged in the last [`CHANGE_HORIZON_S`] seconds, oldest first, with their
    /// sequence numbers (a change can become visible after a later one: readers keep the
    /// numbers they handled rather than a high-water mark).
    pub changes: Vec<(i64, Change)>,
}

/// How far back [`LeaseRound::changes`] reaches, seconds.
pub const CHANGE_HORIZON_S: i64 = 30;

/// Leases of alarm definitions among live nodes. Calls block.
pub trait EvaluationLeases: Send + Sync + 'static {
    /// Heartbeat, renew, rebalance and claim, in one transaction; `lease_s` is how long a
    /// lease and the heartbeat last without the next round.
    ///
    /// # Errors
    /// Storage fails (the node then holds nothing it can write with once its leases lapse).
    fn round(&self, node: &NodeInfo, lease_s: f64) -> RepoResult<LeaseRound>;
    /// Takes definition `definition_id` for `node` if no live node holds it (a definition
    /// just made through this node's API): the number of live nodes then, or `None` when it
    /// did not take it.
    ///
    /// # Errors
    /// Storage fails.
    fn claim(
        &self,
        node: &NodeInfo,
        definition_id: &str,
        lease_s: f64,
    ) -> RepoResult<Option<usize>>;
    /// Gives back every lease of `node` and leaves membership (clean shutdown).
    ///
    /// # Errors
    /// Storage fails.
    fn leave(&self, node_id: &str) -> RepoResult<()>;
    /// The secret nodes show each other when they forward samples, made once per database.
    ///
    /// # Errors
    /// Storage fails.
    fn cluster_key(&self) -> RepoResult<String>;
}
