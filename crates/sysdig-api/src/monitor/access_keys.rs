//! `/api/customer/accessKeys`: the customer's agent access keys (admins only), kept as one
//! repository setting. A key is a UUID with an agent `limit`, a `reservation` and an optional
//! `teamId`; it is never deleted through the API, only disabled.

use axum::{extract::State, response::Response};
use config_repo::{now_ms, sysdig::SysdigTx};
use serde_json::{Map, Value, json};

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, Kind, P, check_fields, created, ok},
};

/// Where the keys are kept (`meta`, customer-wide): a JSON array of keys.
const KEYS: &str = "access_keys";

fn load(c: &dyn SysdigTx) -> SdcResult<Vec<Value>> {
    Ok(c.meta_get(KEYS)?
        .and_then(|s| serde_json::from_str::<Vec<Value>>(&s).ok())
        .unwrap_or_default())
}

fn save(c: &dyn SysdigTx, keys: &[Value]) -> SdcResult<()> {
    Ok(c.meta_set(KEYS, &Value::from(keys.to_vec()).to_string())?)
}

fn not_found(key: &str) -> SdcError {
    SdcError::not_found(format!("Access key {key} not found"))
}

/// Checks `limit`, `reservation` and `teamId` of a body `{"customerAccessKey": {...}}`.
fn settings(c: &dyn SysdigTx, m: &Map<String, Value>) -> SdcResult<(Value, Value, Value)> {
    check_fields(
        m,
        &[
            ("limit", Kind::Int),
            ("reservation", Kind::Int),
            ("teamId", Kind::Int),
        ],
    )?;
    let get = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let (limit, reservation, team) = (get("limit"), get("reservation"), get("teamId"));
    if [&limit, &reservation]
        .iter()
        .any(|v| v.as_i64().is_some_and(|n| n < 0))
    {
        return Err(SdcError::bad_request(
            "Fields 'limit' and 'reservation' must not be negative",
        ));
    }
    if let (Some(l), Some(r)) = (limit.as_i64(), reservation.as_i64())
        && r > l
    {
        return Err(SdcError::bad_request(
            "Field 'reservation' must not exceed 'limit'",
        ));
    }
    if let Some(id) = team.as_i64()
        && c.team(id)?.is_none()
    {
        return Err(SdcError::unprocessable(format!("Team {id} not found")));
    }
    Ok((limit, reservation, team))
}

/// `GET /api/customer/accessKeys`.
pub async fn list(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    caller.require_admin()?;
    let keys = state.tx(load).await?;
    Ok(ok(json!({"customerAccessKeys": keys})))
}

/// `POST /api/customer/accessKeys` `{"customerAccessKey": {"limit", "reservation", "teamId"}}`.
pub async fn create(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.wrapped("customerAccessKey")?;
    let key = state
        .tx(move |c| {
            let (limit, reservation, team) = settings(c, &m)?;
            let key = json!({
                "accessKey": uuid::Uuid::new_v4().to_string(),
                "enabled": true,
                "limit": limit,
                "reservation": reservation,
                "teamId": team,
                "dateCreated": now_ms(),
                "dateDisabled": null,
            });
            let mut keys = load(c)?;
            keys.push(key.clone());
            save(c, &keys)?;
            Ok(key)
        })
        .await?;
    Ok(created(json!({"customerAccessKey": key})))
}

/// Applies `change` to key `key` and answers it.
async fn modify(
    state: SysdigState,
    key: String,
    change: impl FnOnce(&dyn SysdigTx, &mut Map<String, Value>) -> SdcResult<()> + Send + 'static,
) -> SdcResult<Response> {
    let updated = state
        .tx(move |c| {
            let mut keys = load(c)?;
            let Some(found) = keys
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .find(|k| k.get("accessKey").and_then(Value::as_str) == Some(key.as_str()))
            else {
                return Err(not_found(&key));
            };
            change(c, found)?;
            let updated = Value::Object(found.clone());
            save(c, &keys)?;
            Ok(updated)
        })
        .await?;
    Ok(ok(json!({"customerAccessKey": updated})))
}

/// `PUT /api/customer/accessKeys/{key}`: new limit, reservation and team.
pub async fn update(
    State(state): State<SysdigState>,
    caller: Caller,
    P(key): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.wrapped("customerAccessKey")?;
    modify(state, key, move |c, k| {
        let (limit, reservation, team) = settings(c, &m)?;
        k.insert("limit".into(), limit);
        k.insert("reservation".into(), reservation);
        k.insert("teamId".into(), team);
        Ok(())
    })
    .await
}

/// `POST /api/customer/accessKeys/{key}/enable/`.
pub async fn enable(
    State(state): State<SysdigState>,
    caller: Caller,
    P(key): P<String>,
) -> SdcResult<Response> {
    caller.require_admin()?;
    modify(state, key, |_, k| {
        k.insert("enabled".into(), true.into());
        k.insert("dateDisabled".into(), Value::Null);
        Ok(())
    })
    .await
}

/// `POST /api/customer/accessKeys/{key}/disable/`.
pub async fn disable(
    State(state): State<SysdigState>,
    caller: Caller,
    P(key): P<String>,
) -> SdcResult<Response> {
    caller.require_admin()?;
    modify(state, key, |_, k| {
        if k.get("enabled").and_then(Value::as_bool) != Some(false) {
            k.insert("enabled".into(), false.into());
            k.insert("dateDisabled".into(), now_ms().into());
        }
        Ok(())
    })
    .await
}
