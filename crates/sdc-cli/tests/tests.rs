//! The real `sdc` binary against the real server on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod common;
mod input_and_output;
mod plot;
mod secure;
mod secure_runtime;
