//! What delivery asks of a notification channel: the URLs it would call are checked (scheme,
//! and the server's allow/deny policy) before a create or update; and two Vigil extensions,
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

/// `POST /api/notificationChannels`, once the URLs are acceptable.
pub async fn create(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    check_urls(&state, &body.0)?;
    owned::create::<Channel>(State(state), caller, body).await
}

/// `PUT /api/notificationChannels/{id}`, once the URLs are acceptable.
pub async fn update(
    State(state): State<SysdigState>,
    caller: Caller,
    id: P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    check_urls(&state, &body.0)?;
    owned::update::<Channel>(State(state), caller, id, body).await
}

/// The channel types whose `options.url` the server calls; a WEBHOOK must have one.
fn check_urls(state: &SysdigState, body: &Value) -> SdcResult<()> {
    let Some(ch) = body.get(Channel::KEY) else {
        // The shape error is the generic handler's to report.
        return Ok(());
    };
    let kind = ch.get("type").and_then(Value::as_str).unwrap_or_default();
    if !matches!(kind, "WEBHOOK" | "SLACK" | "MS_TEAMS") {
        return Ok(());
    }
    let url = match ch.pointer("/options/url") {
        None | Some(Value::Null) if kind == "WEBHOOK" => {
            return Err(SdcError::bad_request(
                "A WEBHOOK channel needs a URL in 'options.url'",
            ));
        }
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(u)) => u,
        Some(_) => {
            return Err(SdcError::bad_request(
                "Field 'options.url' must be a string",
            ));
        }
    };
    let parsed = url::Url::parse(url)
        .map_err(|_| SdcError::bad_request(format!("'options.url' is not a URL: {url}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(SdcError::bad_request(format!(
            "'options.url' must be an http or https URL with a host: {url}"
        )));
    }
    (state.delivery.check_url)(url)
        .map_err(|why| SdcError::bad_request(format!("'options.url' is not allowed: {why}")))
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
