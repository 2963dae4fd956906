//! Request bodies of the alarming endpoints: size cap, content type, JSON.

use axum::{
    body::Body,
    http::{HeaderMap, StatusCode, header},
};
use serde_json::Value;

use crate::error::ApiError;

/// Whether the request says it carries JSON. Upstream compares the whole header; parameters
/// such as `charset=utf-8` are accepted here.
pub fn is_json(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ct.split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    if is_json(headers) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Bad content type. Must be application/json",
        ))
    }
}

/// Reads at most `limit` bytes and parses them as JSON.
pub async fn json(body: Body, limit: usize) -> Result<Value, ApiError> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request Entity Too Large",
            format!("The request body is larger than the limit of {limit} bytes"),
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::bad_request("Request body is not valid JSON"))
}
