//! Monasca notification methods: the requests monasca-notification's plugins make for an
//! alarm transition (`AlarmTransitionedEvent`), field for field.

use monasca::types::{AlarmState, AlarmTransitionedEvent};
use serde_json::{Map, Value, json};

use super::{
    Accepts, EmailRequest, HttpRequest, JiraRequest, Request, Unsendable, pyjson, tenant_url,
};
use crate::NotifySettings;
use config_repo::outbox::Receiver;

/// What PagerDuty's Events v1 API answers on success.
const PAGERDUTY_OK: &[u16] = &[200, 201, 204];

/// The request for Monasca method `receiver` and transition `event`.
///
/// # Errors
/// The type is not served (or not configured), or the event is not a transition.
pub fn build(
    receiver: &Receiver,
    event: &Value,
    settings: &NotifySettings,
) -> Result<Request, Unsendable> {
    let ev: AlarmTransitionedEvent = serde_json::from_value(event.clone())
        .map_err(|e| Unsendable(format!("the queued event is not an alarm transition: {e}")))?;
    match receiver.kind.as_str() {
        "WEBHOOK" => Ok(Request::Http(HttpRequest {
            url: tenant_url(&receiver.address, "webhook address")?,
            tenant_url: true,
            headers: Vec::new(),
            body: webhook_body(&ev),
            accepts: Accepts::Success,
        })),
        "PAGERDUTY" => Ok(Request::Http(HttpRequest {
            url: url::Url::parse(&settings.pagerduty_url)
                .map_err(|e| Unsendable(format!("pagerduty_url is not a valid URL: {e}")))?,
            tenant_url: false,
            headers: Vec::new(),
            body: pagerduty_body(&receiver.address, &ev),
            accepts: Accepts::Statuses(PAGERDUTY_OK),
        })),
        "SLACK" => Ok(Request::Http(HttpRequest {
            // A channel name's `#` would start a fragment: upstream sends it escaped.
            url: tenant_url(&receiver.address.replace('#', "%23"), "Slack address")?,
            tenant_url: true,
            headers: Vec::new(),
            body: json!({ "text": pyjson::dumps_indent3(&webhook_body(&ev)) }),
            accepts: Accepts::Slack,
        })),
        "EMAIL" => match &settings.email {
            Some(email) => Ok(Request::Email(email_message(
                &receiver.address,
                &ev,
                email.grafana_url.as_deref(),
            ))),
            None => Err(Unsendable(
                "EMAIL is not served: no SMTP server is configured ([notifications.email])".into(),
            )),
        },
        "JIRA" => match &settings.jira {
            Some(_) => jira_request(&receiver.address, &ev).map(Request::Jira),
            None => Err(Unsendable(
                "JIRA is not served: no Jira account is configured ([notifications.jira])".into(),
            )),
        },
        other => Err(Unsendable(format!(
            "notification type {other} is not served by this server"
        ))),
    }
}

/// The document upstream's webhook plugin posts (and Slack and Jira quote).
pub fn webhook_body(ev: &AlarmTransitionedEvent) -> Value {
    json!({
        "alarm_id": ev.alarm_id,
        "alarm_definition_id": ev.alarm_definition_id,
        "alarm_name": ev.alarm_name,
        "alarm_description": ev.alarm_description,
        "alarm_timestamp": alarm_seconds(ev),
        "state": ev.new_state,
        "old_state": ev.old_state,
        "message": ev.state_change_reason,
        "tenant_id": ev.tenant_id,
        "metrics": ev.metrics,
    })
}

/// The event's time in whole seconds (upstream truncates the milliseconds).
fn alarm_seconds(ev: &AlarmTransitionedEvent) -> i64 {
    ev.timestamp.div_euclid(1000)
}

/// Upstream's Events v1 request, plus an `incident_key` (the alarm id) so that — unlike
/// upstream, which only ever triggers — a transition to OK resolves the incident it opened.
pub fn pagerduty_body(service_key: &str, ev: &AlarmTransitionedEvent) -> Value {
    let event_type = if ev.new_state == AlarmState::Ok {
        "resolve"
    } else {
        "trigger"
    };
    json!({
        "service_key": service_key,
        "event_type": event_type,
        "incident_key": ev.alarm_id,
        "description": ev.state_change_reason,
        "client": "Monasca",
        "client_url": "",
        "details": {
            "alarm_id": ev.alarm_id,
            "alarm_name": ev.alarm_name,
            "current": ev.new_state,
            "message": ev.state_change_reason,
        },
    })
}

/// Python's rendering of an optional string in upstream's templates.
fn or_none(v: Option<&str>) -> &str {
    v.unwrap_or("None")
}

/// Upstream's e-mail: one of three texts depending on how many hosts (`hostname`) and
/// targets (`target_host`) the alarm's metrics name.
pub fn email_message(to: &str, ev: &AlarmTransitionedEvent, grafana: Option<&str>) -> EmailRequest {
    let mut hosts: Vec<&str> = Vec::new();
    let mut targets: Vec<&str> = Vec::new();
    for m in &ev.metrics {
        if let Some(h) = m.dimensions.get("hostname")
            && !hosts.contains(&h.as_str())
        {
            hosts.push(h);
        }
        if let Some(t) = m.dimensions.get("target_host")
            && !targets.contains(&t.as_str())
        {
            targets.push(t);
        }
    }
    let seconds = alarm_seconds(ev);
    let when = asctime_utc(seconds);
    let grafana_link = grafana.and_then(|g| grafana_url(g, ev, seconds.saturating_mul(1000)));
    let message = ev.state_change_reason.to_lowercase();
    let (state, severity, name, id) = (
        ev.new_state.as_str(),
        ev.severity.as_str(),
        &ev.alarm_name,
        &ev.alarm_id,
    );
    let footer = format!(
        "Lifecycle state: {}\nLink: {}\nLink to Grafana: {}\n\n",
        or_none(ev.lifecycle_state.as_deref()),
        or_none(ev.link.as_deref()),
        or_none(grafana_link.as_deref()),
    );
    let dims = dimensions_block(ev);
    let transitioned = format!("Alarm \"{name}\" transitioned to the {state} state at {when} UTC");
    let (subject, body) = match (hosts.as_slice(), targets.first()) {
        ([host], Some(target)) => (
            format!("{state} {severity} \"{name}\" for Host: {host} Target: {target}"),
            format!(
                "On host \"{host}\" for target \"{target}\" {message}\n\n{transitioned}\n\
                 alarm_id: {id}\n\n{footer}With dimensions:\n{dims}"
            ),
        ),
        ([host], None) => (
            format!("{state} {severity} \"{name}\" for Host: {host}"),
            format!(
                "On host \"{host}\" {message}\n\n{transitioned}\nalarm_id: {id}\n\n{footer}\
                 With dimensions:\n{dims}"
            ),
        ),
        _ => (
            format!("{state} {severity} \"{name}\" "),
            format!(
                "On multiple hosts {message}\n\n{transitioned}\nAlarm_id: {id}\n\n{footer}\
                 With dimensions\n{dims}"
            ),
        ),
    };
    EmailRequest {
        to: vec![to.trim().to_string()],
        subject,
        body,
    }
}

/// `time.asctime` of a UTC time: `Fri Dec  4 14:54:55 2026`.
pub fn asctime_utc(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

/// Upstream's drill-down link: the first metric, ten minutes either side of the alarm.
fn grafana_url(base: &str, ev: &AlarmTransitionedEvent, at_ms: i64) -> Option<String> {
    let metric = ev.metrics.first()?;
    let mut url = format!(
        "{base}/dashboard/script/drilldown.js?metric={}",
        metric.name
    );
    for (k, v) in &metric.dimensions {
        url.push_str(&format!("&{k}={v}"));
    }
    url.push_str(&format!(
        "&from={}&to={}",
        at_ms.saturating_sub(600_000),
        at_ms.saturating_add(600_000)
    ));
    Some(url)
}

/// The metrics' dimensions as upstream lays them out in the mail.
fn dimensions_block(ev: &AlarmTransitionedEvent) -> String {
    let sets: Vec<String> = ev
        .metrics
        .iter()
        .map(|m| {
            let pairs: Vec<String> = m
                .dimensions
                .iter()
                .map(|(k, v)| format!("    {k}: {v}"))
                .collect();
            format!("  {{\n{}\n  }}", pairs.join(",\n"))
        })
        .collect();
    format!("[\n{} \n]", sets.join(",\n"))
}

/// Upstream's Jira issue: project (and component) from the address's query, the alarm's
/// webhook document as a comment.
///
/// # Errors
/// The address is not a URL or names no project.
pub fn jira_request(address: &str, ev: &AlarmTransitionedEvent) -> Result<JiraRequest, Unsendable> {
    let url = tenant_url(address, "Jira address")?;
    let query: Map<String, Value> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let get = |k: &str| query.get(k).and_then(Value::as_str).map(str::to_string);
    let project = get("project").ok_or_else(|| {
        Unsendable(
            "the Jira address names no project (https://jira.example.com/?project=KEY)".into(),
        )
    })?;
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    Ok(JiraRequest {
        base,
        project,
        component: get("component"),
        summary: format!(
            "Monasca alarm for alarm_defintion {} status changed to {} for the alarm_id {}",
            ev.alarm_name, ev.new_state, ev.alarm_id
        ),
        description: "Monasca alarm".into(),
        comment: format!(
            "{{code}}{}{{code}}",
            pyjson::dumps_indent3(&webhook_body(ev))
        ),
        alarm_id: ev.alarm_id.clone(),
    })
}

#[cfg(test)]
#[path = "monasca_tests.rs"]
mod tests;
