//! Conformance suites: what every backend of a repository must do, as public async functions
//! that panic on the first broken rule. Each backend's tests call them on a fresh store.

pub mod monasca;
mod outbox;
mod tokens;

pub use outbox::outbox;
pub use tokens::{app_credentials, tokens};

pub use crate::sysdig::conformance::sysdig;
