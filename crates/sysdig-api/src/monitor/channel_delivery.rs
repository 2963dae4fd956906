//! What delivery asks of a notification channel: its options are checked for its type (what
//! the type needs, and the server's URL policy) before a create or update; and two Vigil extensions,
//! `POST …/{id}/test` queues a test notification through it, `GET …/{id}/deliveries` lists
//! its latest delivery attempts (newest first), so a user can see why a notification did not
//! arrive.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use config_repo::{now_ms, sysdig::notifications};
use serde_json::{Value, json};
use sysdig::deliveries::{ChannelTest, DeliveryAttempt};

use super::{channels::Channel, owned, owned::Owned};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, P, ok},
};

/// `POST /api/notificationChannels`, once the options are acceptable.
pub async fn create(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    check_options(&state, &body.0)?;
    owned::create::<Channel>(State(state), caller, body).await
}

/// `PUT /api/notificationChannels/{id}`, once the options are acceptable.
pub async fn update(
    State(state): State<SysdigState>,
    caller: Caller,
    id: P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    check_options(&state, &body.0)?;
    owned::update::<Channel>(State(state), caller, id, body).await
}

/// What the notification engine needs of the channel's type (a WEBHOOK's URL, a PAGER_DUTY
/// key…), and URLs it may call; a body without a channel is the generic handler's to refuse.
fn check_options(state: &SysdigState, body: &Value) -> SdcResult<()> {
    let Some(ch) = body.get(Channel::KEY) else {
        return Ok(());
    };
    let kind = ch.get("type").and_then(Value::as_str).unwrap_or_default();
    let options = ch.get("options").cloned().unwrap_or(Value::Null);
    (state.delivery.check_options)(kind, &options).map_err(SdcError::bad_request)
}

/// Attempts a list holds.
const LISTED: usize = 100;

pub async fn send_test(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let id = Channel::id(&id)?;
    let event_id = state
        .tx(move |c| {
            let ch = Channel::load(c, team, id)?;
            Ok(notifications::enqueue_test(c, team, &ch, now_ms())?)
        })
        .await?;
    (state.delivery.wake)();
    let body = ChannelTest {
        notification_channel_id: u64::try_from(id).unwrap_or_default(),
        event_id,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

pub async fn deliveries(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let id = Channel::id(&id)?;
    // The channel must be the caller's team's.
    state
        .tx(move |c| Channel::load(c, team, id).map(drop))
        .await?;
    let attempts = state
        .delivery
        .outbox
        .attempts(&team.to_string(), &id.to_string(), LISTED)
        .await?;
    let list: Vec<DeliveryAttempt> = attempts
        .into_iter()
        .map(|a| DeliveryAttempt {
            event_id: a.event_id,
            timestamp: a.time_ms,
            attempt: a.attempt,
            status: a.status.as_str().to_string(),
            answer: a.answer,
            duration_ms: a.duration_ms,
            test: a.test,
        })
        .collect();
    Ok(ok(json!({ "deliveries": list })))
}
