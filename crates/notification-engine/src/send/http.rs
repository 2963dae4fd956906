//! HTTP deliveries: one POST, judged by the receiver type's rule, answered in a line that
//! never shows the URL (its path and query may hold tokens).

use std::error::Error as _;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::Value;

use super::Outcome;
use crate::{
    payload::{Accepts, HttpRequest},
    policy::{Refused, UrlPolicy},
};

/// How much of a receiver's answer the attempt log keeps.
pub const ANSWER_BYTES: usize = 300;
/// How much of a Slack answer is read to judge it.
const SLACK_BYTES: usize = 64 * 1024;

/// The two clients: tenants' URLs go through the policy's resolver, the operator's own
/// endpoints do not. Neither follows redirects (a redirect could lead past the host rules).
#[derive(Clone)]
pub struct Clients {
    pub tenant: reqwest::Client,
    pub operator: reqwest::Client,
    pub policy: UrlPolicy,
}

impl Clients {
    /// # Errors
    /// The TLS back-end cannot start.
    pub fn new(policy: UrlPolicy) -> anyhow::Result<Self> {
        // Whoever installs first wins; every client of this workspace asks for ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = || {
            reqwest::Client::builder()
                .user_agent(concat!("vigil-notification/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
        };
        Ok(Self {
            tenant: base().dns_resolver(policy.resolver()).build()?,
            operator: base().build()?,
            policy,
        })
    }
}

/// Posts `req` with `idempotency_key`.
pub async fn post(clients: &Clients, req: &HttpRequest, idempotency_key: &str) -> Outcome {
    if req.tenant_url
        && let Err(why) = clients.policy.check_url(&req.url)
    {
        return Outcome::dropped(format!("refused by the webhook URL policy: {why}"));
    }
    let client = if req.tenant_url {
        &clients.tenant
    } else {
        &clients.operator
    };
    let mut builder = client
        .post(req.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", idempotency_key);
    for (name, value) in &req.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => builder = builder.header(n, v),
            _ => return Outcome::dropped(format!("the header {name:?} is not a valid header")),
        }
    }
    let body = serde_json::to_vec(&req.body).unwrap_or_default();
    let resp = match builder.body(body).send().await {
        Ok(r) => r,
        Err(e) => return transport_error(e),
    };
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let limit = if req.accepts == Accepts::Slack {
        SLACK_BYTES
    } else {
        ANSWER_BYTES
    };
    let body = read_prefix(resp, limit).await;
    let answer = answer_line(status, &body);
    let accepted = match req.accepts {
        Accepts::Success => status.is_success(),
        Accepts::Statuses(ok) => ok.contains(&status.as_u16()),
        Accepts::Slack => status.is_success() && slack_ok(is_json, &body),
    };
    if accepted {
        Outcome::delivered(answer)
    } else {
        Outcome::failed(answer)
    }
}

/// Slack's verdict: JSON `{"ok": true}`, or the text `ok`.
fn slack_ok(is_json: bool, body: &[u8]) -> bool {
    if is_json {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("ok").and_then(Value::as_bool))
            .unwrap_or(false)
    } else {
        body == b"ok"
    }
}

/// Up to `limit` bytes of the body; the rest is not waited for.
async fn read_prefix(mut resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    out
}

/// `HTTP 500 Internal Server Error: <start of the body>`.
pub fn answer_line(status: reqwest::StatusCode, body: &[u8]) -> String {
    let mut line = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_string();
    let text = String::from_utf8_lossy(&body[..body.len().min(ANSWER_BYTES)]);
    let text = text.trim();
    if !text.is_empty() {
        line.push_str(": ");
        line.push_str(text);
        if body.len() > ANSWER_BYTES {
            line.push('…');
        }
    }
    line
}

/// A request that got no answer: refused by the policy (dropped) or failed (retried).
fn transport_error(e: reqwest::Error) -> Outcome {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return Outcome::dropped(format!("refused by the webhook URL policy: {refused}"));
        }
        source = s.source();
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let shown = s.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = s.source();
    }
    Outcome::failed(text)
}
