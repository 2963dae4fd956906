//! `GET /v2.0/alarms/{id}`.

use axum::{
    Json,
    extract::{Path, State},
};
use monasca::types::Alarm;

use super::{root, to_wire};
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
) -> Result<Json<Alarm>, ApiError> {
    let a = state.repos.alarms.get(&tenant, &id).await?;
    Ok(Json(to_wire(&root(&base), a)))
}
