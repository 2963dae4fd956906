//! Alarming: notification methods, alarm definitions, alarms, their history, and the
//! threshold engine that moves alarms between states as metrics arrive.

pub mod db;

use std::path::Path;

use db::Db;

/// Everything the alarming endpoints share.
#[derive(Clone)]
pub struct Alarming {
    pub db: Db,
}

impl Alarming {
    /// Opens `alarms.db` in `data_dir`.
    ///
    /// # Errors
    /// The database cannot be opened.
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join("alarms.db");
        let db =
            Db::open(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        Ok(Self { db })
    }
}
