//! One error type for every Monasca handler, rendered in falcon's `{"title", "description"}`
//! shape with the status monasca-api uses for the same condition.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use metric_store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: String,
    pub description: Option<String>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            title: title.into(),
            description: Some(description.into()),
        }
    }

    /// 422 `Unprocessable Entity`: a parameter or metric failed validation.
    pub fn unprocessable(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Entity",
            description,
        )
    }

    /// 400 `Bad request`.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }

    /// An error falcon reports with its status line as the only title.
    pub fn bare(status: StatusCode) -> Self {
        Self {
            status,
            title: format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            ),
            description: None,
        }
    }

    /// 503 for a failure of our own storage; the cause goes to the log, not the client.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            "The service could not process the request; try again",
        )
    }

    /// falcon's bare 404, which monasca-api answers for an unknown id.
    pub fn not_found() -> Self {
        Self::bare(StatusCode::NOT_FOUND)
    }

    pub fn multiple_metrics() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "MultipleMetrics",
            "Found multiple metrics matching metric name and dimensions. Please refine your \
             search criteria using a unique metric name or additional dimensions. \
             Alternatively, you may specify 'merge_metrics=True' as a query parameter to \
             combine all metrics matching search criteria into a single series.",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "metric store failed");
        Self::unavailable()
    }
}

impl From<config_repo::RepoError> for ApiError {
    /// The one mapping of repository failures to monasca-api's answers.
    fn from(e: config_repo::RepoError) -> Self {
        use config_repo::RepoError;
        match e {
            RepoError::NotFound(_) => Self::not_found(),
            RepoError::Conflict(msg) => {
                Self::new(StatusCode::CONFLICT, "AlreadyExistsException", msg)
            }
            RepoError::Invalid(msg) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "InvalidUpdateException",
                msg,
            ),
            e => {
                tracing::error!(error = %e, "alarms database failed");
                Self::unavailable()
            }
        }
    }
}

impl ApiError {
    /// For contexts that need a concrete `Response` without the `IntoResponse` import.
    pub fn into_response_owned(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, title = %self.title, "request failed");
        } else {
            tracing::debug!(status = %self.status, title = %self.title, description = ?self.description, "request rejected");
        }
        let body = match &self.description {
            Some(d) => json!({"title": self.title, "description": d}),
            None => json!({"title": self.title}),
        };
        (self.status, Json(body)).into_response()
    }
}

/// keystonemiddleware's answer to a request without a usable token. Its challenge names the
/// service that issues tokens (`issuer`); without one (`--auth none`, where the token names the
/// project) it is monasca-api's own `Token` challenge: present a token.
pub fn unauthorized(issuer: Option<&str>) -> Response {
    let body = json!({"error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication."
    }});
    let mut resp = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    let challenge = match issuer {
        Some(uri) => HeaderValue::from_str(&format!("Keystone uri=\"{uri}\"")).ok(),
        None => Some(HeaderValue::from_static("Token")),
    };
    if let Some(v) = challenge {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use config_repo::RepoError;

    use super::*;

    #[test]
    fn repository_errors_map_to_monasca_answers() {
        let e = ApiError::from(RepoError::NotFound("alarm x".into()));
        assert_eq!(
            (e.status, e.title.as_str()),
            (StatusCode::NOT_FOUND, "404 Not Found")
        );
        assert_eq!(e.description, None, "the id is not echoed");
        let e = ApiError::from(RepoError::Conflict("name taken".into()));
        assert_eq!(
            (e.status, e.title.as_str(), e.description.as_deref()),
            (
                StatusCode::CONFLICT,
                "AlreadyExistsException",
                Some("name taken")
            )
        );
        let e = ApiError::from(RepoError::Invalid("no such action".into()));
        assert_eq!(
            (e.status, e.title.as_str(), e.description.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "InvalidUpdateException",
                Some("no such action")
            )
        );
        let e = ApiError::from(RepoError::Storage("disk on fire".into()));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !e.description.unwrap_or_default().contains("fire"),
            "the cause stays in the log"
        );
    }
}
