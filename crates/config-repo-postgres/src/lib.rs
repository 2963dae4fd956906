//! Vigil's configuration repositories on PostgreSQL: the [`config_repo`] traits for sites that
//! run many `vigil serve` nodes over one database (issue 18).
//!
//! The SQLite backend serialises every call on one connection; here several nodes and a pool
//! of connections per node share the tables, so the guarantees SQLite gets for free are asked
//! of PostgreSQL explicitly: unique constraints give [`config_repo::RepoError::Conflict`], a
//! unit of work of the Sysdig repository runs under a transaction-scoped advisory lock (its
//! checks see the data its writes change, as on SQLite), and outbox claims lease rows with
//! `FOR UPDATE SKIP LOCKED`. The schema is versioned in [`migrate`] and brought up to date at
//! start-up, by one node at a time. Every value reaches the server as a bound parameter.
//!
//! ```no_run
//! # fn demo() -> Result<(), config_repo::RepoError> {
//! let db = config_repo_postgres::PgDb::connect(
//!     &config_repo_postgres::PgSettings::parse("postgres://vigil@127.0.0.1:5432/vigil")?,
//! )?;
//! let sysdig = config_repo_postgres::sysdig::PgSysdigRepo::new(db.clone());
//! # let _ = sysdig; Ok(()) }
//! ```

pub mod cluster;
mod error;
pub mod identity;
pub mod migrate;
pub mod monasca;
pub mod outbox;
mod pool;
pub mod sysdig;
#[cfg(feature = "testing")]
pub mod testing;
pub mod threshold;

pub use error::{PgResultExt, pg_error};
pub use pool::{PgDb, PgSettings};
