//! The `vigil` binary itself: durability, logs, completion and man pages; the server over
//! PostgreSQL.

mod durability;
mod logs;
mod postgres;
