//! Stored documents into the `sysdig` crate's wire types, so that the emulator and the client
//! share one definition of users and teams. A document field fills a typed field only when its
//! value has that field's type; anything else stays in the type's `extra` as stored, so the JSON
//! shown is the stored one.

use config_repo::sysdig::Document;
use serde_json::Value;

/// A stored id or version as the wire types hold it (stored ones are never negative).
pub fn unsigned(n: i64) -> Option<u64> {
    u64::try_from(n).ok()
}

/// Takes a string field out of `doc`.
pub fn take_str(doc: &mut Document, key: &str) -> Option<String> {
    match doc.get(key) {
        Some(Value::String(_)) => match doc.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Takes a boolean field out of `doc`.
pub fn take_bool(doc: &mut Document, key: &str) -> Option<bool> {
    let b = doc.get(key)?.as_bool()?;
    doc.remove(key);
    Some(b)
}

/// Takes an array-of-strings field out of `doc`.
pub fn take_strings(doc: &mut Document, key: &str) -> Option<Vec<String>> {
    let list: Vec<String> = doc
        .get(key)?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<_>>()?;
    doc.remove(key);
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_values_of_the_field_type_are_taken() {
        let Value::Object(mut doc) =
            json!({"a": "x", "b": null, "c": true, "d": ["p", 1], "e": ["q"]})
        else {
            unreachable!()
        };
        assert_eq!(take_str(&mut doc, "a").as_deref(), Some("x"));
        assert_eq!(take_str(&mut doc, "b"), None);
        assert_eq!(take_bool(&mut doc, "c"), Some(true));
        assert_eq!(take_strings(&mut doc, "d"), None);
        assert_eq!(take_strings(&mut doc, "e"), Some(vec!["q".to_string()]));
        assert_eq!(Value::Object(doc), json!({"b": null, "d": ["p", 1]}));
        assert_eq!(unsigned(-1), None);
    }
}
