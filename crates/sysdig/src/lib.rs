//! A typed, async client for Sysdig Monitor and IBM Cloud Monitoring: the API surface of the
//! Python `sdcclient` 0.19 (users, teams, tokens, notification channels, alerts, dashboards
//! v3, events v2; Sysdig Secure's policies, rules, Falco macros, lists and rules files in
//! [`secure`]) with timeouts, retries of idempotent calls, IAM token refresh and typed errors
//! that keep sdcclient's messages.
//!
//! ```no_run
//! # async fn demo() -> sysdig::Result<()> {
//! // SDC_TOKEN / SDC_URL / SDC_SSL_VERIFY win over these, as in sdcclient (`use_env(false)`
//! // turns that off).
//! let client = sysdig::Client::builder()
//!     .url("https://app.sysdigcloud.com")
//!     .token("00000000-0000-0000-0000-000000000000")
//!     .build()?;
//! for a in client.alerts().list().await? {
//!     println!("{} {}", a.id.unwrap_or_default(), a.name);
//! }
//! // IBM Cloud Monitoring: an IAM API key and the instance GUID.
//! let ibm = sysdig::Client::builder()
//!     .url("https://us-south.monitoring.cloud.ibm.com/api")
//!     .ibm_iam("my-api-key", "instance-guid")
//!     .build()?;
//! println!("{}", ibm.me().await?.username);
//! # Ok(()) }
//! ```
//!
//! Every call is also a plain value ([`request::Op`] or a dedicated struct) that builds its
//! `http::Request` without I/O ([`ToRequest::to_request`]); the client executes it with
//! [`Client::send`]. Calls without a typed operation go through [`Client::raw`].
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[macro_use]
mod kind;

pub mod alerts;
pub mod auth;
pub mod channels;
mod client;
pub mod condition;
pub mod dashboards;
pub mod data;
pub mod deliveries;
mod error;
pub mod events;
pub mod promql;
pub mod request;
pub mod scope;
pub mod secure;
pub mod teams;
pub mod user;
pub mod users;
pub mod validate;

pub use client::{
    Client, ClientBuilder, DEFAULT_SECURE_URL, DEFAULT_URL, RawRequest, RetryPolicy, TlsVerify,
};
pub use error::{Error, Result};
pub use request::{Endpoint, ToRequest};
