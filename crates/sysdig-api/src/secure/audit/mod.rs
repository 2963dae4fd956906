//! Activity audit: `GET /api/v1/activityAudit/events`, the trace of a traceable event
//! (`GET /api/v1/activityAudit/events/{type}/{id}/trace`) and the emulator's ingestion route
//! `POST /vigil/sysdig/secure/activityAudit/events`. A traceable event keeps its trace in its
//! stored document (field `trace`), which lists never show.

pub mod commands;
pub mod ingest;
pub mod list;
pub mod trace;

use config_repo::sysdig::{Document, SecureEvent, event_kinds};
use serde_json::Value;

use super::runtime::{Fields, text};

pub const KIND: &str = event_kinds::AUDIT;

/// The event types (sdcclient's data sources).
pub const TYPES: [&str; 4] = ["command", "connection", "kubernetes", "fileaccess"];

/// Top-level fields a filter may name, across the four types.
const TOP: [&str; 33] = [
    "id",
    "type",
    "traceable",
    "hostname",
    "containerId",
    "containerName",
    "processName",
    "comm",
    "cmdline",
    "commandLine",
    "cwd",
    "pid",
    "ppid",
    "uid",
    "userLoginName",
    "userLoginUid",
    "loginShellId",
    "loginShellDistance",
    "tty",
    "clientIpv4",
    "clientPort",
    "serverIpv4",
    "serverPort",
    "l4protocol",
    "direction",
    "name",
    "directory",
    "permissions",
    "resource",
    "subResource",
    "verb",
    "sourceAddresses",
    "user",
];

/// Filter fields of audit events: the fields above and any dotted name (a label such as
/// `kubernetes.namespace.name`, looked up in `labels`, then at the top level).
pub struct AuditFields;

impl Fields for AuditFields {
    fn known(field: &str) -> bool {
        TOP.contains(&field) || field.contains('.')
    }

    fn value(doc: &Document, field: &str) -> Option<String> {
        if TOP.contains(&field) {
            return doc.get(field).and_then(text);
        }
        doc.get("labels")
            .and_then(|l| l.get(field))
            .or_else(|| doc.get(field))
            .and_then(text)
    }
}

/// An event as lists show it: without its trace, with id, time and (for lists) cursor.
pub fn render(e: &SecureEvent, cursor: &str) -> Value {
    let mut m = e.doc.clone();
    m.remove("trace");
    m.insert("id".into(), e.id.clone().into());
    if !cursor.is_empty() {
        m.insert("cursor".into(), cursor.into());
    }
    m.insert("timestamp".into(), e.ts_ns.into());
    Value::Object(m)
}

/// The routes of this area, for [`super::router`].
pub fn router<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::SysdigState: axum::extract::FromRef<S>,
{
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/activityAudit/events", get(list::list))
        .route(
            "/api/v1/activityAudit/events/{type}/{id}/trace",
            get(trace::trace),
        )
        .route(
            "/vigil/sysdig/secure/activityAudit/events",
            post(ingest::ingest),
        )
        .route("/api/commands", get(commands::list))
        .route("/api/commands/{id}", get(commands::get))
}
