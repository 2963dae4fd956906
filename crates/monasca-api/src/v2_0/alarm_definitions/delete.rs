//! `DELETE /v2.0/alarm-definitions/{id}`: the definition and its alarms.

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
    state.repos.alarm_definitions.delete(&tenant, &id).await?;
    state.alarms.definition_changed(&id).await;
    Ok(StatusCode::NO_CONTENT)
}
