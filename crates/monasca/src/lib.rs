//! Monasca v2.0: the wire types shared by Vigil's client and server, and an async client.
//!
//! ```no_run
//! # async fn demo() -> monasca::Result<()> {
//! use futures::TryStreamExt;
//! let client = monasca::Client::builder("http://127.0.0.1:8070/v2.0").token("my-project").build()?;
//! let all: Vec<_> = client
//!     .stream(&monasca::metrics::ListMetrics::new().name("cpu.idle_perc"))
//!     .try_collect()
//!     .await?;
//! println!("{} metrics", all.len());
//! # Ok(()) }
//! ```

pub mod alarms;
pub mod auth;
mod client;
mod error;
pub mod metrics;
pub mod notification_methods;
mod page;
pub mod request;
pub mod time;
pub mod types;

pub use client::{Client, ClientBuilder, RequestObserver};
pub use error::{Error, Result};
pub use page::Page;
pub use request::{Endpoint, ToRequest};
