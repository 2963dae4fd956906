//! `DELETE /v2.0/alarms/{id}`: a later matching metric opens a new alarm.

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
    state.repos.alarms.delete(&tenant, &id).await?;
    state.alarms.alarm_deleted(&id);
    Ok(StatusCode::NO_CONTENT)
}
