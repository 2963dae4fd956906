//! Runtime policy events: `GET /api/v1/secureEvents[/{id}]` and the emulator's ingestion
//! route `POST /vigil/sysdig/secure/policyEvents`. Events are stored per team in the
//! repository's events table; lists page with the cursors of [`super::runtime`].

pub mod get;
pub mod ingest;
pub mod list;

use config_repo::sysdig::{Document, SecureEvent, event_kinds};
use serde_json::Value;

use super::runtime::{Fields, text};

pub const KIND: &str = event_kinds::POLICY;

/// Top-level fields a filter may name.
const TOP: [&str; 8] = [
    "id",
    "name",
    "description",
    "source",
    "originator",
    "severity",
    "machineId",
    "agentId",
];
/// Fields of `content` a filter may name.
const CONTENT: [&str; 4] = ["policyId", "ruleName", "ruleType", "output"];

/// Filter fields of policy events: the top-level and `content` fields above, and any dotted
/// name (`host.hostName`, `container.name`), which is a label.
pub struct PolicyFields;

impl Fields for PolicyFields {
    fn known(field: &str) -> bool {
        TOP.contains(&field) || CONTENT.contains(&field) || field.contains('.')
    }

    fn value(doc: &Document, field: &str) -> Option<String> {
        let at = |m: Option<&Value>| m.and_then(|v| v.get(field)).and_then(text);
        if TOP.contains(&field) {
            doc.get(field).and_then(text)
        } else if CONTENT.contains(&field) {
            at(doc.get("content"))
        } else {
            at(doc.get("labels"))
        }
    }
}

/// An event as the API shows it: the stored document with its id, time, customer and cursor.
pub fn render(e: &SecureEvent, cursor: &str) -> Value {
    let mut m = e.doc.clone();
    m.insert("id".into(), e.id.clone().into());
    if !cursor.is_empty() {
        m.insert("cursor".into(), cursor.into());
    }
    m.insert("timestamp".into(), e.ts_ns.into());
    m.insert("customerId".into(), 1.into());
    Value::Object(m)
}
