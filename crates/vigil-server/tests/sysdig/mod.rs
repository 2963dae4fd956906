//! The Sysdig Monitor API and IBM IAM emulation: over raw HTTP (`monitor`) and through the
//! `sysdig` client crate (`client_api`, `client_auth`).

mod client_api;
mod client_auth;
mod client_env;
mod monitor;
mod secure;
