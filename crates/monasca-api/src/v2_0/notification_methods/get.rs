//! `GET /v2.0/notification-methods/{id}`.

use axum::{
    Json,
    extract::{Path, State},
};
use monasca::types::NotificationMethod;

use super::{collection, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant},
};

pub(super) async fn show(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<NotificationMethod>, ApiError> {
    let m = state.repos.notification_methods.get(&tenant, &id).await?;
    Ok(Json(to_wire(&collection(&base), m)))
}
