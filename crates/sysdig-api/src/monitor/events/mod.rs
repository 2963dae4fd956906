//! `/api/v2/events`: the team's custom events, with the filters and pivot paging that
//! sdcclient's `get_events` sends, and `/api/events` (v1) over the same stored events. Event
//! ids are strings on the wire.

pub mod create;
pub mod list;
pub mod v1;

use config_repo::sysdig::{Document, SysdigTx, TeamObject, kinds};
use serde_json::Value;
use sysdig::events::Event as WireEvent;

use super::{
    owned::Owned,
    wire::{columns_and_doc, typed},
};
use crate::{
    auth::Caller,
    error::{SdcError, SdcResult},
};

pub const KIND: &str = kinds::EVENT;

/// Events for the generic handlers of `owned` (get and delete; they are never updated).
pub struct Event;

impl Owned for Event {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "event";
    const WHAT: &'static str = "Event";

    fn not_found() -> SdcError {
        SdcError::not_found("Event not found")
    }

    type View = WireEvent;

    fn view(_: &dyn SysdigTx, o: &TeamObject, _: &Caller) -> SdcResult<WireEvent> {
        Ok(render(o))
    }
}

/// Single spaces around `=`/`!=` and between words, outside quotes: sdcclient's specs expect
/// `host.hostName='ci'` back as `host.hostName = 'ci'`.
pub fn normalize_scope(scope: &str) -> String {
    let mut spaced = String::with_capacity(scope.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = scope.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) => {
                spaced.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None => match ch {
                '\'' | '"' => {
                    quote = Some(ch);
                    spaced.push(ch);
                }
                '!' if chars.peek() == Some(&'=') => {
                    chars.next();
                    spaced.push_str(" != ");
                }
                '=' => spaced.push_str(" = "),
                c if c.is_whitespace() => spaced.push(' '),
                c => spaced.push(c),
            },
        }
    }
    // Collapse runs of spaces outside quotes.
    let mut out = String::with_capacity(spaced.len());
    let mut quote: Option<char> = None;
    for ch in spaced.chars() {
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
                out.push(ch);
            }
            None => {
                if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                }
                if !(ch == ' ' && out.ends_with(' ')) {
                    out.push(ch);
                }
            }
        }
    }
    out.trim().to_string()
}

/// An event as the API shows it.
pub fn render(o: &TeamObject) -> WireEvent {
    typed(shown(o))
}

/// The fields of a shown event: a string id, no version.
fn shown(o: &TeamObject) -> Document {
    let mut m = columns_and_doc(o);
    m.insert("id".into(), o.id.to_string().into());
    m.remove("version");
    m.remove("modifiedOn");
    m
}

/// When the event happened (ms).
pub fn ts(o: &TeamObject) -> i64 {
    o.doc.get("timestamp").and_then(Value::as_i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::normalize_scope;

    #[test]
    fn scope_spacing_is_normalised_outside_quotes() {
        assert_eq!(
            normalize_scope("host.hostName='ci'"),
            "host.hostName = 'ci'"
        );
        assert_eq!(
            normalize_scope("a  =  'x = y'   and b!=\"c\""),
            "a = 'x = y' and b != \"c\""
        );
        assert_eq!(normalize_scope("  a in ('x', 'y') "), "a in ('x', 'y')");
    }
}
