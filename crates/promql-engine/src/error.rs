//! Query errors, typed as the Prometheus HTTP API reports them.

use metric_store::StoreError;

/// Why a query failed. The variants are the API's `errorType`s.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query does not parse (`line:column: parse error: …` where the position is known).
    #[error("{0}")]
    Parse(String),
    /// The query or its parameters are wrong (a syntax error, a wrong argument type, a bad
    /// step): the caller's fault.
    #[error("{0}")]
    BadData(String),
    /// A valid query failed while running (duplicate series in a match, too many samples).
    #[error("{0}")]
    Execution(String),
    /// The query ran longer than the configured timeout.
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

pub(crate) fn bad(msg: impl Into<String>) -> QueryError {
    QueryError::BadData(msg.into())
}

pub(crate) fn exec(msg: impl Into<String>) -> QueryError {
    QueryError::Execution(msg.into())
}

/// Prometheus's words for a query over its sample limit.
pub(crate) fn too_many_samples() -> QueryError {
    exec("query processing would load too many samples into memory in query execution")
}
