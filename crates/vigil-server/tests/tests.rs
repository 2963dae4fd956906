//! Integration tests: the real server on 127.0.0.1:0, driven by the real client and binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alarming;
mod api;
mod bad_input;
mod common;
mod durability;
mod identity;
mod logs;
mod monasca_conformance;
mod notifications;
mod sysdig;
