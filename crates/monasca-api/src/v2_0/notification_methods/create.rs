//! `POST /v2.0/notification-methods`.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use monasca::types::NotificationMethod;

use super::{collection, stored, to_wire, validate};
use crate::{
    MonascaState,
    error::ApiError,
    new_id,
    v2_0::{BaseUrl, Tenant, body},
};

pub(super) async fn create(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<NotificationMethod>), ApiError> {
    body::require_json(&headers)?;
    let v = body::json(body, state.max_body_bytes).await?;
    let m = stored(tenant, new_id(), validate(&v, false, &state.notifications)?);
    state.repos.notification_methods.create(m.clone()).await?;
    Ok((StatusCode::CREATED, Json(to_wire(&collection(&base), m))))
}
