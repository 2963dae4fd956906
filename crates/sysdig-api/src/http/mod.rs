//! What the Sysdig handlers share: answers, the JSON body and path extractors (refusing in
//! Sysdig's error shape, never axum's plain-text rejections), query strings as sdcclient builds
//! them, and field checks.

use axum::{
    Json,
    extract::{FromRef, FromRequest, FromRequestParts, Path, Request},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value};

use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
};

/// `200` with a JSON body.
pub fn ok(v: Value) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}

/// `201` with a JSON body (what Sysdig answers to creations).
pub fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// The body of a request as JSON; anything else is a 400 in the errors shape (never axum's
/// plain-text rejections).
pub struct JsonBody(pub Value);

impl<S> FromRequest<S> for JsonBody
where
    S: Send + Sync,
    SysdigState: FromRef<S>,
{
    type Rejection = SdcError;

    async fn from_request(req: Request, state: &S) -> SdcResult<Self> {
        let limit = SysdigState::from_ref(state).max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| SdcError::too_large(limit))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(SdcError::bad_request("Required request body is missing"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| SdcError::bad_request(format!("Malformed JSON request: {e}")))
    }
}

impl JsonBody {
    /// The object under `key` (`{"alert": {...}}`), or a 400.
    pub fn wrapped(self, key: &str) -> SdcResult<Map<String, Value>> {
        match self.0 {
            Value::Object(mut m) => match m.remove(key) {
                Some(Value::Object(inner)) => Ok(inner),
                _ => Err(SdcError::bad_request(format!(
                    "The request body must be a JSON object with an object '{key}'"
                ))),
            },
            _ => Err(SdcError::bad_request(format!(
                "The request body must be a JSON object with an object '{key}'"
            ))),
        }
    }

    /// The body as an object, or a 400.
    pub fn object(self) -> SdcResult<Map<String, Value>> {
        match self.0 {
            Value::Object(m) => Ok(m),
            _ => Err(SdcError::bad_request(
                "The request body must be a JSON object",
            )),
        }
    }
}

/// Path parameters as strings, with rejections in the errors shape.
pub struct P<T>(pub T);

impl<T, S> FromRequestParts<S> for P<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = SdcError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> SdcResult<Self> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| P(t))
            .map_err(|_| SdcError::bad_request("Invalid path parameter"))
    }
}

/// A numeric id from the path; anything else can name no object.
pub fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

/// Query pairs, split on the first `=` (sdcclient builds some query strings by hand and leaves
/// `=`, `:` and `/` raw in values), percent- and `+`-decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The last value of `key`.
pub fn query_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The integer parameter `key`, if given and not empty; anything else is a 400 that names the
/// parameter and, with `unit` (`" (seconds)"`), its unit.
///
/// # Errors
/// A value that is not an integer.
pub fn query_i64(pairs: &[(String, String)], key: &str, unit: &str) -> SdcResult<Option<i64>> {
    match query_get(pairs, key) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            SdcError::bad_request(format!("Parameter '{key}' must be an integer{unit}"))
        }),
    }
}

/// Booleans as Python's `str()` and JavaScript write them.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" | "1" => Some(true),
        "false" | "False" | "FALSE" | "0" => Some(false),
        _ => None,
    }
}

/// JSON types a field may have (`null` is always accepted and means "not given").
#[derive(Clone, Copy)]
pub enum Kind {
    Str,
    Bool,
    Int,
    Num,
    Arr,
    Obj,
}

/// Refuses fields of the wrong JSON type with a 400 naming the field.
pub fn check_fields(m: &Map<String, Value>, fields: &[(&str, Kind)]) -> SdcResult<()> {
    for (name, kind) in fields {
        let Some(v) = m.get(*name) else { continue };
        let good = match kind {
            _ if v.is_null() => true,
            Kind::Str => v.is_string(),
            Kind::Bool => v.is_boolean(),
            Kind::Int => v.is_i64() || v.is_u64() && v.as_i64().is_some(),
            Kind::Num => v.is_number(),
            Kind::Arr => v.is_array(),
            Kind::Obj => v.is_object(),
        };
        if !good {
            let what = match kind {
                Kind::Str => "a string",
                Kind::Bool => "a boolean",
                Kind::Int => "an integer",
                Kind::Num => "a number",
                Kind::Arr => "an array",
                Kind::Obj => "an object",
            };
            return Err(SdcError::bad_request(format!(
                "Field '{name}' must be {what}"
            )));
        }
    }
    Ok(())
}

/// A required non-empty string field.
pub fn required_str(m: &Map<String, Value>, name: &str) -> SdcResult<String> {
    match m.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(SdcError::bad_request(format!("Field '{name}' is required")))
        }
        Some(_) => Err(SdcError::bad_request(format!(
            "Field '{name}' must be a string"
        ))),
    }
}

/// Sets `name` to `default` when it is absent or null.
pub fn default_field(m: &mut Map<String, Value>, name: &str, default: Value) {
    if m.get(name).is_none_or(Value::is_null) {
        m.insert(name.into(), default);
    }
}

/// Optimistic locking: the body must carry the current `version`.
pub fn check_version(body: &Map<String, Value>, current: i64, what: &str) -> SdcResult<()> {
    match body.get("version") {
        None | Some(Value::Null) => {
            Err(SdcError::bad_request(format!("{what} version is required")))
        }
        Some(v) => match v.as_i64() {
            None => Err(SdcError::bad_request("Field 'version' must be an integer")),
            Some(sent) if sent != current => Err(SdcError::stale(what, sent, current)),
            Some(_) => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_splits_on_the_first_equals_and_decodes() {
        let p = query_pairs(Some(
            "scopeFilter=container.image=ubuntu&resolved=True&alertStatus=a&alertStatus=b&category=alert%2Ccustom&x",
        ));
        assert_eq!(query_get(&p, "scopeFilter"), Some("container.image=ubuntu"));
        assert_eq!(query_get(&p, "resolved").and_then(parse_bool), Some(true));
        assert_eq!(p.iter().filter(|(k, _)| k == "alertStatus").count(), 2);
        assert_eq!(query_get(&p, "category"), Some("alert,custom"));
        assert_eq!(query_get(&p, "x"), Some(""));
        assert!(query_pairs(None).is_empty());
    }
}
