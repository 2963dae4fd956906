//! Who may query, and which tenant they see.
//!
//! * `/api/v1/…` (Prometheus's own paths, for Grafana and `promtool`): the Monasca token, in
//!   `X-Auth-Token` or as `Authorization: Bearer`, checked by the Monasca API's [`monasca_api::identity::Identity`]
//!   (so without Keystone the token names the project, as monasca-api does) and by its policy
//!   for reading measurements; the tenant is the token's project.
//! * `/prometheus/api/v1/…` (Sysdig's paths, for sdcclient): the Sysdig API's own
//!   authentication ([`Caller`]); the caller's team sees the tenant `[sysdig] alert_tenants`
//!   maps it to, and a team mapped to none sees no data.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{Method, request::Parts},
    response::{IntoResponse, Response},
};
use monasca_api::identity::{AuthMode, policy};
use sysdig_api::{SysdigState, auth::Caller};

use crate::{PrometheusState, error::PromError};

/// A tenant no Monasca project can be: header values hold no NUL, so no token names it.
const NO_TENANT: &str = "\0no-tenant";

/// An authenticated request's tenant.
pub trait TenantAuth:
    FromRequestParts<PrometheusState, Rejection = Response> + Send + Sync + 'static
{
    fn tenant(&self) -> &str;
}

/// A caller of `/api/v1`, authenticated as the Monasca API authenticates.
pub struct MonascaTenant(String);

impl TenantAuth for MonascaTenant {
    fn tenant(&self) -> &str {
        &self.0
    }
}

impl FromRequestParts<PrometheusState> for MonascaTenant {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PrometheusState,
    ) -> Result<Self, Response> {
        let token = header(parts, "x-auth-token").or_else(|| {
            header(parts, "authorization").and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, t)| t.trim())
            })
        });
        let principal = match token.filter(|t| !t.is_empty()) {
            Some(t) => state
                .identity
                .principal(t)
                .await
                .map_err(|_| PromError::unavailable().into_response())?,
            None => None,
        };
        let Some(principal) = principal else {
            return Err(PromError::unauthorized().into_response());
        };
        // Reading PromQL is reading measurements: the same roles may.
        if !policy::allows(&principal, &Method::GET, "/v2.0/metrics/measurements") {
            return Err(PromError::forbidden().into_response());
        }
        if state.identity.mode != AuthMode::None {
            vigil_http::access_log::record_tenant(parts, &principal.project);
        }
        Ok(Self(principal.project))
    }
}

/// A caller of `/prometheus/api/v1`, authenticated as the Sysdig API authenticates.
pub struct SysdigTenant(String);

impl TenantAuth for SysdigTenant {
    fn tenant(&self) -> &str {
        &self.0
    }
}

impl FromRequestParts<PrometheusState> for SysdigTenant {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PrometheusState,
    ) -> Result<Self, Response> {
        let caller = Caller::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let tenant = state
            .sysdig
            .tenant_of(&caller)
            .unwrap_or(NO_TENANT)
            .to_string();
        Ok(Self(tenant))
    }
}

impl FromRef<PrometheusState> for SysdigState {
    fn from_ref(state: &PrometheusState) -> Self {
        state.sysdig.clone()
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}
