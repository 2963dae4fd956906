//! Raw HTTP, for what the typed clients will not send.

/// Sends `body` with `method` to `url` (token as `X-Auth-Token`); the status and the body as
/// JSON (a non-JSON body as a JSON string, none as `null`).
pub async fn raw(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, serde_json::Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new().request(method, url).body(body);
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    if let Some(c) = content_type {
        req = req.header("Content-Type", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::String(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    };
    (status, json)
}
