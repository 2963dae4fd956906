//! One function per `monasca` command.

pub mod metrics;
