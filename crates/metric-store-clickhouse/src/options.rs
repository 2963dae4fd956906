//! Where the ClickHouse servers are and how to talk to them (`[clickhouse]` in the server's
//! config file).

use std::{fmt, path::PathBuf, time::Duration};

use metric_store::StoreError;
use secrecy::SecretString;
use serde::Deserialize;

/// Connection and layout settings. The password never reaches `Debug` or an error message.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClickHouseOptions {
    /// HTTP(S) base URLs of the ClickHouse servers, e.g. `http://127.0.0.1:8123`; requests go
    /// to them in turn and move on to the next when one cannot be reached. No credentials in
    /// them: use `user` and `password`.
    pub urls: Vec<String>,
    /// The database holding Vigil's tables; created when missing.
    pub database: String,
    /// A cluster of the servers' `remote_servers`: local tables on every shard (created
    /// `ON CLUSTER`) and `Distributed` tables over them. `None`: one server, local tables only.
    pub cluster: Option<String>,
    /// With `cluster`: the local tables are `ReplicatedReplacingMergeTree` (ZooKeeper and the
    /// `{shard}`/`{replica}` macros must be configured on the servers).
    pub replicated: bool,
    /// With `replicated`: `insert_quorum`, the replicas that must hold an insert before it
    /// is acknowledged.
    pub insert_quorum: Option<u32>,
    pub user: Option<String>,
    /// Also from `VIGIL_CLICKHOUSE_PASSWORD`.
    pub password: Option<SecretString>,
    /// A PEM bundle of CA certificates trusted besides the system's roots (https URLs).
    pub ca_file: Option<PathBuf>,
    /// Seconds to open a connection.
    pub connect_timeout_s: u64,
    /// Seconds a whole request may take; also ClickHouse's own `max_execution_time`.
    pub timeout_s: u64,
    /// Most rows one INSERT carries when concurrent writes are gathered into one.
    pub max_batch_rows: usize,
    /// Measurements older than this are dropped (whole months, by partition); set by the
    /// server from its `retention`, not read from `[clickhouse]`.
    #[serde(skip)]
    pub retention: Option<Duration>,
}

impl Default for ClickHouseOptions {
    fn default() -> Self {
        Self {
            urls: vec!["http://127.0.0.1:8123".into()],
            database: "vigil".into(),
            cluster: None,
            replicated: false,
            insert_quorum: None,
            user: None,
            password: None,
            ca_file: None,
            connect_timeout_s: 5,
            timeout_s: 60,
            max_batch_rows: 200_000,
            retention: None,
        }
    }
}

impl fmt::Debug for ClickHouseOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouseOptions")
            .field("urls", &self.urls)
            .field("database", &self.database)
            .field("cluster", &self.cluster)
            .field("replicated", &self.replicated)
            .field("insert_quorum", &self.insert_quorum)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("connect_timeout_s", &self.connect_timeout_s)
            .field("timeout_s", &self.timeout_s)
            .field("max_batch_rows", &self.max_batch_rows)
            .field("retention", &self.retention)
            .finish()
    }
}

/// Whether `name` can stand as an identifier in SQL text without quoting questions: database
/// and cluster names come from the operator's config and are the only names Vigil puts into
/// statements, so they are held to `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn check_identifier(what: &str, name: &str) -> Result<(), StoreError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "invalid ClickHouse {what} {name:?}: use letters, digits and _ only"
        )))
    }
}

impl ClickHouseOptions {
    /// The URLs parsed, each checked to be http(s) without credentials.
    pub(crate) fn parsed_urls(&self) -> Result<Vec<reqwest::Url>, StoreError> {
        if self.urls.is_empty() {
            return Err(StoreError::Backend(
                "no ClickHouse URL configured ([clickhouse] urls)".into(),
            ));
        }
        self.urls
            .iter()
            .map(|u| {
                let url = reqwest::Url::parse(u).map_err(|e| {
                    StoreError::Backend(format!("invalid ClickHouse URL {u:?}: {e}"))
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(StoreError::Backend(format!(
                        "invalid ClickHouse URL {u:?}: use http or https"
                    )));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    // Not echoed: the URL holds a credential.
                    return Err(StoreError::Backend(
                        "a ClickHouse URL holds credentials: set [clickhouse] user and password instead".into(),
                    ));
                }
                Ok(url)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let o = ClickHouseOptions {
            password: Some(SecretString::from("s3cr3t-pw")),
            user: Some("vigil".into()),
            ..Default::default()
        };
        let d = format!("{o:?}");
        assert!(!d.contains("s3cr3t-pw") && d.contains("<redacted>"), "{d}");
    }

    #[test]
    fn identifiers_and_urls_are_checked() {
        assert!(check_identifier("database", "vigil_1").is_ok());
        for bad in ["", "1db", "a-b", "a`b", "db; DROP", "ä"] {
            assert!(check_identifier("database", bad).is_err(), "{bad:?}");
        }
        let with = |u: &str| ClickHouseOptions {
            urls: vec![u.into()],
            ..Default::default()
        };
        assert!(with("http://127.0.0.1:8123").parsed_urls().is_ok());
        assert!(with("ftp://h").parsed_urls().is_err());
        let e = with("http://u:hunter2@h:8123").parsed_urls().err();
        assert!(e.is_some_and(|e| !e.to_string().contains("hunter2")));
    }
}
