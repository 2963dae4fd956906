//! `/api/notificationChannels`: the team's notification channels.

use axum::{extract::State, response::Response};
use config_repo::sysdig::{SysdigTx, TeamObject, kinds, notifications};
use serde_json::{Map, Value, json};
use sysdig::channels::{Channel as WireChannel, ChannelKind};

use super::{
    owned::{Editable, Owned},
    wire::{columns_and_doc, typed},
};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{Kind, check_fields, default_field, ok, required_str},
};

pub const KIND: &str = kinds::CHANNEL;

/// Notification channels for the generic handlers of `owned`.
pub struct Channel;

impl Owned for Channel {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "notificationChannel";
    const WHAT: &'static str = "Notification channel";

    fn not_found() -> SdcError {
        SdcError::not_found("Notification channel not found")
    }

    type View = WireChannel;

    fn view(_: &dyn SysdigTx, o: &TeamObject, _: &Caller) -> SdcResult<WireChannel> {
        Ok(render(o))
    }

    /// Alerts stop pointing at the channel, as Sysdig does.
    fn cascade(c: &dyn SysdigTx, team: i64, id: i64) -> SdcResult<()> {
        for mut a in c.obj_list(kinds::ALERT, team)? {
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
                c.obj_save(&mut a, false)?;
            }
        }
        Ok(())
    }
}

impl Editable for Channel {
    fn prepare(
        c: &dyn SysdigTx,
        caller: &Caller,
        own: Option<&TeamObject>,
        m: &mut Map<String, Value>,
    ) -> SdcResult<()> {
        validate(c, caller.team_id(), own.map(|o| o.id), m)
    }

    /// `sendTestNotification: true` sends a test notification through the saved channel, as
    /// Sysdig does on save.
    fn saved(c: &dyn SysdigTx, o: &TeamObject) -> SdcResult<()> {
        if o.doc.get("sendTestNotification").and_then(Value::as_bool) == Some(true) {
            notifications::enqueue_test(c, o.team_id, o, config_repo::now_ms())?;
        }
        Ok(())
    }
}

/// Checks a channel body and fills the defaults; refuses a name another channel of the team
/// has.
fn validate(
    c: &dyn SysdigTx,
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
    if ChannelKind::Email == ty.as_str()
        && opts
            .and_then(|o| o.get("emailRecipients"))
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        return Err(SdcError::bad_request(
            "An EMAIL channel needs at least one address in 'options.emailRecipients'",
        ));
    }
    if ChannelKind::Email == ty.as_str() {
        let recipients = opts.and_then(|o| o.get("emailRecipients"));
        for r in recipients.and_then(Value::as_array).into_iter().flatten() {
            sysdig::validate::mailbox(r.as_str().unwrap_or_default())
                .map_err(|e| SdcError::bad_request(e.to_string()))?;
        }
    }
    if c.obj_name_taken(KIND, team, &name, own_id)? {
        return Err(SdcError::unprocessable(format!(
            "Notification channel with name '{name}' already exists"
        )));
    }
    Ok(())
}

/// A channel as the API shows it. Its options are typed on their own: the channel always
/// writes `options`, so options it could not hold whole must not fall back to its `extra`.
pub fn render(o: &TeamObject) -> WireChannel {
    let mut shown = columns_and_doc(o);
    let options = match shown.remove("options") {
        Some(Value::Object(options)) => Some(typed(options)),
        Some(other) => {
            // Not an object (never stored so; the channel's own check refuses it).
            shown.insert("options".into(), other);
            None
        }
        None => None,
    };
    let mut channel: WireChannel = typed(shown);
    if let Some(options) = options {
        channel.options = options;
    }
    channel
}

pub async fn list(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state
        .tx(move |c| {
            Ok(c.obj_list(KIND, team)?
                .iter()
                .map(render)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(ok(json!({"notificationChannels": all})))
}
