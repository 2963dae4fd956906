//! Prometheus's error envelope: `{"status":"error","errorType":…,"error":…}` with its status
//! codes (400 for bad data, 422 for a failed execution, 503 for a timeout).

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use promql_engine::QueryError;
use serde_json::json;

/// A failed API call, answered in Prometheus's shape.
#[derive(Debug)]
pub struct PromError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl PromError {
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "bad_data",
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "unauthorized",
            message:
                "authentication required: a Monasca token in X-Auth-Token or Authorization: Bearer"
                    .into(),
        }
    }

    /// Prometheus's `unavailable`: the token cannot be checked (the shared database is down).
    pub fn unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "unavailable",
            message: "the token cannot be checked right now; try again".into(),
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "forbidden",
            message: "the token's roles do not allow reading metrics".into(),
        }
    }
}

impl PromError {
    /// `e`, a parse error naming parameter `param` as Prometheus words it
    /// (`invalid parameter "match[]": 1:4: parse error: …`).
    pub fn from_query(e: QueryError, param: &str) -> Self {
        match e {
            QueryError::Parse(m) => Self::bad_data(format!("invalid parameter {param:?}: {m}")),
            other => other.into(),
        }
    }
}

impl From<QueryError> for PromError {
    fn from(e: QueryError) -> Self {
        let (status, kind) = match &e {
            QueryError::Parse(m) => {
                return Self::bad_data(format!("invalid parameter \"query\": {m}"));
            }
            QueryError::BadData(_) => (StatusCode::BAD_REQUEST, "bad_data"),
            QueryError::Execution(_) => (StatusCode::UNPROCESSABLE_ENTITY, "execution"),
            QueryError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            QueryError::Store(err) => {
                tracing::error!(error = %err, "PromQL: the metric store failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        Self {
            status,
            kind,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for PromError {
    fn into_response(self) -> Response {
        let body = json!({"status": "error", "errorType": self.kind, "error": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}
