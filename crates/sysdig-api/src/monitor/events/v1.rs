//! `/api/events/` (events v1, sdcclient's `EventsClientV1`): the same stored events as v2,
//! shown with `filter` where v2 says `scope`. The list takes `from`/`to` or `last` in seconds
//! (the client's `from_s`/`to_s`/`last_s`, passed through) and answers newest first.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use config_repo::{
    now_ms,
    sysdig::{SysdigTx, TeamObject},
};
use serde_json::{Map, Value, json};

use sysdig::events::Event as WireEvent;

use super::{Event, KIND, create::new_event, ts};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, created, ok, query_i64, query_pairs},
    monitor::{owned::Owned, wire::typed},
};

/// v1 events for the generic get of `owned` (delete is v2's).
pub struct EventV1;

impl Owned for EventV1 {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "event";
    const WHAT: &'static str = "Event";

    fn not_found() -> SdcError {
        Event::not_found()
    }

    type View = WireEvent;

    fn view(_: &dyn SysdigTx, o: &TeamObject, _: &Caller) -> SdcResult<WireEvent> {
        Ok(render(o))
    }
}

/// An event as v1 shows it: v2's fields with `scope` renamed `filter`.
pub fn render(o: &TeamObject) -> WireEvent {
    let mut m = super::shown(o);
    let scope = m.remove("scope").unwrap_or(Value::Null);
    m.insert("filter".into(), scope);
    typed(m)
}

/// v1 tags may come as a list of one-pair objects; they are stored merged, as v2 keeps them.
fn merge_tag_list(m: &mut Map<String, Value>) -> SdcResult<()> {
    let Some(list) = m.get("tags").and_then(Value::as_array) else {
        return Ok(());
    };
    let mut merged = Map::new();
    for item in list {
        let Some(pairs) = item.as_object() else {
            return Err(SdcError::bad_request(
                "Field 'tags' must map names to strings",
            ));
        };
        merged.extend(pairs.clone());
    }
    m.insert("tags".into(), Value::Object(merged));
    Ok(())
}

/// `POST /api/events/`.
pub async fn create(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let mut m = body.wrapped("event")?;
    merge_tag_list(&mut m)?;
    let doc = new_event(&m, "filter")?;
    let team = caller.team_id();
    let o = state
        .tx(move |c| Ok(c.obj_insert(KIND, team, doc)?))
        .await?;
    Ok(created(json!({"event": render(&o)})))
}

/// `GET /api/events/[?from=<s>&to=<s>|last=<s>]`: `last` counts back from now; `from` and
/// `to` bound the window (either may be left out).
pub async fn list(
    State(state): State<SysdigState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let seconds = |k: &str| -> SdcResult<Option<i64>> {
        Ok(query_i64(&pairs, k, " (seconds)")?.map(|s| s.saturating_mul(1000)))
    };
    let (mut from, to, last) = (seconds("from")?, seconds("to")?, seconds("last")?);
    if let Some(last) = last {
        if last < 0 {
            return Err(SdcError::bad_request(
                "Parameter 'last' must not be negative",
            ));
        }
        from = Some(to.unwrap_or_else(now_ms).saturating_sub(last));
    }
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(SdcError::bad_request(
            "Parameter 'from' must not be after 'to'",
        ));
    }
    let team = caller.team_id();
    let mut all = state.tx(move |c| Ok(c.obj_list(KIND, team)?)).await?;
    all.sort_by_key(|o| std::cmp::Reverse((ts(o), o.id)));
    let events: Vec<WireEvent> = all
        .iter()
        .filter(|o| from.is_none_or(|f| ts(o) >= f) && to.is_none_or(|t| ts(o) <= t))
        .map(render)
        .collect();
    Ok(ok(json!({"events": events})))
}
