//! `PUT /v2.0/alarm-definitions/{id}`, and the checked change that `PATCH` shares.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
};
use config_repo::monasca::{AlarmDefinition as Definition, definition_name_taken, in_unit};
use monasca::types::AlarmDefinition;

use super::{Write, apply, check_match_by, check_update, collection, parse, to_wire};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, body},
};

pub(super) async fn update(
    tenant: String,
    state: MonascaState,
    base: BaseUrl,
    id: String,
    body: Body,
    partial: bool,
) -> Result<Json<AlarmDefinition>, ApiError> {
    let write = if partial {
        Write::Patch
    } else {
        Write::Replace
    };
    let v = body::json(body, state.max_body_bytes).await?;
    if !partial {
        // Validate the body on its own first, as upstream does before touching the database.
        let mut scratch = Definition::new(String::new(), tenant.clone());
        apply(&mut scratch, &v, write)?;
    }
    let d = in_unit(state.repos.units.as_ref(), move |unit| {
        let Some(old) = unit.alarm_definition(&tenant, &id)? else {
            return Err(ApiError::not_found());
        };
        let mut new = old.clone();
        if !partial {
            new.alarm_actions.clear();
            new.ok_actions.clear();
            new.undetermined_actions.clear();
        }
        apply(&mut new, &v, write)?;
        parse(&new.expression)?;
        if let Some(other) = unit.definition_named(&tenant, &new.name, Some(&id))? {
            return Err(definition_name_taken(&new.name, Some(&other)).into());
        }
        check_match_by(&old, &new)?;
        if unit.definition_has_alarms(&id)? {
            check_update(&old, &new)?;
        }
        unit.check_actions(&new)?;
        unit.update_definition(&new, config_repo::now_ms())?;
        Ok(new)
    })
    .await?;
    state.alarms.definition_changed(&d.id).await;
    Ok(Json(to_wire(&collection(&base), d)))
}

pub(super) async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<AlarmDefinition>, ApiError> {
    update(tenant, state, base, id, body, false).await
}
