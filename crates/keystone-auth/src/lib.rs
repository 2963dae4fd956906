//! The client side of OpenStack Keystone v3: log in with a password, a token or an application
//! credential, scoped to a project or a domain (or not at all); discover the v3 API from an auth
//! URL given with or without `/v3`; pick a service's endpoint from the token's catalog; renew
//! the token a minute before it expires and once after a 401; optionally keep it on disk;
//! and read `clouds.yaml`/`secure.yaml` as openstacksdk does.
//!
//! A [`KeystoneSession`] is a [`monasca::auth::TokenSource`], so the Monasca client can use it:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use keystone_auth::{AuthOptions, KeystoneSession};
//! let opts = AuthOptions::from_env(|k| std::env::var(k).ok());
//! let session = Arc::new(
//!     KeystoneSession::builder(opts.require_auth_url()?, opts.credentials()?)
//!         .tls(opts.tls())
//!         .build()?,
//! );
//! let endpoint = session.endpoint(&opts.endpoint_filter("monitoring")?).await?;
//! let client = monasca::Client::builder(endpoint.as_str()).token_source(session).build()?;
//! # Ok(()) }
//! ```
//!
//! Secrets are [`secrecy::SecretString`]s; no `Debug` output or error message of this crate
//! contains a password, token or application-credential secret.

pub mod cache;
pub mod catalog;
pub mod config;
pub mod credentials;
pub mod discovery;
mod error;
pub mod options;
pub mod session;
pub mod token;

pub use cache::TokenCache;
pub use catalog::{Catalog, CatalogEndpoint, CatalogService, EndpointFilter, Interface};
pub use config::{CloudConfig, CloudsConfig, SearchPath, load_cloud};
pub use credentials::{
    AppCredentialRef, AuthMethod, Credentials, DomainRef, ProjectRef, Scope, UserRef,
};
pub use error::{Error, Result, redact_url};
pub use options::{AuthKind, AuthOptions};
pub use session::{KeystoneSession, SessionBuilder, TlsOptions};
pub use token::{AuthToken, Clock, EXPIRY_MARGIN, SystemClock, TokenInfo};
