//! JSON answers decoded with `serde_path_to_error`, so an answer that does not fit names the
//! JSON path where it stops fitting (`elements[3].dimensions`).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Error, Result};

/// Decodes `bytes`, the answer from `url`. An empty answer should be given as `null`.
///
/// # Errors
/// [`Error::Decode`] with the path of the first thing that does not fit.
pub fn json<T: DeserializeOwned>(url: &str, bytes: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        url: url.to_string(),
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// Decodes an already parsed answer, taking the output from under `envelope` (`{"alert":
/// {...}}`) when one is named; paths then start with the envelope's key.
///
/// # Errors
/// [`Error::Decode`]: no such envelope, or a value that does not fit.
pub fn value<T: DeserializeOwned>(url: &str, envelope: Option<&str>, v: Value) -> Result<T> {
    let v = match (envelope, v) {
        (Some(k), Value::Object(mut m)) => m.remove(k).ok_or_else(|| Error::Decode {
            url: url.to_string(),
            path: k.to_string(),
            source: serde::de::Error::custom(format!("missing field `{k}`")),
        })?,
        (Some(k), _) => {
            return Err(Error::Decode {
                url: url.to_string(),
                path: ".".into(),
                source: serde::de::Error::custom(format!("expected an object with `{k}`")),
            });
        }
        (None, v) => v,
    };
    serde_path_to_error::deserialize(v).map_err(|e| Error::Decode {
        url: url.to_string(),
        path: match envelope {
            Some(k) => format!("{k}.{}", e.path()),
            None => e.path().to_string(),
        },
        source: e.into_inner(),
    })
}

/// Parses an answer into a JSON value (the path of a syntax error is `.`).
///
/// # Errors
/// [`Error::Decode`] for text that is not JSON.
pub fn parse(url: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        url: url.to_string(),
        path: ".".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
        dims: BTreeMap<String, u32>,
    }

    fn path_of(r: Result<impl std::fmt::Debug>) -> String {
        match r.unwrap_err() {
            Error::Decode { path, .. } => path,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_json_path() {
        let bad = br#"[{"name":"a","dims":{}},{"name":"b","dims":{"x":"no"}}]"#;
        assert_eq!(path_of(json::<Vec<Thing>>("u", bad)), "[1].dims.x");
        let e = json::<Vec<Thing>>("http://h/x", bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("unexpected response from http://h/x at [1].dims.x: "),
            "{e}"
        );
        json::<()>("u", b"null").unwrap();
        assert!(json::<Thing>("u", b"null").is_err());
    }

    #[test]
    fn envelopes_are_opened_and_named_in_paths() {
        let ok: Thing = value(
            "u",
            Some("thing"),
            json!({"thing": {"name": "a", "dims": {}}}),
        )
        .unwrap();
        assert_eq!(ok.name, "a");
        let bad = json!({"thing": {"name": "a", "dims": {"x": "no"}}});
        assert_eq!(
            path_of(value::<Thing>("u", Some("thing"), bad)),
            "thing.dims.x"
        );
        assert_eq!(
            path_of(value::<Thing>("u", Some("thing"), json!({}))),
            "thing"
        );
        assert_eq!(path_of(value::<Thing>("u", Some("thing"), json!([1]))), ".");
        assert_eq!(path_of(parse("u", b"<html>")), ".");
        value::<()>("u", None, Value::Null).unwrap();
    }
}
