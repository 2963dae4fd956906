//! The Sysdig Secure API, per Secure team (product `SDS`). Every handler takes a
//! [`SecureCaller`]: a token of a Monitor team is refused before anything is read.

pub mod audit;
pub mod compliance;
pub mod events;
pub mod ingest;
pub mod runtime;

use axum::{
    Router,
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};

use crate::{SysdigState, auth::Caller, error::SdcError};

/// The Secure routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SysdigState: FromRef<S>,
{
    Router::new()
        .merge(events::router())
        .merge(audit::router())
        .merge(compliance::router())
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
