//! Alerts (`/api/alerts`) and their notifications (`/api/notifications`).
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::alerts::Alert;
//! let a = Alert::manual("cpu busy", "avg(cpu.used.percent) > 80").severity(2).for_at_least_s(600);
//! let a = client.alerts().create(&a).await?;
//! let recent = client.alerts().notifications(1_700_000_000, 1_700_003_600).state("ACTIVE").send().await?;
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Error, Result,
    request::{Endpoint, Op, send_ops},
};

wire_names! {
    /// The `type` of an alert.
    AlertKind {
        Manual = "MANUAL",
        Prometheus = "PROMETHEUS",
        Baseline = "BASELINE",
        HostComparison = "HOST_COMPARISON",
    }
}

/// An alert. Fields the client does not model stay in `extra` and go back unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Alert {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(rename = "type")]
    pub kind: AlertKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// 0 (highest) to 7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    /// Server-derived: HIGH, MEDIUM, LOW, INFO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity_label: Option<String>,
    /// Microseconds the condition must hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timespan: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_by: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_condition: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_channel_ids: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Alert {
    /// A `MANUAL` alert, enabled, with sdcclient's defaults (`filter` empty).
    pub fn manual(name: impl Into<String>, condition: impl Into<String>) -> Self {
        Self {
            kind: AlertKind::Manual,
            name: name.into(),
            description: Some(String::new()),
            enabled: Some(true),
            severity: Some(6),
            timespan: Some(60_000_000),
            condition: Some(condition.into()),
            filter: Some(String::new()),
            ..Self::default()
        }
    }
    pub fn description(mut self, s: impl Into<String>) -> Self {
        self.description = Some(s.into());
        self
    }
    pub fn severity(mut self, s: u8) -> Self {
        self.severity = Some(s);
        self
    }
    /// sdcclient's `for_atleast_s`: sent as `timespan` in microseconds.
    pub fn for_at_least_s(mut self, s: u64) -> Self {
        self.timespan = Some(s.saturating_mul(1_000_000));
        self
    }
    pub fn filter(mut self, s: impl Into<String>) -> Self {
        self.filter = Some(s.into());
        self
    }
    pub fn enabled(mut self, yes: bool) -> Self {
        self.enabled = Some(yes);
        self
    }
    /// Segments (`segmentBy`) with a segment condition (`ANY` or `ALL`).
    pub fn segment_by(mut self, by: Vec<String>, condition: &str) -> Self {
        if !by.is_empty() {
            self.segment_by = Some(by);
            self.segment_condition = Some(serde_json::json!({ "type": condition }));
        }
        self
    }
    pub fn notify(mut self, channel_ids: Vec<u64>) -> Self {
        self.notification_channel_ids = Some(channel_ids);
        self
    }
}

pub fn list() -> Op<Vec<Alert>> {
    Op::get("/api/alerts").envelope("alerts")
}

pub fn get(id: u64) -> Op<Alert> {
    Op::get(format!("/api/alerts/{id}")).envelope("alert")
}

/// `POST /api/alerts`, without `id` and `version` (the server assigns them).
///
/// # Errors
/// sdcclient's message when name or condition is missing.
pub fn create(a: &Alert) -> Result<Op<Alert>> {
    if a.name.is_empty() || (a.condition.is_none() && a.kind == AlertKind::Manual) {
        return Err(Error::Invalid(
            "Must specify a full Alert object or all parameters: name, description, severity, for_atleast_s, condition".into(),
        ));
    }
    Op::new(Method::POST, "/api/alerts").enveloped_new(
        "alert",
        a,
        &["id", "version", "createdOn", "modifiedOn"],
    )
}

/// `PUT /api/alerts/{id}` (with the current `version`).
///
/// # Errors
/// `Invalid alert format` without an id.
pub fn update(a: &Alert) -> Result<Op<Alert>> {
    Op::put_existing("/api/alerts", a.id, "alert")?.enveloped("alert", a)
}

pub fn delete(id: u64) -> Op<()> {
    Op::delete(format!("/api/alerts/{id}"))
}

/// An alert notification (one firing or resolution of an alert).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Notification {
    pub id: u64,
    /// `ACTIVE` or `OK`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Notification {
    /// The segments (`entities[].entity`, `host.hostName = 'web-1'`) the notification is
    /// about, joined by `; `; `None` for an alert without `segmentBy`.
    pub fn segment(&self) -> Option<String> {
        let names: Vec<&str> = self
            .extra
            .get("entities")?
            .as_array()?
            .iter()
            .filter_map(|e| e.get("entity")?.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        (!names.is_empty()).then(|| names.join("; "))
    }
}

/// `GET /api/notifications?from=<µs>&to=<µs>[&state=][&resolved=True|False]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListNotifications {
    /// Seconds since the epoch.
    pub from_s: i64,
    pub to_s: i64,
    pub state: Option<String>,
    pub resolved: Option<bool>,
}

impl ListNotifications {
    /// Notifications between two times in seconds since the epoch.
    pub fn new(from_s: i64, to_s: i64) -> Self {
        Self {
            from_s,
            to_s,
            ..Self::default()
        }
    }
    /// `ACTIVE` or `OK`.
    pub fn state(mut self, s: impl Into<String>) -> Self {
        self.state = Some(s.into());
        self
    }
    pub fn resolved(mut self, r: bool) -> Self {
        self.resolved = Some(r);
        self
    }
}

impl Endpoint for ListNotifications {
    type Output = Vec<Notification>;
    fn path(&self) -> String {
        "/api/notifications".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("from", (self.from_s.saturating_mul(1_000_000)).to_string()),
            ("to", (self.to_s.saturating_mul(1_000_000)).to_string()),
        ];
        if let Some(s) = &self.state {
            q.push(("state", s.clone()));
        }
        if let Some(r) = self.resolved {
            // Python's str(bool), as sdcclient sends it.
            q.push(("resolved", if r { "True" } else { "False" }.into()));
        }
        q
    }
    fn envelope(&self) -> Option<&'static str> {
        Some("notifications")
    }
}

/// `PUT /api/notifications/{id}` with `resolved` set.
///
/// # Errors
/// A body that does not serialize.
pub fn set_resolved(n: &Notification, resolved: bool) -> Result<Op<Notification>> {
    let mut n = n.clone();
    n.resolved = Some(resolved);
    Op::new(Method::PUT, format!("/api/notifications/{}", n.id)).enveloped("notification", &n)
}

/// Alert calls: `client.alerts()`.
#[derive(Clone, Copy, Debug)]
pub struct Alerts<'a>(&'a Client);

impl<'a> Alerts<'a> {
    send_ops! {
        fn list() -> Vec<Alert> = list();
        fn get(id: u64) -> Alert = get(id);
        /// # Errors
        /// As [`create`] and [`Client::send`] (unknown channel ids → 422).
        fn create(a: &Alert) -> Alert = create(a)?;
        /// # Errors
        /// As [`Client::send`] (stale `version` → 409).
        fn update(a: &Alert) -> Alert = update(a)?;
        fn delete(id: u64) -> () = delete(id);
    }

    /// Alert notifications between two times (seconds); finish with `.send()`.
    pub fn notifications(&self, from_s: i64, to_s: i64) -> NotificationsCall<'a> {
        NotificationsCall {
            client: self.0,
            op: ListNotifications::new(from_s, to_s),
        }
    }

    send_ops! {
        /// Marks a notification resolved or not.
        ///
        /// # Errors
        /// As [`Client::send`].
        fn set_resolved(n: &Notification, resolved: bool) -> Notification =
            set_resolved(n, resolved)?;
    }

    /// Marks the notification `id` resolved or not, fetching it from the last `days` first
    /// (the API has no get-by-id for notifications).
    ///
    /// # Errors
    /// `Notification not found`, or as [`Client::send`].
    pub async fn resolve_id(&self, id: u64, resolved: bool, within_s: i64) -> Result<Notification> {
        let now = jiff::Timestamp::now().as_second();
        let n = self
            .notifications(now.saturating_sub(within_s), now + 60)
            .send()
            .await?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or_else(|| Error::Invalid("Notification not found".into()))?;
        self.set_resolved(&n, resolved).await
    }
}

/// A pending `GET /api/notifications`.
#[must_use]
pub struct NotificationsCall<'a> {
    client: &'a Client,
    op: ListNotifications,
}

impl NotificationsCall<'_> {
    pub fn state(mut self, s: impl Into<String>) -> Self {
        self.op = self.op.state(s);
        self
    }
    pub fn resolved(mut self, r: bool) -> Self {
        self.op = self.op.resolved(r);
        self
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn send(self) -> Result<Vec<Notification>> {
        self.client.send(&self.op).await
    }
}

impl Client {
    /// Alerts and alert notifications of the caller's team.
    pub fn alerts(&self) -> Alerts<'_> {
        Alerts(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn notification_query_uses_microseconds_and_python_booleans() {
        let base = url::Url::parse("http://h").unwrap();
        let r = ListNotifications::new(10, 20)
            .state("ACTIVE")
            .resolved(false)
            .to_request(&base)
            .unwrap();
        assert_eq!(
            r.uri(),
            "http://h/api/notifications?from=10000000&to=20000000&state=ACTIVE&resolved=False"
        );
    }
}
