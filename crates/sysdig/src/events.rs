//! Events v2: `/api/v2/events`.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use futures::TryStreamExt;
//! use sysdig::events::NewEvent;
//! client.events().post(&NewEvent::new("deploy").scope("host.hostName = 'web1'")).await?;
//! let page = client.events().list().name("deploy").limit(10).send().await?;
//! let all: Vec<_> = client.events().list().categories(["custom"]).stream().try_collect().await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use client_core::flatten_pages;
use futures::Stream;
use http::Method;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::{
    Client, Error, Result,
    request::{Endpoint, Op, segment, send_ops},
};

/// The categories sdcclient accepts (and asks for by default).
pub const CATEGORIES: [&str; 5] = ["alert", "custom", "docker", "containerd", "kubernetes"];
/// The alert statuses sdcclient accepts (and asks for by default).
pub const STATUSES: [&str; 4] = ["triggered", "resolved", "acknowledged", "unacknowledged"];

/// An event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    /// A string or a number on the wire; kept as text.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    pub id: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 0 (high) to 7 (low).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Milliseconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// An event to post. Unset fields are not sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[must_use]
pub struct NewEvent {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    /// sdcclient's `event_filter`, e.g. `host.hostName = 'web1'`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

impl NewEvent {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
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
    pub fn scope(mut self, s: impl Into<String>) -> Self {
        self.scope = Some(s.into());
        self
    }
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.tags.get_or_insert_default().insert(k.into(), v.into());
        self
    }
}

/// One page of `GET /api/v2/events`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub total: u64,
    pub matched: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/v2/events` with sdcclient's parameters and checks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ListEvents {
    pub name: Option<String>,
    pub categories: Vec<String>,
    pub statuses: Vec<String>,
    /// `before` or `after` the pivot.
    pub direction: String,
    pub limit: u32,
    pub pivot: Option<String>,
    pub include_pivot: bool,
    /// Milliseconds since the epoch.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Default for ListEvents {
    fn default() -> Self {
        Self {
            name: None,
            categories: CATEGORIES.iter().map(|s| s.to_string()).collect(),
            statuses: STATUSES.iter().map(|s| s.to_string()).collect(),
            direction: "before".into(),
            limit: 100,
            pivot: None,
            include_pivot: true,
            from_ms: None,
            to_ms: None,
        }
    }
}

impl ListEvents {
    pub fn new() -> Self {
        Self::default()
    }
    /// Only events with exactly this name (`filter`).
    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.name = Some(n.into());
        self
    }
    pub fn categories<S: Into<String>>(mut self, c: impl IntoIterator<Item = S>) -> Self {
        self.categories = c.into_iter().map(Into::into).collect();
        self
    }
    pub fn statuses<S: Into<String>>(mut self, s: impl IntoIterator<Item = S>) -> Self {
        self.statuses = s.into_iter().map(Into::into).collect();
        self
    }
    pub fn direction(mut self, d: impl Into<String>) -> Self {
        self.direction = d.into();
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = n;
        self
    }
    pub fn pivot(mut self, id: impl Into<String>) -> Self {
        self.pivot = Some(id.into());
        self
    }
    /// A time window in milliseconds (both ends required).
    pub fn window_ms(mut self, from: Option<i64>, to: Option<i64>) -> Self {
        self.from_ms = from;
        self.to_ms = to;
        self
    }

    /// sdcclient's client-side checks, with its messages.
    ///
    /// # Errors
    /// An unknown category, status or direction, or a half or inverted time window.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(m));
        if let Some(c) = self
            .categories
            .iter()
            .find(|c| !CATEGORIES.contains(&c.as_str()))
        {
            return bad(format!("Invalid category '{c}'"));
        }
        if let Some(s) = self
            .statuses
            .iter()
            .find(|s| !STATUSES.contains(&s.as_str()))
        {
            return bad(format!("Invalid status '{s}'"));
        }
        if !matches!(self.direction.as_str(), "before" | "after") {
            return bad(format!(
                "Invalid direction '{}', must be either 'before' or 'after'",
                self.direction
            ));
        }
        match (self.from_ms, self.to_ms) {
            (Some(_), None) | (None, Some(_)) => bad(
                "only one of 'from_s' or 'to_s' has been specified, both are required when filtering by time"
                    .into(),
            ),
            (Some(f), Some(t)) if f > t => bad("'from_s' must be lower than 'to_s'".into()),
            _ => Ok(()),
        }
    }
}

impl Endpoint for ListEvents {
    type Output = EventPage;
    fn path(&self) -> String {
        "/api/v2/events".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> = self
            .statuses
            .iter()
            .map(|s| ("alertStatus", s.clone()))
            .collect();
        q.push(("category", self.categories.join(",")));
        q.push(("dir", self.direction.clone()));
        q.push(("feed", "true".into()));
        q.push(("include_pivot", self.include_pivot.to_string()));
        q.push(("include_total", "true".into()));
        q.push(("limit", self.limit.to_string()));
        if let Some(p) = &self.pivot {
            q.push(("pivot", p.clone()));
        }
        if let Some(n) = &self.name {
            q.push(("filter", n.clone()));
        }
        if let (Some(f), Some(t)) = (self.from_ms, self.to_ms) {
            q.push(("from", f.to_string()));
            q.push(("to", t.to_string()));
        }
        q
    }
    /// Checked as sdcclient checks before it sends.
    fn url(&self, base: &Url) -> client_core::Result<Url> {
        self.validate()
            .map_err(|e| client_core::Error::Invalid(e.to_string()))?;
        client_core::join_url(base, &self.path(), self.query())
    }
}

pub fn get(id: &str) -> Op<Event> {
    Op::get(format!("/api/v2/events/{}", segment(id))).envelope("event")
}

/// `POST /api/v2/events`.
///
/// # Errors
/// A body that does not serialize.
pub fn post(e: &NewEvent) -> Result<Op<Event>> {
    Op::new(Method::POST, "/api/v2/events").enveloped("event", e)
}

pub fn delete(id: &str) -> Op<()> {
    Op::delete(format!("/api/v2/events/{}", segment(id)))
}

/// Event calls: `client.events()`.
#[derive(Clone, Copy, Debug)]
pub struct Events<'a>(&'a Client);

impl<'a> Events<'a> {
    /// A list call; finish with `.send()` (one page) or `.stream()` (every event).
    pub fn list(&self) -> ListEventsCall<'a> {
        ListEventsCall {
            client: self.0,
            op: ListEvents::new(),
        }
    }
    send_ops! {
        fn get(id: &str) -> Event = get(id);
        fn post(e: &NewEvent) -> Event = post(e)?;
        fn delete(id: &str) -> () = delete(id);
    }
}

/// A pending `GET /api/v2/events`.
#[must_use]
pub struct ListEventsCall<'a> {
    client: &'a Client,
    op: ListEvents,
}

impl<'a> ListEventsCall<'a> {
    /// Replaces every parameter.
    pub fn with(mut self, op: ListEvents) -> Self {
        self.op = op;
        self
    }
    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.op = self.op.name(n);
        self
    }
    pub fn categories<S: Into<String>>(mut self, c: impl IntoIterator<Item = S>) -> Self {
        self.op = self.op.categories(c);
        self
    }
    pub fn statuses<S: Into<String>>(mut self, s: impl IntoIterator<Item = S>) -> Self {
        self.op = self.op.statuses(s);
        self
    }
    pub fn direction(mut self, d: impl Into<String>) -> Self {
        self.op = self.op.direction(d);
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.op = self.op.limit(n);
        self
    }
    pub fn pivot(mut self, id: impl Into<String>) -> Self {
        self.op = self.op.pivot(id);
        self
    }
    pub fn window_ms(mut self, from: Option<i64>, to: Option<i64>) -> Self {
        self.op = self.op.window_ms(from, to);
        self
    }

    /// One page.
    ///
    /// # Errors
    /// sdcclient's validation messages, or as [`Client::send`].
    pub async fn send(self) -> Result<EventPage> {
        self.client.send(&self.op).await
    }

    /// Every matching event, page by page (`limit` per page), each page asked for with the
    /// last id of the previous one as `pivot`.
    pub fn stream(self) -> impl Stream<Item = Result<Event>> + 'a {
        let client = self.client;
        let limit = self.op.limit as usize;
        flatten_pages(self.op, move |op| async move {
            let pivot = op.pivot.clone();
            let page = client.send(&op).await?;
            let mut events = page.events;
            // The pivot itself may come back (include_pivot): it was already yielded.
            let served = events.len();
            if let (Some(p), Some(first)) = (&pivot, events.first())
                && first.id.as_deref() == Some(p.as_str())
                && !op.include_pivot
            {
                events.remove(0);
            }
            // A short page is the last one.
            let next = match events.last().and_then(|e| e.id.clone()) {
                Some(last) if limit > 0 && served >= limit => {
                    let mut n = op.clone().pivot(last);
                    n.include_pivot = false;
                    Some(n)
                }
                _ => None,
            };
            Ok((events, next))
        })
    }
}

impl Client {
    /// Events (v2) of the caller's team.
    pub fn events(&self) -> Events<'_> {
        Events(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn default_query_matches_sdcclient() {
        let base = Url::parse("http://h").unwrap();
        let r = ListEvents::new().to_request(&base).unwrap();
        assert_eq!(
            r.uri(),
            "http://h/api/v2/events?alertStatus=triggered&alertStatus=resolved&alertStatus=acknowledged&alertStatus=unacknowledged&category=alert%2Ccustom%2Cdocker%2Ccontainerd%2Ckubernetes&dir=before&feed=true&include_pivot=true&include_total=true&limit=100"
        );
    }

    #[test]
    fn validates_like_sdcclient() {
        let m = |op: ListEvents| op.validate().unwrap_err().to_string();
        assert_eq!(
            m(ListEvents::new().categories(["nope"])),
            "Invalid category 'nope'"
        );
        assert_eq!(m(ListEvents::new().statuses(["x"])), "Invalid status 'x'");
        assert_eq!(
            m(ListEvents::new().direction("up")),
            "Invalid direction 'up', must be either 'before' or 'after'"
        );
        assert_eq!(
            m(ListEvents::new().window_ms(Some(1), None)),
            "only one of 'from_s' or 'to_s' has been specified, both are required when filtering by time"
        );
        assert_eq!(
            m(ListEvents::new().window_ms(Some(2), Some(1))),
            "'from_s' must be lower than 'to_s'"
        );
    }
}
