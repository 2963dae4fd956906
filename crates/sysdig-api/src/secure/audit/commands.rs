//! The deprecated command audit (`GET /api/commands`, `GET /api/commands/{id}`), which
//! sdcclient keeps for old on-prem backends: a view of the activity audit's `command` events,
//! with times in microseconds, offset paging (newest first), a Monitor-like `scopeFilter` on
//! labels, a `commandFilter` on `command.*` fields, and `metrics` (a JSON list of label names)
//! answered as each command's `metrics` array of values, in that order.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use config_repo::sysdig::{Document, EventPos, EventRange, SecureEvent, SysdigTx};
use serde_json::{Value, json};
use sysdig::secure::filter::{self, Filter};

use super::{KIND, render};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{P, ok, query_get, query_i64, query_pairs},
    secure::{SecureCaller, runtime::text},
};

const MAX_LIMIT: i64 = 1000;
const BATCH: usize = 500;

/// `commandFilter` fields and the audit event fields they read.
const COMMAND_FIELDS: [(&str, &str); 7] = [
    ("command.comm", "comm"),
    ("command.cwd", "cwd"),
    ("command.pid", "pid"),
    ("command.ppid", "ppid"),
    ("command.uid", "uid"),
    ("command.loginshell.id", "loginShellId"),
    ("command.loginshell.distance", "loginShellDistance"),
];

/// Labels that audit events also carry as top-level fields.
const LABEL_FIELDS: [(&str, &str); 3] = [
    ("host.hostName", "hostname"),
    ("container.id", "containerId"),
    ("container.name", "containerName"),
];

/// A label of a command: from `labels`, else the field it mirrors.
fn label(doc: &Document, name: &str) -> Option<String> {
    doc.get("labels")
        .and_then(|l| l.get(name))
        .and_then(text)
        .or_else(|| {
            LABEL_FIELDS
                .iter()
                .find(|(l, _)| *l == name)
                .and_then(|(_, f)| doc.get(*f))
                .and_then(text)
        })
}

fn parse(pairs: &[(String, String)], key: &str) -> SdcResult<Filter> {
    let raw = query_get(pairs, key).unwrap_or("");
    let f =
        filter::parse(raw).map_err(|e| SdcError::bad_request(format!("Parameter '{key}': {e}")))?;
    let known = |field: &str| {
        if key == "commandFilter" {
            COMMAND_FIELDS.iter().any(|(n, _)| *n == field)
        } else {
            field.contains('.')
        }
    };
    if let Some(c) = f.conditions.iter().find(|c| !known(&c.field)) {
        return Err(SdcError::bad_request(format!(
            "Parameter '{key}': invalid filter at position {}: unknown field '{}'",
            c.position, c.field
        )));
    }
    Ok(f)
}

fn metrics(pairs: &[(String, String)]) -> SdcResult<Vec<String>> {
    match query_get(pairs, "metrics").filter(|m| !m.is_empty()) {
        None => Ok(Vec::new()),
        Some(m) => serde_json::from_str(m).map_err(|_| {
            SdcError::bad_request("Parameter 'metrics' must be a JSON list of metric names")
        }),
    }
}

/// A command as this API shows it.
fn shown(e: &SecureEvent, metrics: &[String]) -> Value {
    let mut v = render(e, "");
    v["timestamp"] = (e.ts_ns / 1000).into();
    let values: Vec<Value> = metrics
        .iter()
        .map(|m| label(&e.doc, m).map_or(Value::Null, Value::from))
        .collect();
    v["metrics"] = values.into();
    v
}

fn is_command(e: &SecureEvent) -> bool {
    e.doc.get("type").and_then(Value::as_str) == Some("command")
}

/// `GET /api/commands?from=<µs>&to=<µs>&offset=&limit=[&scopeFilter=][&commandFilter=]
/// [&metrics=<json>]`: `{"commands": [...]}`.
pub async fn list(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let us = " (microseconds)";
    let (from, to) = (query_i64(&pairs, "from", us)?, query_i64(&pairs, "to", us)?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(SdcError::bad_request(
            "Parameter 'from' must not be after 'to'",
        ));
    }
    let limit = query_i64(&pairs, "limit", "")?.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(SdcError::bad_request(format!(
            "Parameter 'limit' must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = query_i64(&pairs, "offset", "")?.unwrap_or(0);
    let offset = usize::try_from(offset)
        .map_err(|_| SdcError::bad_request("Parameter 'offset' must not be negative"))?;
    let limit = usize::try_from(limit).unwrap_or(1);
    let (scope, command) = (
        parse(&pairs, "scopeFilter")?,
        parse(&pairs, "commandFilter")?,
    );
    let metrics = metrics(&pairs)?;
    let team = caller.team_id();
    let keep = move |e: &SecureEvent| {
        is_command(e)
            && scope
                .conditions
                .iter()
                .all(|c| c.matches(label(&e.doc, &c.field).as_deref()))
            && command.conditions.iter().all(|c| {
                let field = COMMAND_FIELDS
                    .iter()
                    .find(|(n, _)| *n == c.field)
                    .map_or("", |(_, f)| *f);
                c.matches(e.doc.get(field).and_then(text).as_deref())
            })
    };
    let page = state
        .tx(move |c| {
            read(
                c,
                team,
                from.map(|f| f.saturating_mul(1000)),
                to.map(|t| t.saturating_mul(1000)),
                offset,
                limit,
                keep,
            )
        })
        .await?;
    let commands: Vec<Value> = page.iter().map(|e| shown(e, &metrics)).collect();
    Ok(ok(json!({ "commands": commands })))
}

/// The matching commands `offset..offset + limit`, newest first, read in batches.
fn read(
    c: &dyn SysdigTx,
    team: i64,
    from_ns: Option<i64>,
    to_ns: Option<i64>,
    offset: usize,
    limit: usize,
    keep: impl Fn(&SecureEvent) -> bool,
) -> SdcResult<Vec<SecureEvent>> {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut start: Option<EventPos> = None;
    loop {
        let range = EventRange {
            from_ns,
            to_ns,
            max_seq: None,
            start,
            older: true,
            limit: BATCH,
        };
        let batch = c.secure_events_range(KIND, team, &range)?;
        let full = batch.len() >= BATCH;
        start = batch.last().map(SecureEvent::pos).or(start);
        for e in batch {
            if !keep(&e) {
                continue;
            }
            if skipped < offset {
                skipped += 1;
            } else if out.len() < limit {
                out.push(e);
            }
        }
        if !full || out.len() >= limit {
            return Ok(out);
        }
    }
}

/// `GET /api/commands/{id}?from=&to=[&metrics=<json>]`: `{"command": {...}}`.
pub async fn get(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let metrics = metrics(&pairs)?;
    let team = caller.team_id();
    let event = state
        .tx(move |c| Ok(c.secure_event_get(KIND, team, &id)?))
        .await?
        .filter(is_command)
        .ok_or_else(|| SdcError::not_found("Command not found"))?;
    Ok(ok(json!({ "command": shown(&event, &metrics) })))
}
