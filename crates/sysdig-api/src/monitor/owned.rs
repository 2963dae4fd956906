//! The handlers of team-owned objects (`TeamObject`: alerts, notification channels, dashboards,
//! events), written once. Each resource keeps its own checks, rendering and messages in its
//! `Owned`/`Editable` implementation; the order of refusals (403, 404, 400, 409) lives here.

use axum::{extract::State, response::Response};
use serde_json::{Map, Value, json};

use config_repo::sysdig::{SysdigTx, TeamObject};

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, P, check_version, created, ok, parse_id},
};

/// One kind of team-owned object.
pub trait Owned: 'static {
    /// What it is stored as (`objects.kind`).
    const KIND: &'static str;
    /// The key that wraps it in bodies (`{"alert": {...}}`).
    const KEY: &'static str;
    /// Its name in version refusals ("Alert version is required").
    const WHAT: &'static str;

    /// The refusal for an id that names no object of the team.
    fn not_found() -> SdcError;

    /// What the API shows: a wire type of the `sysdig` crate.
    type View: serde::Serialize + Send + 'static;

    /// The object as the API shows it to `caller`.
    fn view(c: &dyn SysdigTx, o: &TeamObject, caller: &Caller) -> SdcResult<Self::View>;

    /// Tidies, in the same transaction, what pointed at the deleted object `id`.
    fn cascade(_c: &dyn SysdigTx, _team: i64, _id: i64) -> SdcResult<()> {
        Ok(())
    }

    /// The team's object `id`, or the 404.
    fn load(c: &dyn SysdigTx, team: i64, id: i64) -> SdcResult<TeamObject> {
        c.obj_get(Self::KIND, team, id)?.ok_or_else(Self::not_found)
    }

    /// A path id, or the 404: a malformed id names no object either.
    fn id(raw: &str) -> SdcResult<i64> {
        parse_id(raw).ok_or_else(Self::not_found)
    }
}

/// A team-owned object that clients create and replace.
pub trait Editable: Owned {
    /// Checks a body and fills its defaults; `own` is the stored object when it is an update.
    fn prepare(
        c: &dyn SysdigTx,
        caller: &Caller,
        own: Option<&TeamObject>,
        m: &mut Map<String, Value>,
    ) -> SdcResult<()>;

    /// Runs in the transaction of a create or update, once `o` is stored (a channel queues
    /// its test notification here).
    fn saved(_c: &dyn SysdigTx, _o: &TeamObject) -> SdcResult<()> {
        Ok(())
    }
}

/// `GET …/{id}`.
pub async fn get<R: Owned>(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let id = R::id(&id)?;
    let v = state
        .tx(move |c| R::view(c, &R::load(c, team, id)?, &caller))
        .await?;
    Ok(ok(json!({ R::KEY: v })))
}

/// `POST`: stored at version 1 once `prepare` accepts it.
pub async fn create<R: Editable>(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let mut m = body.wrapped(R::KEY)?;
    let v = state
        .tx(move |c| {
            R::prepare(c, &caller, None, &mut m)?;
            let o = c.obj_insert(R::KIND, team, m)?;
            R::saved(c, &o)?;
            R::view(c, &o, &caller)
        })
        .await?;
    (state.delivery.wake)();
    Ok(created(json!({ R::KEY: v })))
}

/// `PUT …/{id}`: the body must carry the stored `version` (missing → 400, stale → 409); the
/// document it becomes once `prepare` accepts it is stored one version up.
pub async fn update<R: Editable>(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let id = R::id(&id)?;
    let mut m = body.wrapped(R::KEY)?;
    let v = state
        .tx(move |c| {
            let mut o = R::load(c, team, id)?;
            check_version(&m, o.version, R::WHAT)?;
            R::prepare(c, &caller, Some(&o), &mut m)?;
            o.doc = m;
            c.obj_save(&mut o, true)?;
            R::saved(c, &o)?;
            R::view(c, &o, &caller)
        })
        .await?;
    (state.delivery.wake)();
    Ok(ok(json!({ R::KEY: v })))
}

/// `DELETE …/{id}`, with the resource's cascade; answers `{}`.
pub async fn delete<R: Owned>(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let id = R::id(&id)?;
    state
        .tx(move |c| {
            if !c.obj_delete(R::KIND, team, id)? {
                return Err(R::not_found());
            }
            R::cascade(c, team, id)
        })
        .await?;
    Ok(ok(json!({})))
}
