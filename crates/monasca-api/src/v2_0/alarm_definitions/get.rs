//! `GET /v2.0/alarm-definitions/{id}`.

use axum::{
    Json,
    extract::{Path, State},
};
use monasca::types::AlarmDefinition;

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
) -> Result<Json<AlarmDefinition>, ApiError> {
    let d = state.repos.alarm_definitions.get(&tenant, &id).await?;
    Ok(Json(to_wire(&collection(&base), d)))
}
