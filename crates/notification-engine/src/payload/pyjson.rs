//! JSON text as Python's `json.dumps(value, indent=3)` writes it (what upstream's Slack and
//! Jira plugins put in their messages): three-space indent, `", "`-free item separators at
//! line ends, and every character outside printable ASCII escaped as `\uXXXX`.

use serde::Serialize;
use serde_json::{Serializer, Value, ser::PrettyFormatter};

/// `value` indented by three spaces, ASCII only.
pub fn dumps_indent3(value: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, PrettyFormatter::with_indent(b"   "));
    // Writing a `Value` into memory cannot fail.
    if value.serialize(&mut ser).is_err() {
        return value.to_string();
    }
    ascii_only(&String::from_utf8_lossy(&out))
}

/// Escapes every character outside ` `..`~` as Python's `ensure_ascii` does. Such
/// characters only occur inside JSON strings, where `\uXXXX` means the same.
fn ascii_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c as u32) < 0x7f {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn python_indent3_layout_and_escapes() {
        let v = json!({"a": 1, "b": [{"x": "é😀"}], "c": [], "d": {}});
        assert_eq!(
            dumps_indent3(&v),
            "{\n   \"a\": 1,\n   \"b\": [\n      {\n         \"x\": \"\\u00e9\\ud83d\\ude00\"\n      }\n   ],\n   \"c\": [],\n   \"d\": {}\n}"
        );
    }
}
