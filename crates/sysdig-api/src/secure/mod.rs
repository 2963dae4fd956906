//! The Sysdig Secure API, per Secure team (product `SDS`). Every handler takes a
//! [`SecureCaller`]: a token of a Monitor team is refused before anything is read.
//!
//! Modules: [`policies`] (`/api/v2/policies`), [`rules`] (rules, Falco macros and lists),
//! [`rules_files`] (`/api/settings/falco/…`), [`falco_yaml`] (parsing rules files),
//! [`defaults`] (what each Secure team starts with); [`events`] (runtime policy events),
//! [`audit`] (activity and command audit), [`compliance`] (tasks and results), with
//! [`runtime`] and [`ingest`] shared by them.

pub mod audit;
pub mod compliance;
pub mod defaults;
pub mod events;
pub mod falco_yaml;
pub mod ingest;
pub mod policies;
pub mod rules;
pub mod rules_files;
pub mod runtime;

use axum::{
    Router,
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
    routing::get,
};

use crate::{SysdigState, auth::Caller, error::SdcError, monitor::wire::Wire};
use rules::{Lists, Macros, Rules};

/// The Secure routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SysdigState: FromRef<S>,
{
    Router::new()
        .merge(policy_routes())
        .merge(collection_routes::<Rules, S>("/api/secure/rules"))
        .merge(collection_routes::<Macros, S>("/api/secure/falco/macros"))
        .merge(collection_routes::<Lists, S>("/api/secure/falco/lists"))
        .route(
            "/api/settings/falco/systemRulesFile",
            get(rules_files::get_system).put(rules_files::put_system),
        )
        .route(
            "/api/settings/falco/customRulesFiles",
            get(rules_files::get_custom).put(rules_files::put_custom),
        )
        .route(
            "/api/settings/falco/defaultRulesFiles",
            get(rules_files::get_default).put(rules_files::put_default),
        )
        .merge(events::router())
        .merge(audit::router())
        .merge(compliance::router())
}

fn policy_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SysdigState: FromRef<S>,
{
    Router::new()
        .route(
            "/api/v2/policies",
            get(policies::list).post(policies::create),
        )
        .route(
            "/api/v2/policies/default",
            get(policies::defaults_list).post(policies::create_defaults),
        )
        .route(
            "/api/v2/policies/{id}",
            get(policies::get)
                .put(policies::update)
                .delete(policies::delete),
        )
}

fn collection_routes<R: rules::Collection, S>(base: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SysdigState: FromRef<S>,
{
    Router::new()
        .route(base, axum::routing::post(rules::create::<R>))
        .route(&format!("{base}/summaries"), get(rules::summaries::<R>))
        .route(&format!("{base}/groups"), get(rules::groups::<R>))
        .route(
            &format!("{base}/{{id}}"),
            get(rules::get::<R>)
                .put(rules::update::<R>)
                .delete(rules::delete::<R>),
        )
}

impl Wire for sysdig::secure::policies::Policy {
    fn extra_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
        &mut self.extra
    }
}

/// The product of Secure teams.
pub const PRODUCT: &str = "SDS";

/// A caller acting in a Secure team.
#[derive(Clone, Debug)]
pub struct SecureCaller(pub Caller);

impl std::ops::Deref for SecureCaller {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<S> FromRequestParts<S> for SecureCaller
where
    S: Send + Sync,
    SysdigState: FromRef<S>,
{
    type Rejection = SdcError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SdcError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.team.products().iter().any(|p| p == PRODUCT) {
            Ok(Self(caller))
        } else {
            Err(SdcError::forbidden(format!(
                "Sysdig Secure is not available to team '{}': use the API token of a Secure team",
                caller.team.name
            )))
        }
    }
}
