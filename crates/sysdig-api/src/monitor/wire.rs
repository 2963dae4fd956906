//! Stored documents into the `sysdig` crate's wire types, so that the emulator and the client
//! share one definition of each resource. A document field fills a typed field only when its
//! value has that field's type; anything else stays in the type's `extra` as stored, so the JSON
//! shown is the stored one (field for field; typed fields come first, in the type's order).

use config_repo::sysdig::{Document, TeamObject};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// A wire type of the `sysdig` crate that keeps the fields it does not model in `extra`.
pub trait Wire: Serialize + DeserializeOwned + Default {
    fn extra_mut(&mut self) -> &mut Map<String, Value>;
}

macro_rules! wire_types {
    ($($t:ty),* $(,)?) => {$(
        impl Wire for $t {
            fn extra_mut(&mut self) -> &mut Map<String, Value> {
                &mut self.extra
            }
        }
    )*};
}

wire_types!(
    sysdig::alerts::Alert,
    sysdig::alerts::Notification,
    sysdig::channels::Channel,
    sysdig::channels::ChannelOptions,
    sysdig::dashboards::Dashboard,
    sysdig::events::Event,
);

/// `doc` in the wire type `T`: the fields `T` holds exactly fill its typed fields, the others
/// (a `null` where `T` has a string, a negative id, a partial layout item...) go to `extra`
/// untouched, so `T` serialises to `doc` again. A field `T` always writes (an alert's `name`
/// and `type`, a channel's `options`) must be in `doc` with its type: the handlers' checks
/// store it so, and `tests/wire_json.rs` checks that no key is written twice.
pub fn typed<T: Wire>(doc: Document) -> T {
    let doc = Value::Object(doc);
    if let Ok(t) = T::deserialize(&doc)
        && serde_json::to_value(&t).is_ok_and(|shown| shown == doc)
    {
        return t;
    }
    let Value::Object(doc) = doc else {
        return T::default();
    };
    let (fitting, misfits): (Map<String, Value>, Map<String, Value>) =
        doc.into_iter().partition(|(k, v)| fits::<T>(k, v));
    // Fields that fit alone fit together: each fills its own typed field.
    let mut t = T::deserialize(Value::Object(fitting)).unwrap_or_default();
    t.extra_mut().extend(misfits);
    t
}

/// Whether `T` shows the field `key: value` as it is when it holds it alone.
fn fits<T: Wire>(key: &str, value: &Value) -> bool {
    let alone = Value::Object(Map::from_iter([(key.to_string(), value.clone())]));
    T::deserialize(&alone)
        .ok()
        .and_then(|t| serde_json::to_value(&t).ok())
        .is_some_and(|shown| shown.get(key) == Some(value))
}

/// A team-owned object's document with the column fields written in (the columns win).
pub fn columns_and_doc(o: &TeamObject) -> Document {
    let mut m = Map::new();
    m.insert("id".into(), o.id.into());
    m.insert("version".into(), o.version.into());
    for (k, v) in &o.doc {
        m.insert(k.clone(), v.clone());
    }
    m.insert("id".into(), o.id.into());
    m.insert("version".into(), o.version.into());
    m.insert("teamId".into(), o.team_id.into());
    m.insert("createdOn".into(), o.created_on.into());
    m.insert("modifiedOn".into(), o.modified_on.into());
    m
}

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
