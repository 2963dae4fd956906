//! Runtime policy events: `/api/v1/secureEvents`, as sdcclient's `PolicyEventsClientV1` calls
//! it (times in nanoseconds, a raw `filter`, cursor paging that follows `page.prev` to older
//! events).
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use futures::TryStreamExt;
//! let events = client.policy_events();
//! let first = events.duration(3600, Some(r#"severity in ("4","5")"#)).await?;
//! let older = events.more(&first.ctx()).await?;
//! let all: Vec<_> = events.stream(events.list().window_s(0, 3600)).try_collect().await?;
//! # let _ = (older, all); Ok(()) }
//! ```

use std::collections::BTreeMap;

use client_core::flatten_pages;
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Result,
    request::{Endpoint, Op, segment},
};

/// sdcclient's page size for time-range queries (PR #179 made it large because paging lost
/// the window; here paging keeps it, but the size stays what the client sends).
pub const RANGE_LIMIT: u32 = 999;
/// sdcclient's page size when a context carries none.
pub const MORE_LIMIT: u32 = 50;

const NS: i64 = 1_000_000_000;

/// A runtime policy event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyEvent {
    pub id: String,
    /// This event's own position: a cursor that continues after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Nanoseconds since the epoch.
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
    /// `syscall`, `k8s_audit`, ...
    pub source: String,
    /// `policy`, ...
    pub originator: String,
    /// The policy's name.
    pub name: String,
    pub description: String,
    /// 0 (high) to 7 (low).
    pub severity: i64,
    pub machine_id: String,
    /// `policyId`, `ruleName`, `output`, `fields`, ...
    pub content: Map<String, Value>,
    /// `host.hostName`, `container.name`, ...
    pub labels: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The paging part of a list answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Page {
    /// Continues to older events.
    pub prev: Option<String>,
    /// Continues to newer events.
    pub next: Option<String>,
    /// How many events match the query (all pages).
    pub total: u64,
}

/// One answer of `GET /api/v1/secureEvents`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyEventPage {
    pub data: Vec<PolicyEvent>,
    pub page: Page,
    /// How many events were asked for (the context sdcclient hands back).
    #[serde(skip)]
    pub limit: u32,
}

/// What sdcclient keeps between calls (`{"limit", "cursor"}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEventsCtx {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PolicyEventPage {
    /// The context for [`PolicyEvents::more`]: this page's limit and its `prev` cursor.
    pub fn ctx(&self) -> PolicyEventsCtx {
        PolicyEventsCtx {
            limit: self.limit,
            cursor: self.page.prev.clone(),
        }
    }
}

/// `GET /api/v1/secureEvents` with every knob.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ListPolicyEvents {
    pub limit: u32,
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    pub filter: Option<String>,
    pub cursor: Option<String>,
}

impl ListPolicyEvents {
    pub fn new() -> Self {
        Self {
            limit: RANGE_LIMIT,
            ..Self::default()
        }
    }
    /// Seconds since the epoch, sent in nanoseconds.
    pub fn window_s(mut self, from_s: i64, to_s: i64) -> Self {
        self.from_ns = Some(from_s.saturating_mul(NS));
        self.to_ns = Some(to_s.saturating_mul(NS));
        self
    }
    pub fn filter(mut self, f: impl Into<String>) -> Self {
        self.filter = Some(f.into());
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = n;
        self
    }
    pub fn cursor(mut self, c: impl Into<String>) -> Self {
        self.cursor = Some(c.into());
        self
    }
}

impl Endpoint for ListPolicyEvents {
    type Output = PolicyEventPage;
    fn path(&self) -> String {
        "/api/v1/secureEvents".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("limit", self.limit.to_string())];
        if let Some(f) = self.from_ns {
            q.push(("from", f.to_string()));
        }
        if let Some(t) = self.to_ns {
            q.push(("to", t.to_string()));
        }
        if let Some(f) = self.filter.as_deref().filter(|f| !f.is_empty()) {
            q.push(("filter", f.to_string()));
        }
        if let Some(c) = &self.cursor {
            q.push(("cursor", c.clone()));
        }
        q
    }
}

pub fn get(id: &str) -> Op<PolicyEvent> {
    Op::get(format!("/api/v1/secureEvents/{}", segment(id)))
}

/// Policy event calls: `client.policy_events()`.
#[derive(Clone, Copy, Debug)]
pub struct PolicyEvents<'a>(&'a Client);

impl<'a> PolicyEvents<'a> {
    /// A list with sdcclient's range page size; set a window, filter or cursor on it.
    pub fn list(&self) -> ListPolicyEvents {
        ListPolicyEvents::new()
    }

    /// One page.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn send(&self, op: &ListPolicyEvents) -> Result<PolicyEventPage> {
        let mut page = self.0.send(op).await?;
        page.limit = op.limit;
        Ok(page)
    }

    /// sdcclient's `get_policy_events_range(from_sec, to_sec, filter)`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn range(
        &self,
        from_s: i64,
        to_s: i64,
        filter: Option<&str>,
    ) -> Result<PolicyEventPage> {
        let mut op = self.list().window_s(from_s, to_s);
        op.filter = filter.map(str::to_string);
        self.send(&op).await
    }

    /// sdcclient's `get_policy_events_duration(duration_sec, filter)`: the last `duration_s`
    /// seconds up to now. A negative duration is sent as is (the server refuses it).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn duration(&self, duration_s: i64, filter: Option<&str>) -> Result<PolicyEventPage> {
        let to = jiff::Timestamp::now().as_second();
        self.range(to.saturating_sub(duration_s), to, filter).await
    }

    /// sdcclient's `get_more_policy_events(ctx)`: only `limit` and `cursor` are sent; the
    /// cursor carries the first call's window and filter.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn more(&self, ctx: &PolicyEventsCtx) -> Result<PolicyEventPage> {
        let limit = if ctx.limit == 0 {
            MORE_LIMIT
        } else {
            ctx.limit
        };
        let mut op = ListPolicyEvents::new().limit(limit);
        op.cursor = ctx.cursor.clone();
        self.send(&op).await
    }

    /// sdcclient's `get_policy_event(event_id)`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get(&self, id: &str) -> Result<PolicyEvent> {
        self.0.send(&get(id)).await
    }

    /// Every event of `op`, newest first, following `page.prev` until a short page.
    pub fn stream(&self, op: ListPolicyEvents) -> impl Stream<Item = Result<PolicyEvent>> + 'a {
        let events = *self;
        flatten_pages(op, move |op| async move {
            let page = events.send(&op).await?;
            let next = match page.page.prev {
                Some(c) if op.limit > 0 && page.data.len() >= op.limit as usize => {
                    Some(ListPolicyEvents::new().limit(op.limit).cursor(c))
                }
                _ => None,
            };
            Ok((page.data, next))
        })
    }
}

impl Client {
    /// Runtime policy events of the caller's (Secure) team.
    pub fn policy_events(&self) -> PolicyEvents<'_> {
        PolicyEvents(self)
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn range_query_is_sdcclients() {
        let base = Url::parse("http://h").unwrap();
        let op = ListPolicyEvents::new()
            .window_s(100, 200)
            .filter(r#"severity in ("4")"#);
        let r = op.to_request(&base).unwrap();
        assert_eq!(
            r.uri(),
            "http://h/api/v1/secureEvents?limit=999&from=100000000000&to=200000000000&filter=severity+in+%28%224%22%29"
        );
        let more = ListPolicyEvents::new().limit(50).cursor("abc");
        assert_eq!(
            more.to_request(&base).unwrap().uri(),
            "http://h/api/v1/secureEvents?limit=50&cursor=abc"
        );
        assert_eq!(
            get("a b").to_request(&base).unwrap().uri(),
            "http://h/api/v1/secureEvents/a%20b"
        );
    }

    #[test]
    fn ctx_follows_prev() {
        let page = PolicyEventPage {
            page: Page {
                prev: Some("p".into()),
                next: Some("n".into()),
                total: 3,
            },
            limit: 999,
            ..PolicyEventPage::default()
        };
        assert_eq!(
            page.ctx(),
            PolicyEventsCtx {
                limit: 999,
                cursor: Some("p".into())
            }
        );
    }

    #[test]
    fn events_read_as_the_server_writes_them() {
        let e: PolicyEvent = serde_json::from_value(serde_json::json!({
            "id": "x", "timestamp": 5, "severity": 4, "labels": {"host.hostName": "h"},
            "content": {"policyId": 3}, "actions": []
        }))
        .unwrap();
        assert_eq!(e.labels["host.hostName"], "h");
        assert_eq!(e.extra["actions"], serde_json::json!([]));
    }
}
