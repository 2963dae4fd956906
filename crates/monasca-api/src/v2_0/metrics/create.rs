//! `POST /v2.0/metrics`.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};

use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{Tenant, validate},
};

pub async fn create(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Upstream compares the whole header; we also accept parameters such as `charset=utf-8`.
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::bad_request(
            "Bad content type. Must be application/json",
        ));
    }
    let limit = state.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request Entity Too Large",
            format!("The request body is larger than the limit of {limit} bytes"),
        )
    })?;
    let samples =
        validate::parse_body_shared(&state.series_keys, &tenant, &bytes).map_err(|e| match e {
            None => ApiError::bad_request("Request body is not valid JSON"),
            Some(msg) => ApiError::unprocessable(msg),
        })?;
    // One batch, shared without copies by the store and then the threshold engine, which
    // sees only what is durable.
    let samples = std::sync::Arc::new(samples);
    state.store.write_shared(samples.clone()).await?;
    (state.ingested)(samples.len());
    state.alarms.observe(samples).await;
    Ok(StatusCode::NO_CONTENT)
}
