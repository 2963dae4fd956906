//! The `vigil` binary itself: durability, logs, completion and man pages; the server over
//! ClickHouse (`--metric-store clickhouse`) and over PostgreSQL.

mod clickhouse;
mod durability;
mod logs;
mod postgres;
mod postgres_iam;
