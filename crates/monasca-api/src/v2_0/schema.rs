//! monasca-api validates request bodies with voluptuous; its messages, written once. Each
//! handler wraps them in the status upstream answers with (400 or 422).

use serde_json::Value;

/// `expected a dictionary`: the body is not a JSON object.
pub const NOT_A_DICT: &str = "expected a dictionary";

/// A key the schema requires is missing.
pub fn required(key: &str) -> String {
    format!("required key not provided @ data['{key}']")
}

/// A key the schema does not know.
pub fn extra(key: &str) -> String {
    format!("extra keys not allowed @ data['{key}']")
}

/// A value of the wrong type or out of range: `what` is voluptuous' reason (`expected str`,
/// `not a valid value`, ...).
pub fn value(what: &str, key: &str) -> String {
    format!("{what} for dictionary value @ data['{key}']")
}

/// Element `i` of the list under `key` has the wrong type.
pub fn item(what: &str, key: &str, i: usize) -> String {
    format!("{what} @ data['{key}'][{i}]")
}

/// The string under `key`, at most `max` characters, or voluptuous' message for it.
pub fn string(v: &Value, key: &str, max: usize) -> Result<String, String> {
    match v {
        Value::String(s) if s.chars().count() > max => Err(value(
            &format!("length of value must be at most {max}"),
            key,
        )),
        Value::String(s) => Ok(s.clone()),
        _ => Err(value("expected str", key)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn messages_match_voluptuous() {
        assert_eq!(required("name"), "required key not provided @ data['name']");
        assert_eq!(extra("x"), "extra keys not allowed @ data['x']");
        assert_eq!(
            string(&Value::from(5), "name", 3).unwrap_err(),
            "expected str for dictionary value @ data['name']"
        );
        assert_eq!(
            string(&Value::from("abcd"), "name", 3).unwrap_err(),
            "length of value must be at most 3 for dictionary value @ data['name']"
        );
        assert_eq!(
            item("expected str", "match_by", 2),
            "expected str @ data['match_by'][2]"
        );
    }
}
