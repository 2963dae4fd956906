//! What to send for a delivery: the request each receiver type gets, built from the queued
//! event and the receiver snapshot with no I/O, so every payload is unit-tested as bytes.

pub mod monasca;
pub mod pyjson;
pub mod sysdig;

use config_repo::outbox::{NewDelivery, Source};
use serde_json::Value;
use url::Url;

use crate::NotifySettings;

/// A delivery that can never be sent as it is (its type is not served, its address is
/// unusable); the engine records it as dropped with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsendable(pub String);

/// One request to make for a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Http(HttpRequest),
    Email(EmailRequest),
    /// Jira's issue workflow (search, create or reopen, comment).
    Jira(JiraRequest),
}

impl Request {
    /// Who receives it: sends to one receiver share its concurrency limit.
    pub fn receiver_key(&self, settings: &NotifySettings) -> String {
        match self {
            Request::Http(h) => origin(&h.url),
            Request::Jira(j) => origin(&j.base),
            Request::Email(_) => match &settings.email {
                Some(e) => format!("smtp://{}:{}", e.server, e.port()),
                None => "smtp".into(),
            },
        }
    }
}

/// `scheme://host:port` of `url`: what a per-receiver limit is keyed on (never the path or
/// query, which may hold tokens).
pub fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// How a receiver says it accepted a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Any 2xx.
    Success,
    /// One of these statuses (PagerDuty: 200, 201, 204).
    Statuses(&'static [u16]),
    /// A 2xx whose body is `ok`, or JSON with `"ok": true` (Slack answers 200 to bad tokens).
    Slack,
}

/// An HTTP POST.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub url: Url,
    /// Chosen by a tenant (webhook, Slack and Teams URLs): subject to the URL policy. The
    /// operator's own endpoints (PagerDuty, OpsGenie, VictorOps) are not.
    pub tenant_url: bool,
    /// Besides `Content-Type: application/json` and `Idempotency-Key`.
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub accepts: Accepts,
}

/// An e-mail through the configured SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRequest {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// An issue in Jira (monasca-notification's jira plugin).
#[derive(Debug, Clone, PartialEq)]
pub struct JiraRequest {
    /// The Jira server: the method's address without its query.
    pub base: Url,
    pub project: String,
    pub component: Option<String>,
    pub summary: String,
    pub description: String,
    pub comment: String,
    /// Searched for in summaries to find the alarm's issue.
    pub alarm_id: String,
}

/// The request for `delivery`.
///
/// # Errors
/// [`Unsendable`] when its type is not served or its event or address cannot be used.
pub fn build(delivery: &NewDelivery, settings: &NotifySettings) -> Result<Request, Unsendable> {
    match delivery.source {
        Source::Monasca => monasca::build(&delivery.receiver, &delivery.event, settings),
        Source::Sysdig => sysdig::build(&delivery.receiver, &delivery.event, settings),
    }
}

/// `text` as a URL a tenant gave.
pub(crate) fn tenant_url(text: &str, what: &str) -> Result<Url, Unsendable> {
    Url::parse(text.trim()).map_err(|e| Unsendable(format!("the {what} is not a valid URL: {e}")))
}
