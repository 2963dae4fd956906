//! What policy events and activity-audit events share: the opaque cursor, the query a list
//! call makes (from its parameters or its cursor), filters checked against the endpoint's
//! fields, and reading one page in bounded batches.
//!
//! Choices where Sysdig's behaviour is not pinned down (wire reference §9 A8/A9):
//! * `timestamp` is nanoseconds since the epoch, as `from`/`to` are.
//! * Lists are newest first. `page.prev` continues to older events, `page.next` to newer ones;
//!   both are always present, so a client that follows `prev` until an empty page stops.
//! * `page.total` counts the matching events from this page on in the `prev` direction (this
//!   page and every older one): sdcclient's activity-audit loop, which asks for more while
//!   `total > 50`, then ends on the last page.
//! * A cursor carries the first call's window, filter and a snapshot of what was stored then:
//!   paging `prev` never shows an event stored after the first call, so pages stay stable
//!   while new events arrive; `next` follows new events (what `sdc secure events tail` uses).
//! * Without a cursor or window every stored event is in range.

use config_repo::sysdig::{EventPos, EventRange, SecureEvent, SysdigTx};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sysdig::secure::filter::{self, Filter};

use crate::{
    error::{SdcError, SdcResult},
    http::{query_get, query_i64},
};

/// The largest page a list call may ask for.
pub const MAX_LIMIT: i64 = 1000;
/// How many rows one storage read fetches while filling a page.
const BATCH: usize = 500;

/// What a cursor carries; hex-encoded JSON on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CursorState {
    team: i64,
    kind: String,
    from: Option<i64>,
    to: Option<i64>,
    filter: String,
    /// The snapshot: the last event stored when the first call was made.
    snap: i64,
    /// Continue strictly after this position, in the `older` direction.
    ts: Option<i64>,
    seq: Option<i64>,
    older: bool,
}

fn encode(c: &CursorState) -> String {
    let json = serde_json::to_vec(c).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(text: &str) -> Option<CursorState> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect();
    serde_json::from_slice(&bytes?).ok()
}

/// How a list endpoint resolves filter fields to an item's values.
pub trait Fields {
    /// Whether a filter may name `field` (an unknown one is a 400).
    fn known(field: &str) -> bool;
    /// The value of `field` in a stored event's document, as text.
    fn value(doc: &serde_json::Map<String, Value>, field: &str) -> Option<String>;
    /// Whether a stored event's document satisfies `cond` (by default: its field's value).
    fn matches(doc: &serde_json::Map<String, Value>, cond: &filter::Condition) -> bool {
        cond.matches(Self::value(doc, &cond.field).as_deref())
    }
}

/// A value as filters compare it.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list call's query, resolved from its parameters or its cursor.
#[derive(Clone, Debug)]
pub struct ListQuery {
    state: CursorState,
    filter: Filter,
    pub limit: usize,
}

/// Parses and checks a filter against the endpoint's fields.
fn parse_filter<F: Fields>(raw: &str) -> SdcResult<Filter> {
    let f = filter::parse(raw).map_err(|e| SdcError::bad_request(e.to_string()))?;
    if let Some(c) = f.conditions.iter().find(|c| !F::known(&c.field)) {
        return Err(SdcError::bad_request(format!(
            "invalid filter at position {}: unknown field '{}'",
            c.position, c.field
        )));
    }
    Ok(f)
}

impl ListQuery {
    /// From `limit`, `from`/`to` (ns), `filter` and `cursor`. A cursor brings its own window
    /// and filter; a `filter`, `from` or `to` sent with it must be the same.
    ///
    /// # Errors
    /// A bad limit, window, filter or cursor, or a cursor of another team or list.
    pub fn parse<F: Fields>(
        c: &dyn SysdigTx,
        pairs: &[(String, String)],
        team: i64,
        kind: &str,
        default_limit: i64,
    ) -> SdcResult<Self> {
        let limit = query_i64(pairs, "limit", "")?.unwrap_or(default_limit);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(SdcError::bad_request(format!(
                "Parameter 'limit' must be between 1 and {MAX_LIMIT}"
            )));
        }
        let from = query_i64(pairs, "from", " (nanoseconds)")?;
        let to = query_i64(pairs, "to", " (nanoseconds)")?;
        let raw_filter = query_get(pairs, "filter").unwrap_or("").trim().to_string();
        let state = match query_get(pairs, "cursor").filter(|c| !c.is_empty()) {
            Some(text) => {
                let s = decode(text).ok_or_else(|| SdcError::bad_request("Invalid cursor"))?;
                if s.team != team {
                    return Err(SdcError::bad_request(
                        "Invalid cursor: it was issued to another team",
                    ));
                }
                if s.kind != kind {
                    return Err(SdcError::bad_request(
                        "Invalid cursor: it was issued for another list",
                    ));
                }
                let differs =
                    |given: Option<i64>, kept: Option<i64>| given.is_some() && given != kept;
                if differs(from, s.from) || differs(to, s.to) {
                    return Err(SdcError::bad_request(
                        "The cursor keeps the first call's time window: send 'from'/'to' without a cursor to start another",
                    ));
                }
                if !raw_filter.is_empty() && raw_filter != s.filter {
                    return Err(SdcError::bad_request(
                        "The cursor keeps the first call's filter: send 'filter' without a cursor to start another",
                    ));
                }
                s
            }
            None => {
                if let (Some(f), Some(t)) = (from, to)
                    && f > t
                {
                    return Err(SdcError::bad_request(
                        "Parameter 'from' must not be after 'to'",
                    ));
                }
                if from.is_some_and(|f| f < 0) {
                    return Err(SdcError::bad_request(
                        "Parameter 'from' must not be negative",
                    ));
                }
                CursorState {
                    team,
                    kind: kind.into(),
                    from,
                    to,
                    filter: raw_filter,
                    snap: c.secure_events_last_seq()?,
                    ts: None,
                    seq: None,
                    older: true,
                }
            }
        };
        let filter = parse_filter::<F>(&state.filter)?;
        Ok(Self {
            state,
            filter,
            limit: usize::try_from(limit).unwrap_or(1),
        })
    }

    fn matches<F: Fields>(&self, e: &SecureEvent) -> bool {
        self.filter.conditions.iter().all(|c| F::matches(&e.doc, c))
    }

    fn range(&self, start: Option<EventPos>, older: bool, snap: Option<i64>) -> EventRange {
        EventRange {
            from_ns: self.state.from,
            to_ns: self.state.to,
            max_seq: snap,
            start,
            older,
            limit: BATCH,
        }
    }

    fn start(&self) -> Option<EventPos> {
        match (self.state.ts, self.state.seq) {
            (Some(ts_ns), Some(seq)) => Some(EventPos { ts_ns, seq }),
            _ => None,
        }
    }

    /// Reads matching events from `start` in one direction: up to `keep` of them, and how
    /// many match in all when `count` (reading on, in batches, without keeping them, unless
    /// there is no filter and the storage can count).
    fn scan<F: Fields>(
        &self,
        c: &dyn SysdigTx,
        kind: &str,
        walk: Walk,
        keep: usize,
        count: bool,
    ) -> SdcResult<(Vec<SecureEvent>, usize)> {
        let Walk { start, older, snap } = walk;
        if count && self.filter.conditions.is_empty() {
            // Without a filter the storage counts; only the kept events are read.
            let kept = if keep == 0 {
                Vec::new()
            } else {
                self.scan::<F>(c, kind, walk, keep, false)?.0
            };
            let range = self.range(start, older, snap);
            let all = c.secure_events_count(kind, self.state.team, &range)?;
            return Ok((kept, usize::try_from(all).unwrap_or(usize::MAX)));
        }
        let mut kept = Vec::new();
        let mut matched = 0;
        let mut at = start;
        loop {
            let batch =
                c.secure_events_range(kind, self.state.team, &self.range(at, older, snap))?;
            let full = batch.len() >= BATCH;
            at = batch.last().map(SecureEvent::pos).or(at);
            for e in batch {
                if self.matches::<F>(&e) {
                    matched += 1;
                    if kept.len() < keep {
                        kept.push(e);
                    }
                }
            }
            if !full || (!count && kept.len() >= keep) {
                return Ok((kept, matched));
            }
        }
    }

    /// One page, newest first, with its `prev`/`next` cursors and `total`.
    ///
    /// # Errors
    /// The repository failed.
    pub fn page<F: Fields>(&self, c: &dyn SysdigTx, kind: &str) -> SdcResult<Page> {
        let start = self.start();
        let (events, total) = if self.state.older {
            let walk = Walk {
                start,
                older: true,
                snap: Some(self.state.snap),
            };
            self.scan::<F>(c, kind, walk, self.limit, true)?
        } else {
            // Newer events: the `limit` just after the position, shown newest first; `total`
            // then counts them and everything older in the snapshot of now.
            let walk = Walk {
                start,
                older: false,
                snap: None,
            };
            let (mut newer, _) = self.scan::<F>(c, kind, walk, self.limit, false)?;
            newer.reverse();
            let older_count = match newer.last() {
                Some(oldest) => {
                    let walk = Walk {
                        start: Some(oldest.pos()),
                        older: true,
                        snap: None,
                    };
                    self.scan::<F>(c, kind, walk, 0, true)?.1
                }
                None => 0,
            };
            let n = newer.len();
            (newer, n + older_count)
        };
        let snap_now = c.secure_events_last_seq()?;
        let at = |pos: Option<EventPos>, older: bool, snap: i64| {
            encode(&CursorState {
                ts: pos.map(|p| p.ts_ns),
                seq: pos.map(|p| p.seq),
                older,
                snap,
                ..self.state.clone()
            })
        };
        let prev_snap = if self.state.older {
            self.state.snap
        } else {
            snap_now
        };
        let prev = at(
            events.last().map(SecureEvent::pos).or(start),
            true,
            prev_snap,
        );
        // Without events, `next` continues from where this page would have begun.
        let newest = events
            .first()
            .map(SecureEvent::pos)
            .or(if self.state.older { None } else { start });
        let next = at(newest, false, snap_now);
        let cursors = events
            .iter()
            .map(|e| at(Some(e.pos()), true, prev_snap))
            .collect();
        Ok(Page {
            events,
            cursors,
            prev,
            next,
            total,
        })
    }
}

/// Where a scan starts, which way it goes and the snapshot it keeps to.
#[derive(Clone, Copy)]
struct Walk {
    start: Option<EventPos>,
    older: bool,
    snap: Option<i64>,
}

/// A page of stored events with the cursors to show.
pub struct Page {
    pub events: Vec<SecureEvent>,
    /// Each event's own cursor (continues after it, to older events).
    pub cursors: Vec<String>,
    pub prev: String,
    pub next: String,
    pub total: usize,
}

impl Page {
    /// `{"data": [...], "page": {"prev", "next", "total"}}` with `render` for each event.
    pub fn body(self, render: impl Fn(&SecureEvent, &str) -> Value) -> Value {
        let data: Vec<Value> = self
            .events
            .iter()
            .zip(&self.cursors)
            .map(|(e, c)| render(e, c))
            .collect();
        serde_json::json!({
            "data": data,
            "page": {"prev": self.prev, "next": self.next, "total": self.total},
        })
    }
}

/// A list route's whole job: the query from its parameters or cursor, one page of `kind`
/// events of the caller's team, shown by `render`.
pub async fn list_events<F: Fields>(
    state: &crate::SysdigState,
    caller: &super::SecureCaller,
    query: Option<&str>,
    kind: &'static str,
    default_limit: i64,
    render: fn(&SecureEvent, &str) -> Value,
) -> SdcResult<axum::response::Response> {
    let pairs = crate::http::query_pairs(query);
    let team = caller.team_id();
    let body = state
        .tx(move |c| {
            let query = ListQuery::parse::<F>(c, &pairs, team, kind, default_limit)?;
            Ok(query.page::<F>(c, kind)?.body(render))
        })
        .await?;
    Ok(crate::http::ok(body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let s = CursorState {
            team: 3,
            kind: "policy".into(),
            from: Some(1),
            to: None,
            filter: "a = \"b\"".into(),
            snap: 9,
            ts: Some(5),
            seq: Some(6),
            older: true,
        };
        assert_eq!(decode(&encode(&s)), Some(s));
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("é"), None);
    }
}
