//! Every test of the PostgreSQL backend, in one binary. They need PostgreSQL's server
//! binaries and start their own server, so they are `#[ignore]`d: `.ci/run` runs them with
//! `cargo test -p config-repo-postgres -- --ignored` after installing `postgresql`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod migrate;
mod monasca;
mod outage;
mod outbox;
mod sysdig;
