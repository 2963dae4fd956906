//! The Monasca v2.0 API as `openstack/monasca-api` serves it, plus the Keystone v3 subset
//! that logs clients in to Vigil's built-in identity. Handlers reach only [`MonascaState`],
//! which the server's own state hands out through [`axum::extract::FromRef`]; the threshold
//! engine is behind the small [`AlarmFeed`] trait.
//!
//! ```
//! use axum::extract::FromRef;
//! use monasca_api::MonascaState;
//!
//! #[derive(Clone)]
//! struct AppState {
//!     monasca: MonascaState,
//! }
//!
//! impl FromRef<AppState> for MonascaState {
//!     fn from_ref(state: &AppState) -> Self {
//!         state.monasca.clone()
//!     }
//! }
//!
//! let routes: axum::Router<AppState> = monasca_api::router();
//! # let _ = routes;
//! ```

pub mod error;
pub mod identity;
pub mod keystone;
mod state;
pub mod v2_0;

pub use error::ApiError;
pub use state::{AlarmFeed, IngestCounter, MonascaState, Notifications};
pub use v2_0::{GroupCache, SeriesKeys, router};

/// The Monasca API over `state`, ready to merge into the server's router; with
/// `identity_prefix`, also the built-in Keystone v3 subset under it. Built here, on the concrete
/// state, so that the handlers are compiled in this crate and not in the server.
pub fn service(state: MonascaState, identity_prefix: Option<&str>) -> axum::Router {
    let mut routes = router::<MonascaState>();
    if let Some(prefix) = identity_prefix {
        routes = routes.merge(keystone::router::<MonascaState>(prefix));
    }
    routes.with_state(state)
}

/// A fresh resource id, as upstream's uuid4 strings.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
