//! `DELETE /v2.0/notification-methods/{id}`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};

use crate::{MonascaState, error::ApiError, v2_0::Tenant};

pub(super) async fn delete(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .repos
        .notification_methods
        .delete(&tenant, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
