//! The transport kit of Vigil's API clients (`monasca`, `sysdig`, `keystone-auth`): one copy of
//! what every HTTP client needs and none of what makes an API itself.
//!
//! - [`Endpoint`]: an operation as a plain value that builds its URL and request without I/O;
//! - [`HttpOptions`]: a reqwest client with rustls (ring) and the usual TLS switches;
//! - [`RetryPolicy`] and [`Transport`]: operations sent with retries of idempotent calls, one
//!   re-authentication after a 401, and a [`RequestObserver`] told of every exchange;
//! - [`decode`]: JSON answers decoded with the path of whatever does not fit;
//! - [`flatten_pages`]: a paged list as one stream of elements.
//!
//! Each client keeps its own error type (converted from [`Error`]) and its own credentials
//! and error answers (an [`Api`] implementation).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod decode;
mod endpoint;
mod error;
mod page;
mod retry;
mod tls;
mod transport;

pub use endpoint::{Endpoint, join_url, json_body};
pub use error::{Error, Result, TlsError};
pub use page::flatten_pages;
pub use retry::{Outcome, RetryPolicy, is_idempotent, retry_after};
pub use tls::HttpOptions;
pub use transport::{Answer, Api, RequestObserver, Transport, json_headers};
