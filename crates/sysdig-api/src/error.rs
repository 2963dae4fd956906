//! Errors in the shapes Sysdig answers with: Spring Boot's 401 body, `{"errors": [...]}` for
//! every other refusal, and a bare 404 for unknown dashboards (sdcclient then says
//! `status code 404`, which its own specs expect).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use config_repo::RepoError;
use serde_json::json;

#[derive(Debug)]
pub enum SdcError {
    /// Missing, unknown, reset or expired credentials.
    Unauthorized { path: String },
    /// `{"errors":[{"reason","message"}]}` with `status`.
    Errors {
        status: StatusCode,
        reason: &'static str,
        message: String,
    },
    /// A status with an empty body.
    Bare(StatusCode),
    /// An injected failure (`POST /vigil/sysdig/faults`).
    Fault {
        status: StatusCode,
        retry_after: Option<u64>,
    },
}

pub type SdcResult<T> = Result<T, SdcError>;

impl SdcError {
    fn errors(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self::Errors {
            status,
            reason,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::errors(StatusCode::BAD_REQUEST, "Bad Request", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::errors(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::errors(StatusCode::NOT_FOUND, "Not Found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::errors(StatusCode::CONFLICT, "Conflict", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::errors(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::errors(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            format!("The request body is larger than the limit of {limit} bytes"),
        )
    }

    /// Our own storage failed: 503, so that clients may retry; the cause is logged.
    pub fn unavailable() -> Self {
        Self::errors(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "The service could not process the request; try again",
        )
    }

    /// The stale-version refusal of every versioned object.
    pub fn stale(what: &str, sent: i64, current: i64) -> Self {
        Self::conflict(format!(
            "{what} version mismatch: the request has version {sent}, the current version is {current}"
        ))
    }
}

impl From<RepoError> for SdcError {
    /// The one mapping of repository failures: a storage failure is logged and answers 503 so
    /// that clients may retry; the others name what the repository refused.
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(_) => Self::not_found(e.to_string()),
            RepoError::Conflict(m) => Self::conflict(m),
            RepoError::Invalid(m) => Self::unprocessable(m),
            e => {
                tracing::error!(error = %e, "sysdig repository failed");
                Self::unavailable()
            }
        }
    }
}

impl IntoResponse for SdcError {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthorized { path } => {
                tracing::debug!(%path, "sysdig request without valid credentials");
                let body = json!({
                    "timestamp": jiff::Timestamp::now().as_millisecond(),
                    "status": 401,
                    "error": "Unauthorized",
                    "message": "Bad credentials",
                    "path": path,
                });
                (StatusCode::UNAUTHORIZED, Json(body)).into_response()
            }
            Self::Errors {
                status,
                reason,
                message,
            } => {
                if status.is_server_error() {
                    tracing::error!(%status, %message, "sysdig request failed");
                } else {
                    tracing::debug!(%status, %message, "sysdig request refused");
                }
                let body = json!({"errors": [{"reason": reason, "message": message}]});
                (status, Json(body)).into_response()
            }
            Self::Bare(status) => status.into_response(),
            Self::Fault {
                status,
                retry_after,
            } => {
                let body = json!({"errors": [{"reason": "Injected fault", "message": format!("Injected failure with status {}", status.as_u16())}]});
                let mut resp = (status, Json(body)).into_response();
                if let Some(s) = retry_after {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, s.into());
                }
                resp
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(e: RepoError) -> StatusCode {
        SdcError::from(e).into_response().status()
    }

    #[test]
    fn repository_failures_map_to_one_status_each() {
        assert_eq!(
            status(RepoError::Storage("disk".into())),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(RepoError::NotFound("team".into())),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(RepoError::Conflict("taken".into())),
            StatusCode::CONFLICT
        );
        assert_eq!(
            status(RepoError::Invalid("bad".into())),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
