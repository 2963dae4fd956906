//! The Monasca v2.0 API, as `openstack/monasca-api` serves it.

mod alarm_definitions;
mod alarms;
mod body;
mod metrics;
mod notification_methods;
mod params;
mod schema;
mod series_keys;
mod validate;
mod versions;

pub use metrics::GroupCache;
pub use series_keys::SeriesKeys;

use axum::{
    Router,
    extract::FromRef,
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{
    MonascaState,
    error::{ApiError, unauthorized},
    identity::{AuthMode, ROLE_DELEGATE, policy},
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route("/", get(versions::list))
        .route("/{version}", get(versions::get))
        .merge(metrics::router())
        .merge(notification_methods::router())
        .merge(alarm_definitions::router())
        .merge(alarms::router())
        .route("/healthcheck", get(healthcheck).head(healthcheck_head))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::bare(StatusCode::NOT_FOUND)
}

async fn method_not_allowed() -> ApiError {
    ApiError::bare(StatusCode::METHOD_NOT_ALLOWED)
}

/// The project a request acts for, once its token is authenticated and monasca-api's policy
/// allows the call. For the metrics endpoints a caller with the delegate role may name another
/// project with `tenant_id`; for anyone else that parameter is ignored, as upstream does.
pub struct Tenant(pub String);

impl<S> FromRequestParts<S> for Tenant
where
    S: Send + Sync,
    MonascaState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = MonascaState::from_ref(state);
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let principal = match token {
            Some(t) => state
                .identity
                .principal(t)
                .await
                .map_err(|_| ApiError::unavailable().into_response())?,
            None => None,
        };
        let Some(principal) = principal else {
            let base = BaseUrl::from_parts(parts);
            return Err(unauthorized(
                state.identity.token_issuer(&base.origin).as_deref(),
            ));
        };
        let path = parts.uri.path();
        if !policy::allows(&principal, &parts.method, path) {
            let mut resp = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Forbidden",
                "The request does not have access to this service",
            )
            .into_response();
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
            return Err(resp);
        }
        if (path == "/v2.0/metrics" || path.starts_with("/v2.0/metrics/"))
            && principal.has(ROLE_DELEGATE)
        {
            let delegated = parts.uri.query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, v)| k == "tenant_id" && !v.is_empty())
                    .map(|(_, v)| v.into_owned())
            });
            if let Some(t) = delegated {
                vigil_http::access_log::record_tenant(parts, &t);
                return Ok(Tenant(t));
            }
        }
        // With `--auth none` the project is the token itself, which the log never holds.
        if state.identity.mode != AuthMode::None {
            vigil_http::access_log::record_tenant(parts, &principal.project);
        }
        Ok(Tenant(principal.project))
    }
}

/// `scheme://host` and the request path, from which `links` are built.
pub struct BaseUrl {
    pub origin: String,
    pub path: String,
}

impl BaseUrl {
    pub fn from_parts(parts: &Parts) -> Self {
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("localhost");
        let scheme = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https" || *p == "http")
            .unwrap_or("http");
        let path = parts.uri.path();
        // falcon strips a trailing slash before routing, and so do the links it builds.
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        Self {
            origin: format!("{scheme}://{host}"),
            path: path.to_string(),
        }
    }

    pub fn url(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// `GET /healthcheck`: no token needed; reports each component as monasca-api does.
async fn healthcheck(axum::extract::State(state): axum::extract::State<MonascaState>) -> Response {
    let store_ok = state.store.is_healthy();
    let body = serde_json::json!({
        "kafka": "OK",
        "alarms_database": "OK",
        "metrics_database": if store_ok { "OK" } else { "Error: the metric store refuses writes" },
    });
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, no_cache(), axum::Json(body)).into_response()
}

async fn healthcheck_head() -> Response {
    (StatusCode::NO_CONTENT, no_cache()).into_response()
}

fn no_cache() -> [(axum::http::HeaderName, &'static str); 1] {
    [(
        axum::http::header::CACHE_CONTROL,
        "must-revalidate, no-cache, no-store",
    )]
}
