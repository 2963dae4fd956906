//! Runtime policy events: `GET /api/v1/secureEvents[/{id}]` and the emulator's ingestion
//! route `POST /vigil/sysdig/secure/policyEvents`. Events are stored per team in the
//! repository's events table; lists page with the cursors of [`super::runtime`].

pub mod get;
pub mod ingest;
pub mod list;

use config_repo::sysdig::{Document, SecureEvent, event_kinds};
use serde_json::Value;

use sysdig::secure::filter::{Condition, Op};

use super::runtime::{Fields, text};

/// The pseudo-field that searches the event's texts.
const FREE_TEXT: &str = "freeText";

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

/// Filter fields of policy events: the top-level and `content` fields above, any dotted name
/// (`host.hostName`, `container.name`), which is a label, and `freeText` (sdcclient's example),
/// which matches a value found, ignoring case, in the name, description, rule name or output.
pub struct PolicyFields;

impl Fields for PolicyFields {
    fn known(field: &str) -> bool {
        TOP.contains(&field)
            || CONTENT.contains(&field)
            || field.contains('.')
            || field == FREE_TEXT
    }

    fn matches(doc: &Document, cond: &Condition) -> bool {
        if cond.field != FREE_TEXT {
            return cond.matches(Self::value(doc, &cond.field).as_deref());
        }
        let content = doc.get("content");
        let texts: Vec<String> = [
            doc.get("name"),
            doc.get("description"),
            content.and_then(|c| c.get("ruleName")),
            content.and_then(|c| c.get("output")),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_lowercase)
        .collect();
        let found = cond.values.iter().any(|v| {
            let v = v.to_lowercase();
            texts.iter().any(|t| t.contains(&v))
        });
        match cond.op {
            Op::Eq | Op::In => found,
            Op::Ne | Op::NotIn => !found,
        }
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

/// The routes of this area, for [`super::router`].
pub fn router<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::SysdigState: axum::extract::FromRef<S>,
{
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/secureEvents", get(list::list))
        .route("/api/v1/secureEvents/{id}", get(get::get))
        .route("/vigil/sysdig/secure/policyEvents", post(ingest::ingest))
}
