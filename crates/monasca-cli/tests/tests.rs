//! The real `monasca` binary against the real server on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alarming;
mod cli;
mod common;
mod keystone;
mod plot;
