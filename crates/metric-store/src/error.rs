use std::path::PathBuf;

/// Errors of a [`crate::MetricStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("data file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "data file {path} has format version {version}, which this build does not read (the \
         newest it reads is {supported}); run the Vigil release that wrote it (a newer one, or for \
         version-1 blocks the one before the registry file) or restore a backup"
    )]
    UnsupportedVersion {
        path: PathBuf,
        version: u32,
        supported: u32,
    },
    #[error("the store is closed")]
    Closed,
    #[error("the store failed earlier and accepts no more writes: {0}")]
    Poisoned(String),
    /// An external database (ClickHouse) failed or refused a request; the message is the
    /// database's own, without credentials.
    #[error("the metric database failed: {0}")]
    Backend(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }
}
