//! `PUT /v2.0/notification-methods/{id}`, and the merge that `PATCH` shares.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::HeaderMap,
};
use monasca::types::NotificationMethod;
use serde_json::{Map, Value};

use super::{bad, collection, stored, to_wire, validate};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, body, schema},
};

pub(super) async fn update(
    tenant: String,
    state: &MonascaState,
    base: &BaseUrl,
    id: String,
    headers: &HeaderMap,
    body: Body,
    partial: bool,
) -> Result<Json<NotificationMethod>, ApiError> {
    body::require_json(headers)?;
    let v = body::json(body, state.max_body_bytes).await?;
    let methods = &state.repos.notification_methods;
    let v = if partial {
        let Value::Object(mut m) = v else {
            return Err(bad(schema::NOT_A_DICT));
        };
        // PATCH: what is not given keeps its stored value.
        let old = methods.get(&tenant, &id).await?;
        let mut full = Map::new();
        full.insert(
            "name".into(),
            m.remove("name").unwrap_or(Value::String(old.name)),
        );
        full.insert(
            "type".into(),
            m.remove("type")
                .unwrap_or(Value::String(old.kind.to_string())),
        );
        full.insert(
            "address".into(),
            m.remove("address").unwrap_or(Value::String(old.address)),
        );
        full.insert(
            "period".into(),
            m.remove("period").unwrap_or(Value::from(old.period)),
        );
        full.extend(m);
        Value::Object(full)
    } else {
        v
    };
    let m = stored(tenant, id, validate(&v, true, &state.notifications)?);
    methods.update(m.clone()).await?;
    Ok(Json(to_wire(&collection(base), m)))
}

pub(super) async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<NotificationMethod>, ApiError> {
    update(tenant, &state, &base, id, &headers, body, false).await
}
