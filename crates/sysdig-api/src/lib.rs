//! Vigil's Sysdig side: the Sysdig Monitor API (the subset `sdcclient` 0.19 uses for users,
//! teams, tokens, notification channels, alerts, dashboards v3 and v2, events v2 and v1, agents,
//! access keys, Explore grouping and data retention) and the IBM IAM
//! token exchange, at the paths the real services use; emulator-only routes live under
//! `/vigil/sysdig/`. Storage is a [`config_repo::sysdig::SysdigRepo`]; no SQL here.
//!
//! Modules: [`monitor`] (Monitor API handlers), [`secure`] (Secure API handlers), [`iam`],
//! [`emulator`] (emulator-only routes), [`domain`] (record rules shared by handlers and
//! start-up), [`http`] (extractors and body checks), [`auth`], [`error`]. The alert evaluator is an engine: `alarm_engine::sysdig_alerts`.
//!
//! The server builds a [`SysdigState`], makes it reachable from its own state with axum's
//! `FromRef`, and merges [`router`].

pub mod auth;
pub mod domain;
pub mod emulator;
pub mod error;
pub mod http;
pub mod iam;
mod iam_tokens;
pub mod monitor;
pub mod secure;
pub mod settings;
mod state;

use axum::{
    Router,
    extract::FromRef,
    routing::{any, post},
};

pub use error::{SdcError, SdcResult};
pub use state::{ADMIN_TOKEN_FILE, ChannelDelivery, Fault, IamLookup, SysdigState};

/// The Sysdig API over `state`, ready to merge into the server's router. Built here, on the
/// concrete state, so that the handlers are compiled in this crate: a change to one of them
/// rebuilds this crate and the thin server, not the server's instantiation of every handler.
pub fn service(state: SysdigState) -> Router {
    router::<SysdigState>().with_state(state)
}

/// Every Sysdig route, for any server state that holds a [`SysdigState`].
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SysdigState: FromRef<S>,
{
    Router::new()
        .route("/identity/token", post(iam::token))
        .route("/vigil/sysdig/token/reset", post(emulator::reset_token))
        .route("/vigil/sysdig/faults", post(emulator::add_fault))
        .route(
            "/vigil/sysdig/notifications",
            post(emulator::inject_notification),
        )
        .merge(monitor::router())
        .merge(secure::router())
        // Sysdig checks the token before it looks the path up: 401 first, then 404.
        .route("/api/{*rest}", any(monitor::unknown_path))
}
