//! Sysdig Secure's runtime events (policy events and activity-audit events): many per team,
//! read newest first by time range and position, so they have their own table indexed on
//! (team, kind, time, sequence) instead of the team-object documents.

use super::Document;

/// The `kind` of each stored Secure event.
pub mod event_kinds {
    /// Runtime policy events (`/api/v1/secureEvents`).
    pub const POLICY: &str = "policy";
    /// Activity-audit events (`/api/v1/activityAudit/events`).
    pub const AUDIT: &str = "audit";
}

/// A stored event. `seq` orders events stored at the same time and grows with every insert,
/// so "stored no later than seq N" is a stable snapshot for paging.
#[derive(Clone, Debug, PartialEq)]
pub struct SecureEvent {
    pub seq: i64,
    pub team_id: i64,
    pub kind: String,
    /// Unique per (team, kind).
    pub id: String,
    /// Nanoseconds since the epoch.
    pub ts_ns: i64,
    pub doc: Document,
}

impl SecureEvent {
    /// Where this event sits in the (time, seq) order.
    pub fn pos(&self) -> EventPos {
        EventPos {
            ts_ns: self.ts_ns,
            seq: self.seq,
        }
    }
}

/// An event to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSecureEvent {
    pub id: String,
    pub ts_ns: i64,
    pub doc: Document,
}

/// A position in the (time, seq) order of a team's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventPos {
    pub ts_ns: i64,
    pub seq: i64,
}

/// A range read: events with `from_ns <= ts <= to_ns`, stored no later than `max_seq`,
/// strictly past `start` in the read's direction, at most `limit` of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRange {
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    pub max_seq: Option<i64>,
    pub start: Option<EventPos>,
    /// Newest first, continuing to older events (`true`), or oldest first towards newer ones.
    pub older: bool,
    pub limit: usize,
}

impl EventRange {
    /// The newest `limit` events of the whole history.
    pub fn newest(limit: usize) -> Self {
        Self {
            from_ns: None,
            to_ns: None,
            max_seq: None,
            start: None,
            older: true,
            limit,
        }
    }

    /// The range's conditions after team and kind, for either SQL backend: parameters 3 to 7
    /// written `{p}3` to `{p}7` (`?` for SQLite, `$` for PostgreSQL), and their values. Absent
    /// bounds become the widest values, so one statement serves every combination.
    pub fn sql_bounds(&self, p: char) -> (String, [i64; 5]) {
        let (start_ts, start_seq) = match (self.start, self.older) {
            (Some(pos), _) => (pos.ts_ns, pos.seq),
            (None, true) => (i64::MAX, i64::MAX),
            (None, false) => (i64::MIN, i64::MIN),
        };
        let past = if self.older { '<' } else { '>' };
        let clause = format!(
            "ts_ns >= {p}3 AND ts_ns <= {p}4 AND seq <= {p}5 \
             AND (ts_ns {past} {p}6 OR (ts_ns = {p}6 AND seq {past} {p}7))"
        );
        let values = [
            self.from_ns.unwrap_or(i64::MIN),
            self.to_ns.unwrap_or(i64::MAX),
            self.max_seq.unwrap_or(i64::MAX),
            start_ts,
            start_seq,
        ];
        (clause, values)
    }
}
