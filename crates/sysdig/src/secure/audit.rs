//! Activity audit: `/api/v1/activityAudit/events` as sdcclient's `ActivityAuditClientV1` calls
//! it (times in nanoseconds, conditions joined by `and`, data sources as a `type in (…)`
//! condition, pages of 50 following `page.prev` while `page.total` says more remain) and the
//! trace of a traceable event. Unlike sdcclient, a `limit` keeps exactly `limit` events.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::secure::audit::{DataSource, ListAuditEvents};
//! let audit = client.activity_audit();
//! let op = ListAuditEvents::new()
//!     .window_s(0, 3600)
//!     .condition(r#"hostname = "web-1""#)
//!     .data_sources([DataSource::Command, DataSource::Kubernetes]);
//! for e in audit.list(&op).await? {
//!     if e.traceable {
//!         println!("{} {:?}", e.id, audit.trace(&e).await?.len());
//!     }
//! }
//! # Ok(()) }
//! ```

use client_core::flatten_pages;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::events::Page;
use crate::{
    Client, Error, Result,
    request::{Endpoint, Op, segment},
};

/// sdcclient's page size.
pub const PAGE_SIZE: u32 = 50;
const NS: i64 = 1_000_000_000;
const DAY_S: i64 = 86_400;

/// The kinds of activity the audit records (sdcclient's `ActivityAuditDataSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataSource {
    Command,
    Connection,
    Kubernetes,
    FileAccess,
}

impl DataSource {
    pub const ALL: [DataSource; 4] = [
        DataSource::Command,
        DataSource::Connection,
        DataSource::Kubernetes,
        DataSource::FileAccess,
    ];

    /// The event `type` on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DataSource::Command => "command",
            DataSource::Connection => "connection",
            DataSource::Kubernetes => "kubernetes",
            DataSource::FileAccess => "fileaccess",
        }
    }

    /// # Errors
    /// A name that is none of `command`, `connection`, `kubernetes`, `fileaccess`.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown data source '{s}': expected command, connection, kubernetes or fileaccess"
                ))
            })
    }
}

/// An activity-audit event. Fields besides these depend on the type (`cmdline`, `hostname`,
/// `clientIpv4`, `resource`, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditEvent {
    pub id: String,
    /// One of [`DataSource`]'s names.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether [`ActivityAudit::trace`] has events for it.
    pub traceable: bool,
    /// Nanoseconds since the epoch.
    pub timestamp: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One answer of `GET /api/v1/activityAudit/events`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditPage {
    pub data: Vec<AuditEvent>,
    pub page: Page,
}

/// An activity-audit query: window, conditions, data sources and how many events to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListAuditEvents {
    /// Nanoseconds; `None` is a day ago (sdcclient's default).
    pub from_ns: Option<i64>,
    /// Nanoseconds; `None` is now.
    pub to_ns: Option<i64>,
    /// Conditions in Secure's filter grammar, joined by `and`.
    pub conditions: Vec<String>,
    pub data_sources: Vec<DataSource>,
    /// At most this many events in all; 0 keeps every one.
    pub limit: usize,
}

impl ListAuditEvents {
    pub fn new() -> Self {
        Self::default()
    }
    /// Seconds since the epoch, sent in nanoseconds.
    pub fn window_s(mut self, from_s: i64, to_s: i64) -> Self {
        self.from_ns = Some(from_s.saturating_mul(NS));
        self.to_ns = Some(to_s.saturating_mul(NS));
        self
    }
    pub fn condition(mut self, c: impl Into<String>) -> Self {
        self.conditions.push(c.into());
        self
    }
    pub fn data_sources(mut self, d: impl IntoIterator<Item = DataSource>) -> Self {
        self.data_sources = d.into_iter().collect();
        self
    }
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    /// The `filter` sent: the conditions, then `type in ("…")` for the data sources.
    pub fn filter(&self) -> String {
        let mut parts = self.conditions.clone();
        if !self.data_sources.is_empty() {
            let quoted: Vec<String> = self
                .data_sources
                .iter()
                .map(|d| format!("\"{}\"", d.as_str()))
                .collect();
            parts.push(format!("type in ({})", quoted.join(",")));
        }
        parts.join(" and ")
    }

    /// The first page's request, with the default window resolved against `now_s`.
    pub fn first_page(&self, now_s: i64) -> AuditPageRequest {
        let to = self.to_ns.unwrap_or(now_s.saturating_mul(NS));
        let from = self
            .from_ns
            .unwrap_or(now_s.saturating_sub(DAY_S).saturating_mul(NS));
        AuditPageRequest {
            from_ns: Some(from),
            to_ns: Some(to),
            filter: self.filter(),
            cursor: None,
        }
    }
}

/// One `GET /api/v1/activityAudit/events`: the first (window and filter) or a following one
/// (filter and cursor), 50 events each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPageRequest {
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    pub filter: String,
    pub cursor: Option<String>,
}

impl Endpoint for AuditPageRequest {
    type Output = AuditPage;
    fn path(&self) -> String {
        "/api/v1/activityAudit/events".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(f) = self.from_ns {
            q.push(("from", f.to_string()));
        }
        if let Some(t) = self.to_ns {
            q.push(("to", t.to_string()));
        }
        q.push(("limit", PAGE_SIZE.to_string()));
        q.push(("filter", self.filter.clone()));
        if let Some(c) = &self.cursor {
            q.push(("cursor", c.clone()));
        }
        q
    }
}

/// `GET /api/v1/activityAudit/events/{type}/{id}/trace`, answered `{"data": [...]}`.
///
/// # Errors
/// sdcclient's `a traceable event must be provided` for an event that is not traceable.
pub fn trace(event: &AuditEvent) -> Result<Op<TraceBody>> {
    if !event.traceable {
        return Err(Error::Invalid("a traceable event must be provided".into()));
    }
    Ok(Op::get(format!(
        "/api/v1/activityAudit/events/{}/{}/trace",
        segment(&event.kind),
        segment(&event.id)
    )))
}

/// The answer of a trace call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceBody {
    pub data: Vec<AuditEvent>,
}

/// Activity-audit calls: `client.activity_audit()`.
#[derive(Clone, Copy, Debug)]
pub struct ActivityAudit<'a>(&'a Client);

impl<'a> ActivityAudit<'a> {
    /// One page.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn page(&self, req: &AuditPageRequest) -> Result<AuditPage> {
        self.0.send(req).await
    }

    /// Every event of `op` (up to its `limit`), newest first, page by page: pages follow
    /// `page.prev` while `page.total` (the events from that page on) exceeds a page.
    pub fn stream(&self, op: &ListAuditEvents) -> impl Stream<Item = Result<AuditEvent>> + 'a {
        let audit = *self;
        let first = op.first_page(jiff::Timestamp::now().as_second());
        let filter = first.filter.clone();
        let events = flatten_pages(first, move |req| {
            let filter = filter.clone();
            async move {
                let page = audit.page(&req).await?;
                let next = match page.page.prev {
                    Some(cursor) if page.page.total > u64::from(PAGE_SIZE) => {
                        Some(AuditPageRequest {
                            from_ns: None,
                            to_ns: None,
                            filter,
                            cursor: Some(cursor),
                        })
                    }
                    _ => None,
                };
                Ok((page.data, next))
            }
        });
        let limit = if op.limit == 0 { usize::MAX } else { op.limit };
        events.take(limit)
    }

    /// sdcclient's `list_events`: the events of `op`, at most `op.limit` (all when 0).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn list(&self, op: &ListAuditEvents) -> Result<Vec<AuditEvent>> {
        self.stream(op).try_collect().await
    }

    /// sdcclient's `list_trace`: the events traced from a traceable event.
    ///
    /// # Errors
    /// An event that is not traceable, or as [`Client::send`].
    pub async fn trace(&self, event: &AuditEvent) -> Result<Vec<AuditEvent>> {
        Ok(self.0.send(&trace(event)?).await?.data)
    }
}

impl Client {
    /// Activity audit of the caller's (Secure) team.
    pub fn activity_audit(&self) -> ActivityAudit<'_> {
        ActivityAudit(self)
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn first_and_following_pages_are_sdcclients() {
        let base = Url::parse("http://h").unwrap();
        let op = ListAuditEvents::new()
            .condition(r#"processName in ("ubuntu")"#)
            .data_sources([DataSource::Command, DataSource::Kubernetes]);
        let first = op.first_page(1_704_153_600);
        assert_eq!(
            first.to_request(&base).unwrap().uri(),
            "http://h/api/v1/activityAudit/events?from=1704067200000000000&to=1704153600000000000&limit=50&filter=processName+in+%28%22ubuntu%22%29+and+type+in+%28%22command%22%2C%22kubernetes%22%29"
        );
        let next = AuditPageRequest {
            from_ns: None,
            to_ns: None,
            filter: String::new(),
            cursor: Some("c".into()),
        };
        assert_eq!(
            next.to_request(&base).unwrap().uri(),
            "http://h/api/v1/activityAudit/events?limit=50&filter=&cursor=c"
        );
    }

    #[test]
    fn trace_needs_a_traceable_event() {
        let mut e = AuditEvent {
            id: "a/b".into(),
            kind: "command".into(),
            ..AuditEvent::default()
        };
        assert_eq!(
            trace(&e).unwrap_err().to_string(),
            "a traceable event must be provided"
        );
        e.traceable = true;
        let r = trace(&e)
            .unwrap()
            .to_request(&Url::parse("http://h").unwrap())
            .unwrap();
        assert_eq!(
            r.uri(),
            "http://h/api/v1/activityAudit/events/command/a%2Fb/trace"
        );
        assert_eq!(
            DataSource::parse("fileaccess").unwrap(),
            DataSource::FileAccess
        );
        assert!(DataSource::parse("x").is_err());
    }
}
