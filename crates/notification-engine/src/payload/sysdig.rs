//! Sysdig notification channels: the request each channel type gets for an alert
//! notification.
//!
//! The queued event is `{"notification": N, "alert": A}`: `N` is the notification record
//! (`id`, `state` `ACTIVE`|`OK`, `resolved`, `timestamp` in µs, `entities`, …) and `A` the alert
//! as the API shows it (`id`, `name`, `description`, `severity` 0–7, `timespan` µs,
//! `condition`, `filter`, …). The receiver's `options` are the channel's options.

use serde_json::{Map, Value, json};

use super::{Accepts, EmailRequest, HttpRequest, Request, Unsendable, tenant_url};
use crate::NotifySettings;
use config_repo::outbox::Receiver;

/// The fields of a Sysdig event the payloads use.
#[derive(Debug, Clone)]
pub struct AlertEvent {
    pub alert_id: Value,
    pub name: String,
    pub description: String,
    pub severity: i64,
    pub timespan: Value,
    pub condition: String,
    pub scope: String,
    pub event_id: Value,
    /// `ACTIVE` or `OK`.
    pub state: String,
    pub resolved: bool,
    pub timestamp_us: i64,
    pub entities: Value,
    pub edit_url: Option<String>,
    pub event_url: Option<String>,
}

impl AlertEvent {
    /// Reads `event` (see the module docs); missing fields read as empty.
    ///
    /// # Errors
    /// `event` has no `alert` or no `notification` object.
    pub fn parse(event: &Value, public_url: Option<&str>) -> Result<Self, Unsendable> {
        let (Some(n), Some(a)) = (
            event.get("notification").and_then(Value::as_object),
            event.get("alert").and_then(Value::as_object),
        ) else {
            return Err(Unsendable(
                "the queued event is not a Sysdig alert notification".into(),
            ));
        };
        let text = |o: &Map<String, Value>, k: &str| {
            o.get(k).and_then(Value::as_str).unwrap_or("").to_string()
        };
        let alert_id = a
            .get("id")
            .or_else(|| n.get("alert"))
            .cloned()
            .unwrap_or(Value::Null);
        let event_id = n.get("id").cloned().unwrap_or(Value::Null);
        let base = public_url.map(|u| u.trim_end_matches('/').to_string());
        let shown = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok(Self {
            edit_url: base
                .as_ref()
                .map(|b| format!("{b}/#/alerts/{}", shown(&alert_id))),
            event_url: base.as_ref().map(|b| {
                format!(
                    "{b}/#/events/notifications/l:604800/{}/details",
                    shown(&event_id)
                )
            }),
            name: text(a, "name"),
            description: text(a, "description"),
            severity: a
                .get("severity")
                .or_else(|| n.get("severity"))
                .and_then(Value::as_i64)
                .unwrap_or(4),
            timespan: a
                .get("timespan")
                .or_else(|| n.get("timespan"))
                .cloned()
                .unwrap_or(Value::Null),
            condition: text(a, "condition"),
            scope: text(a, "filter"),
            state: match text(n, "state").as_str() {
                "" => "ACTIVE".into(),
                s => s.to_string(),
            },
            resolved: n.get("resolved").and_then(Value::as_bool).unwrap_or(false),
            timestamp_us: n.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
            entities: n.get("entities").cloned().unwrap_or_else(|| json!([])),
            alert_id,
            event_id,
        })
    }

    fn active(&self) -> bool {
        self.state != "OK"
    }

    fn seconds(&self) -> i64 {
        self.timestamp_us.div_euclid(1_000_000)
    }

    /// `HIGH`, `MEDIUM`, `LOW` or `INFO`, as Sysdig labels severities 0–7.
    pub fn severity_label(&self) -> &'static str {
        match self.severity {
            ..=1 => "HIGH",
            2..=3 => "MEDIUM",
            4..=5 => "LOW",
            _ => "INFO",
        }
    }

    /// Stable per alert, so a resolve closes what the trigger opened.
    fn incident_key(&self) -> String {
        format!("sysdig-alert-{}", plain(&self.alert_id))
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn option<'a>(receiver: &'a Receiver, key: &str) -> Option<&'a str> {
    receiver
        .options
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn required<'a>(receiver: &'a Receiver, key: &str) -> Result<&'a str, Unsendable> {
    option(receiver, key)
        .ok_or_else(|| Unsendable(format!("the {} channel has no {key} option", receiver.kind)))
}

fn operator_url(text: &str, setting: &str) -> Result<url::Url, Unsendable> {
    url::Url::parse(text).map_err(|e| Unsendable(format!("{setting} is not a valid URL: {e}")))
}

/// The request for Sysdig channel `receiver` and notification `event`.
///
/// # Errors
/// The channel type is not served, or its options or the event cannot be used.
pub fn build(
    receiver: &Receiver,
    event: &Value,
    settings: &NotifySettings,
) -> Result<Request, Unsendable> {
    let ev = AlertEvent::parse(event, settings.public_url.as_deref())?;
    let post = |url, tenant_url, headers, body, accepts| {
        Ok(Request::Http(HttpRequest {
            url,
            tenant_url,
            headers,
            body,
            accepts,
        }))
    };
    match receiver.kind.as_str() {
        "WEBHOOK" => {
            let url = tenant_url(required(receiver, "url")?, "webhook url")?;
            let headers = receiver
                .options
                .get("additionalHeaders")
                .and_then(Value::as_object)
                .map(|h| h.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
                .unwrap_or_default();
            let custom = receiver
                .options
                .get("customData")
                .and_then(Value::as_object);
            post(
                url,
                true,
                headers,
                webhook_body(&ev, custom),
                Accepts::Success,
            )
        }
        "SLACK" => {
            let url = tenant_url(required(receiver, "url")?, "Slack url")?;
            post(
                url,
                true,
                Vec::new(),
                slack_body(&ev, option(receiver, "channel")),
                Accepts::Slack,
            )
        }
        "MS_TEAMS" => {
            let url = tenant_url(required(receiver, "url")?, "Teams url")?;
            post(url, true, Vec::new(), teams_card(&ev), Accepts::Success)
        }
        "PAGER_DUTY" => {
            let key = required(receiver, "serviceKey")?;
            let url = operator_url(&settings.pagerduty_url, "pagerduty_url")?;
            post(
                url,
                false,
                Vec::new(),
                pagerduty_body(&ev, key),
                Accepts::Statuses(&[200, 201, 204]),
            )
        }
        "OPSGENIE" => {
            let key = required(receiver, "apiKey")?;
            let (url, body) = opsgenie(&ev, &settings.opsgenie_url)?;
            let auth = vec![("Authorization".to_string(), format!("GenieKey {key}"))];
            post(url, false, auth, body, Accepts::Success)
        }
        "VICTOROPS" => {
            let key = required(receiver, "apiKey")?;
            let routing = required(receiver, "routingKey")?;
            let mut url = operator_url(&settings.victorops_url, "victorops_url")?;
            url.path_segments_mut()
                .map_err(|()| Unsendable("victorops_url cannot take a path".into()))?
                .pop_if_empty()
                .push(key)
                .push(routing);
            post(
                url,
                false,
                Vec::new(),
                victorops_body(&ev),
                Accepts::Success,
            )
        }
        "EMAIL" => {
            if settings.email.is_none() {
                return Err(Unsendable(
                    "EMAIL is not served: no SMTP server is configured ([notifications.email])"
                        .into(),
                ));
            }
            let to: Vec<String> = receiver
                .options
                .get("emailRecipients")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if to.is_empty() {
                return Err(Unsendable(
                    "the EMAIL channel has no emailRecipients".into(),
                ));
            }
            Ok(Request::Email(email_message(to, &ev)))
        }
        "SNS" => Err(Unsendable(
            "SNS is not served: publishing to AWS SNS needs AWS credentials and request signing, \
             which this server does not have"
                .into(),
        )),
        other => Err(Unsendable(format!(
            "channel type {other} is not served by this server"
        ))),
    }
}

/// Sysdig's webhook document, with the channel's `customData` merged in at the top level.
pub fn webhook_body(ev: &AlertEvent, custom: Option<&Map<String, Value>>) -> Value {
    let mut body = json!({
        "timestamp": ev.timestamp_us,
        "timespan": ev.timespan,
        "alert": {
            "severity": ev.severity,
            "editUrl": ev.edit_url,
            "scope": ev.scope,
            "name": ev.name,
            "description": ev.description,
            "id": ev.alert_id,
        },
        "event": { "id": ev.event_id, "url": ev.event_url },
        "state": ev.state,
        "resolved": ev.resolved,
        "entities": ev.entities,
        "condition": ev.condition,
        "source": "Sysdig Cloud",
    });
    if let (Some(obj), Some(custom)) = (body.as_object_mut(), custom) {
        for (k, v) in custom {
            obj.insert(k.clone(), v.clone());
        }
    }
    body
}

/// One line per metric value of the event's entities: `cpu.used.percent (avg) = 93.2`.
fn values_text(ev: &AlertEvent) -> Vec<String> {
    let mut lines = Vec::new();
    for entity in ev.entities.as_array().into_iter().flatten() {
        let scope = entity.get("entity").and_then(Value::as_str).unwrap_or("");
        for mv in entity
            .get("metricValues")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let metric = mv.get("metric").and_then(Value::as_str).unwrap_or("?");
            let agg = mv.get("aggregation").and_then(Value::as_str).unwrap_or("");
            let value = mv.get("value").map(plain).unwrap_or_default();
            let at = if scope.is_empty() {
                String::new()
            } else {
                format!(" on {scope}")
            };
            lines.push(format!("{metric} ({agg}) = {value}{at}"));
        }
    }
    lines
}

fn title(ev: &AlertEvent) -> String {
    if ev.active() {
        format!("[{}] {} is triggered", ev.severity_label(), ev.name)
    } else {
        format!("[{}] {} is resolved", ev.severity_label(), ev.name)
    }
}

/// An incoming-webhook message with one attachment, red while active, green when OK.
pub fn slack_body(ev: &AlertEvent, channel: Option<&str>) -> Value {
    let mut fields = vec![
        json!({"title": "Condition", "value": ev.condition, "short": false}),
        json!({"title": "State", "value": ev.state, "short": true}),
        json!({"title": "Severity", "value": ev.severity_label(), "short": true}),
    ];
    if !ev.scope.is_empty() {
        fields.push(json!({"title": "Scope", "value": ev.scope, "short": false}));
    }
    let values = values_text(ev);
    if !values.is_empty() {
        fields.push(json!({"title": "Values", "value": values.join("\n"), "short": false}));
    }
    let mut body = json!({
        "text": title(ev),
        "attachments": [{
            "color": if ev.active() { "danger" } else { "good" },
            "title": ev.name,
            "title_link": ev.edit_url,
            "text": ev.description,
            "fields": fields,
            "ts": ev.seconds(),
        }],
    });
    if let (Some(c), Some(obj)) = (channel, body.as_object_mut()) {
        obj.insert("channel".into(), c.into());
    }
    body
}

/// An Office 365 connector MessageCard.
pub fn teams_card(ev: &AlertEvent) -> Value {
    let mut facts = vec![
        json!({"name": "State", "value": ev.state}),
        json!({"name": "Severity", "value": ev.severity_label()}),
        json!({"name": "Condition", "value": ev.condition}),
    ];
    if !ev.scope.is_empty() {
        facts.push(json!({"name": "Scope", "value": ev.scope}));
    }
    for v in values_text(ev) {
        facts.push(json!({"name": "Value", "value": v}));
    }
    let mut card = json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": if ev.active() { "D9534F" } else { "5CB85C" },
        "summary": title(ev),
        "title": title(ev),
        "sections": [{"text": ev.description, "facts": facts}],
    });
    if let (Some(url), Some(obj)) = (&ev.edit_url, card.as_object_mut()) {
        obj.insert(
            "potentialAction".into(),
            json!([{"@type": "OpenUri", "name": "Open the alert",
                    "targets": [{"os": "default", "uri": url}]}]),
        );
    }
    card
}

/// PagerDuty Events v1: trigger while active, resolve on OK, keyed by the alert.
pub fn pagerduty_body(ev: &AlertEvent, service_key: &str) -> Value {
    json!({
        "service_key": service_key,
        "event_type": if ev.active() { "trigger" } else { "resolve" },
        "incident_key": ev.incident_key(),
        "description": title(ev),
        "client": "Sysdig Monitor",
        "client_url": ev.edit_url.clone().unwrap_or_default(),
        "details": {
            "alert_id": ev.alert_id,
            "condition": ev.condition,
            "scope": ev.scope,
            "state": ev.state,
            "values": values_text(ev),
        },
    })
}

/// OpsGenie Alert API: create by alias while active, close by the same alias on OK.
///
/// # Errors
/// `opsgenie_url` is not a URL.
pub fn opsgenie(ev: &AlertEvent, base: &str) -> Result<(url::Url, Value), Unsendable> {
    let mut url = operator_url(base, "opsgenie_url")?;
    let alias = ev.incident_key();
    if ev.active() {
        let priority = match ev.severity {
            ..=1 => "P1",
            2..=3 => "P2",
            4..=5 => "P3",
            6 => "P4",
            _ => "P5",
        };
        let message: String = ev.name.chars().take(130).collect();
        let body = json!({
            "message": message,
            "alias": alias,
            "description": ev.description,
            "priority": priority,
            "source": "Sysdig Monitor",
            "details": {"condition": ev.condition, "scope": ev.scope,
                        "values": values_text(ev).join("; ")},
        });
        Ok((url, body))
    } else {
        url.path_segments_mut()
            .map_err(|()| Unsendable("opsgenie_url cannot take a path".into()))?
            .pop_if_empty()
            .push(&alias)
            .push("close");
        url.query_pairs_mut().append_pair("identifierType", "alias");
        Ok((url, json!({"source": "Sysdig Monitor", "note": title(ev)})))
    }
}

/// VictorOps REST integration: CRITICAL while active, RECOVERY on OK, one entity per alert.
pub fn victorops_body(ev: &AlertEvent) -> Value {
    json!({
        "message_type": if ev.active() { "CRITICAL" } else { "RECOVERY" },
        "entity_id": ev.incident_key(),
        "entity_display_name": ev.name,
        "state_message": format!("{}\n{}\n{}", title(ev), ev.condition, values_text(ev).join("\n")),
        "state_start_time": ev.seconds(),
        "monitoring_tool": "Sysdig Monitor",
    })
}

/// One message to all the channel's recipients.
pub fn email_message(to: Vec<String>, ev: &AlertEvent) -> EmailRequest {
    let when = jiff::Timestamp::from_microsecond(ev.timestamp_us)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let mut body = format!(
        "{}\n\nAlert: {}\nDescription: {}\nState: {}\nSeverity: {} ({})\nCondition: {}\n",
        title(ev),
        ev.name,
        ev.description,
        ev.state,
        ev.severity_label(),
        ev.severity,
        ev.condition,
    );
    if !ev.scope.is_empty() {
        body.push_str(&format!("Scope: {}\n", ev.scope));
    }
    body.push_str(&format!("Time: {when}\n"));
    let values = values_text(ev);
    if !values.is_empty() {
        body.push_str("\nValues:\n");
        for v in values {
            body.push_str(&format!("  {v}\n"));
        }
    }
    if let Some(url) = &ev.edit_url {
        body.push_str(&format!("\nAlert: {url}\n"));
    }
    EmailRequest {
        to,
        subject: title(ev),
        body,
    }
}

#[cfg(test)]
#[path = "sysdig_tests.rs"]
mod tests;
