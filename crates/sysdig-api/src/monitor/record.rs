//! What the handlers of customer-wide records (teams, users) share: the 404 for an id that
//! names nothing (malformed or unknown alike), `GET …/{id}`, `DELETE …/{id}` and the rename
//! check. Each record keeps its own rendering and refusals in its `Record` implementation.

use axum::{extract::State, response::Response};
use serde_json::{Map, Value, json};

use config_repo::sysdig::SysdigTx;

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{P, ok, parse_id},
};

/// One kind of customer-wide record, addressed by a numeric path id.
pub trait Record: Sized + Send + 'static {
    /// The key that wraps it in answers (`{"team": {...}}`).
    const KEY: &'static str;
    /// The 404 message ("Team not found").
    const NOT_FOUND: &'static str;

    /// The stored record `id`, if any.
    fn find(c: &dyn SysdigTx, id: i64) -> SdcResult<Option<Self>>;

    /// What `GET …/{id}` shows.
    type View: serde::Serialize + Send + 'static;

    /// The record as `GET …/{id}` shows it.
    fn view(&self, c: &dyn SysdigTx) -> SdcResult<Self::View>;

    /// Refusals of a delete that need no database (checked before the transaction).
    fn may_remove(_caller: &Caller, _id: i64) -> SdcResult<()> {
        Ok(())
    }

    /// Deletes record `id`, or refuses (404 for an unknown id).
    fn remove(c: &dyn SysdigTx, id: i64) -> SdcResult<()>;

    fn not_found() -> SdcError {
        SdcError::not_found(Self::NOT_FOUND)
    }

    /// A path id, or the 404: a malformed id names no record either.
    fn id(raw: &str) -> SdcResult<i64> {
        parse_id(raw).ok_or_else(Self::not_found)
    }

    /// The record `id`, or the 404.
    fn load(c: &dyn SysdigTx, id: i64) -> SdcResult<Self> {
        Self::find(c, id)?.ok_or_else(Self::not_found)
    }
}

/// `GET …/{id}`: any caller of the customer may read it.
pub async fn get<R: Record>(
    State(state): State<SysdigState>,
    _caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let id = R::id(&id)?;
    let v = state.tx(move |c| R::load(c, id)?.view(c)).await?;
    Ok(ok(json!({ R::KEY: v })))
}

/// The trimmed new name in `field` when an update body carries one; a blank one is refused.
pub fn new_name<'a>(m: &'a Map<String, Value>, field: &str) -> SdcResult<Option<&'a str>> {
    match m.get(field).and_then(Value::as_str).map(str::trim) {
        Some("") => Err(SdcError::bad_request(format!(
            "Field '{field}' is required"
        ))),
        name => Ok(name),
    }
}

/// `DELETE …/{id}` (admins only), with the record's own refusals; answers `{}`.
pub async fn delete<R: Record>(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let id = R::id(&id)?;
    R::may_remove(&caller, id)?;
    state.tx(move |c| R::remove(c, id)).await?;
    Ok(ok(json!({})))
}
