//! Notification channels: `/api/notificationChannels`.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::channels::Channel;
//! let c = client.channels().create(&Channel::email("ops mail", ["ops@example.com"])).await?;
//! let ids = client.channels().ids(Some(&[Channel::email("ops mail", ["ops@example.com"])])).await?;
//! assert_eq!(ids, vec![c.id.unwrap_or_default()]);
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Error, Result,
    request::{Op, send_ops},
};

wire_names! {
    /// The `type` of a notification channel.
    ChannelKind {
        Email = "EMAIL",
        Sns = "SNS",
        PagerDuty = "PAGER_DUTY",
        Slack = "SLACK",
        Opsgenie = "OPSGENIE",
        VictorOps = "VICTOROPS",
        Webhook = "WEBHOOK",
    }
}

/// A notification channel; `kind` is its `type`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Channel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(rename = "type")]
    pub kind: ChannelKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    pub options: ChannelOptions,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The type-specific settings of a channel. `Debug` hides the secrets they carry (service and
/// API keys, webhook URLs, which embed tokens, and unknown fields' values).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChannelOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_recipients: Option<Vec<String>>,
    #[serde(rename = "snsTopicARNs", skip_serializing_if = "Option::is_none")]
    pub sns_topic_arns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_on_ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_on_resolve: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for ChannelOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ChannelOptions")
            .field("email_recipients", &self.email_recipients)
            .field("sns_topic_arns", &self.sns_topic_arns)
            .field("url", &hidden(&self.url))
            .field("channel", &self.channel)
            .field("account", &self.account)
            .field("service_key", &hidden(&self.service_key))
            .field("service_name", &self.service_name)
            .field("api_key", &hidden(&self.api_key))
            .field("routing_key", &hidden(&self.routing_key))
            .field("notify_on_ok", &self.notify_on_ok)
            .field("notify_on_resolve", &self.notify_on_resolve)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Channel {
    fn of(kind: ChannelKind, name: impl Into<String>, options: ChannelOptions) -> Self {
        Self {
            kind,
            name: name.into(),
            enabled: Some(true),
            options,
            ..Self::default()
        }
    }

    /// An `EMAIL` channel (sdcclient's `create_email_notification_channel`).
    pub fn email<S: Into<String>>(
        name: impl Into<String>,
        recipients: impl IntoIterator<Item = S>,
    ) -> Self {
        Self::of(
            ChannelKind::Email,
            name,
            ChannelOptions {
                email_recipients: Some(recipients.into_iter().map(Into::into).collect()),
                ..Default::default()
            },
        )
    }

    /// A `WEBHOOK` channel posting to `url`.
    pub fn webhook(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::of(
            ChannelKind::Webhook,
            name,
            ChannelOptions {
                url: Some(url.into()),
                ..Default::default()
            },
        )
    }

    /// A `SLACK` channel: incoming-webhook `url`, optional `#channel`.
    pub fn slack(name: impl Into<String>, url: impl Into<String>, channel: Option<String>) -> Self {
        Self::of(
            ChannelKind::Slack,
            name,
            ChannelOptions {
                url: Some(url.into()),
                channel,
                ..Default::default()
            },
        )
    }

    /// A `PAGER_DUTY` channel.
    pub fn pagerduty(
        name: impl Into<String>,
        account: impl Into<String>,
        service_key: impl Into<String>,
        service_name: impl Into<String>,
    ) -> Self {
        Self::of(
            ChannelKind::PagerDuty,
            name,
            ChannelOptions {
                account: Some(account.into()),
                service_key: Some(service_key.into()),
                service_name: Some(service_name.into()),
                notify_on_ok: Some(true),
                notify_on_resolve: Some(true),
                ..Default::default()
            },
        )
    }

    /// An `SNS` channel.
    pub fn sns<S: Into<String>>(
        name: impl Into<String>,
        topics: impl IntoIterator<Item = S>,
    ) -> Self {
        Self::of(
            ChannelKind::Sns,
            name,
            ChannelOptions {
                sns_topic_arns: Some(topics.into_iter().map(Into::into).collect()),
                ..Default::default()
            },
        )
    }

    /// An `OPSGENIE` channel.
    pub fn opsgenie(name: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::of(
            ChannelKind::Opsgenie,
            name,
            ChannelOptions {
                api_key: Some(api_key.into()),
                ..Default::default()
            },
        )
    }

    /// A `VICTOROPS` channel.
    pub fn victorops(
        name: impl Into<String>,
        api_key: impl Into<String>,
        routing_key: impl Into<String>,
    ) -> Self {
        Self::of(
            ChannelKind::VictorOps,
            name,
            ChannelOptions {
                api_key: Some(api_key.into()),
                routing_key: Some(routing_key.into()),
                ..Default::default()
            },
        )
    }

    /// Whether `self`, a wanted channel, names `existing` by sdcclient's
    /// `get_notification_ids` rules: SNS by topic set, EMAIL by recipient set (else name),
    /// PAGER_DUTY by account and service name, the others by name.
    pub fn matches(&self, existing: &Channel) -> bool {
        if self.kind != existing.kind {
            return false;
        }
        let set =
            |v: &Option<Vec<String>>| -> BTreeSet<String> { v.iter().flatten().cloned().collect() };
        match self.kind {
            ChannelKind::Sns => {
                set(&self.options.sns_topic_arns) == set(&existing.options.sns_topic_arns)
            }
            ChannelKind::Email if self.options.email_recipients.is_some() => {
                set(&self.options.email_recipients) == set(&existing.options.email_recipients)
            }
            ChannelKind::PagerDuty => {
                self.options.account == existing.options.account
                    && self.options.service_name == existing.options.service_name
            }
            _ => self.name == existing.name,
        }
    }
}

pub fn list() -> Op<Vec<Channel>> {
    Op::get("/api/notificationChannels").envelope("notificationChannels")
}

pub fn get(id: u64) -> Op<Channel> {
    Op::get(format!("/api/notificationChannels/{id}")).envelope("notificationChannel")
}

/// `POST /api/notificationChannels`; `id`, `version`, `createdOn`, `modifiedOn` are the
/// server's (sdcclient nulls them, here they are left out).
///
/// # Errors
/// A body that does not serialize.
pub fn create(c: &Channel) -> Result<Op<Channel>> {
    Op::new(Method::POST, "/api/notificationChannels").enveloped_new(
        "notificationChannel",
        c,
        &["id", "version", "createdOn", "modifiedOn"],
    )
}

/// `PUT /api/notificationChannels/{id}`.
///
/// # Errors
/// `Invalid channel format` without an id.
pub fn update(c: &Channel) -> Result<Op<Channel>> {
    Op::put_existing("/api/notificationChannels", c.id, "channel")?
        .enveloped("notificationChannel", c)
}

pub fn delete(id: u64) -> Op<()> {
    Op::delete(format!("/api/notificationChannels/{id}"))
}

/// Channel calls: `client.channels()`.
#[derive(Clone, Copy, Debug)]
pub struct Channels<'a>(pub(crate) &'a Client);

impl Channels<'_> {
    send_ops! {
        fn list() -> Vec<Channel> = list();
        fn get(id: u64) -> Channel = get(id);
        fn create(c: &Channel) -> Channel = create(c)?;
        /// # Errors
        /// As [`Client::send`] (stale `version` → 409).
        fn update(c: &Channel) -> Channel = update(c)?;
        fn delete(id: u64) -> () = delete(id);
    }

    /// The ids of the wanted channels (all ids for `None`), as sdcclient's
    /// `get_notification_ids`, with [`Channel::matches`].
    ///
    /// # Errors
    /// `Channel not found: <channel as JSON>`, or as [`Client::send`].
    pub async fn ids(&self, wanted: Option<&[Channel]>) -> Result<Vec<u64>> {
        let all = self.list().await?;
        let Some(wanted) = wanted else {
            return Ok(all.iter().filter_map(|c| c.id).collect());
        };
        wanted
            .iter()
            .map(|w| {
                all.iter()
                    .find(|c| w.matches(c))
                    .and_then(|c| c.id)
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "Channel not found: {}",
                            serde_json::to_string(w).unwrap_or_default()
                        ))
                    })
            })
            .collect()
    }
}

impl Client {
    /// Notification channels of the caller's team.
    pub fn channels(&self) -> Channels<'_> {
        Channels(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_keys_and_webhook_urls() {
        let mut slack = Channel::slack("s", "https://hooks.slack.com/T000/SECRET-HOOK", None);
        slack
            .options
            .extra
            .insert("password".into(), "SECRET-PW".into());
        let shown = format!(
            "{:?} {:?} {:?}",
            slack,
            Channel::opsgenie("o", "SECRET-API-KEY"),
            Channel::webhook("w", "https://user:SECRET@example.com/hook"),
        );
        for secret in ["SECRET-HOOK", "SECRET-PW", "SECRET-API-KEY", "user:SECRET"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("<redacted>") && shown.contains("password"),
            "{shown}"
        );
    }
}
