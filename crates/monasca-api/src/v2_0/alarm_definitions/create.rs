//! `POST /v2.0/alarm-definitions`.

use axum::{Json, body::Body, extract::State, http::StatusCode};
use config_repo::monasca::AlarmDefinition as Definition;
use monasca::types::AlarmDefinition;
use serde_json::Value;

use super::{Write, apply, collection, invalid, parse, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    new_id,
    v2_0::{BaseUrl, Tenant, body, schema},
};

pub(super) async fn create(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    body: Body,
) -> Result<(StatusCode, Json<AlarmDefinition>), ApiError> {
    let v = body::json(body, state.max_body_bytes).await?;
    let mut d = Definition::new(new_id(), tenant);
    if let Value::Object(m) = &v {
        for k in ["name", "expression"] {
            if !m.contains_key(k) {
                return Err(invalid(schema::required(k)));
            }
        }
    }
    apply(&mut d, &v, Write::Create)?;
    parse(&d.expression)?;
    state.repos.alarm_definitions.create(d.clone()).await?;
    state.alarms.definition_changed(&d.id).await;
    Ok((StatusCode::CREATED, Json(to_wire(&collection(&base), d))))
}
