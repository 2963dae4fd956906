//! `/api/notificationChannels`: the team's notification channels.

use axum::{extract::State, response::Response};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{
    JsonBody, Kind, P, check_fields, check_version, created, default_field, ok, parse_id,
    required_str,
};
use crate::{
    app::AppState,
    sysdig::{
        auth::Caller,
        db,
        error::{SdcError, SdcResult},
    },
};

pub const KIND: &str = "channel";

fn not_found() -> SdcError {
    SdcError::not_found("Notification channel not found")
}

/// Checks a channel body and fills the defaults; refuses a name another channel of the team
/// has.
fn validate(
    c: &Connection,
    team: i64,
    own_id: Option<i64>,
    m: &mut Map<String, Value>,
) -> SdcResult<()> {
    check_fields(
        m,
        &[
            ("type", Kind::Str),
            ("name", Kind::Str),
            ("enabled", Kind::Bool),
            ("options", Kind::Obj),
            ("sendTestNotification", Kind::Bool),
        ],
    )?;
    let ty = required_str(m, "type")?;
    let name = required_str(m, "name")?;
    default_field(m, "enabled", json!(true));
    default_field(m, "options", json!({}));
    default_field(m, "sendTestNotification", json!(false));
    let opts = m.get("options").and_then(Value::as_object);
    for list in ["emailRecipients", "snsTopicARNs"] {
        if let Some(v) = opts.and_then(|o| o.get(list)).filter(|v| !v.is_null())
            && !v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        {
            return Err(SdcError::bad_request(format!(
                "Field 'options.{list}' must be an array of strings"
            )));
        }
    }
    if ty == "EMAIL"
        && opts
            .and_then(|o| o.get("emailRecipients"))
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        return Err(SdcError::bad_request(
            "An EMAIL channel needs at least one address in 'options.emailRecipients'",
        ));
    }
    let clash = db::obj_list(c, KIND, team)?.into_iter().any(|o| {
        Some(o.id) != own_id && o.doc.get("name").and_then(Value::as_str) == Some(name.as_str())
    });
    if clash {
        return Err(SdcError::unprocessable(format!(
            "Notification channel with name '{name}' already exists"
        )));
    }
    Ok(())
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state
        .sysdig
        .db
        .tx(move |c| {
            Ok(db::obj_list(c, KIND, team)?
                .iter()
                .map(db::Obj::render)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(ok(json!({"notificationChannels": all})))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let id = parse_id(&id).ok_or_else(not_found)?;
    let o = state
        .sysdig
        .db
        .tx(move |c| db::obj_get(c, KIND, team, id)?.ok_or_else(not_found))
        .await?;
    Ok(ok(json!({"notificationChannel": o.render()})))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let mut m = body.wrapped("notificationChannel")?;
    let o = state
        .sysdig
        .db
        .tx(move |c| {
            validate(c, team, None, &mut m)?;
            db::obj_insert(c, KIND, team, m)
        })
        .await?;
    Ok(created(json!({"notificationChannel": o.render()})))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let id = parse_id(&id).ok_or_else(not_found)?;
    let mut m = body.wrapped("notificationChannel")?;
    let o = state
        .sysdig
        .db
        .tx(move |c| {
            let mut o = db::obj_get(c, KIND, team, id)?.ok_or_else(not_found)?;
            check_version(&m, o.version, "Notification channel")?;
            validate(c, team, Some(id), &mut m)?;
            o.doc = m;
            db::obj_save(c, &mut o, true)?;
            Ok(o)
        })
        .await?;
    Ok(ok(json!({"notificationChannel": o.render()})))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let id = parse_id(&id).ok_or_else(not_found)?;
    state
        .sysdig
        .db
        .tx(move |c| {
            if !db::obj_delete(c, KIND, team, id)? {
                return Err(not_found());
            }
            // Alerts stop pointing at the channel, as Sysdig does.
            for mut a in db::obj_list(c, super::alerts::KIND, team)? {
                let Some(ids) = a
                    .doc
                    .get_mut("notificationChannelIds")
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                let before = ids.len();
                ids.retain(|v| v.as_i64() != Some(id));
                if ids.len() != before {
                    db::obj_save(c, &mut a, false)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}
