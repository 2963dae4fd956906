//! `PATCH /v2.0/notification-methods/{id}`: what is not given keeps its stored value.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::HeaderMap,
};
use monasca::types::NotificationMethod;

use super::update::update;
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant},
};

pub(super) async fn patch(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<NotificationMethod>, ApiError> {
    update(tenant, &state, &base, id, &headers, body, true).await
}
