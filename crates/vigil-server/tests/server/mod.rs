//! The `vigil` binary itself: durability, logs, completion and man pages, `--metric-store clickhouse`.

mod clickhouse;
mod durability;
mod logs;
