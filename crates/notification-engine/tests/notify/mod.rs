#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod common;
mod delivery;
mod outbox;
mod periodic;
mod policy;
mod sysdig;
mod types;
