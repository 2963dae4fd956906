//! `PATCH /v2.0/alarm-definitions/{id}`: the fields given change, the rest stay.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
};
use monasca::types::AlarmDefinition;

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
    body: Body,
) -> Result<Json<AlarmDefinition>, ApiError> {
    update(tenant, state, base, id, body, true).await
}
