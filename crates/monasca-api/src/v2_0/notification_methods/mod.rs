//! `/v2.0/notification-methods`: where alarm actions send.

mod create;
mod delete;
mod deliveries;
mod get;
mod list;
mod patch;
mod send_test;
mod types;
mod update;

use axum::{Router, extract::FromRef, http::StatusCode, routing::get};
use config_repo::monasca::NotificationMethod as StoredMethod;
use monasca::types::{NotificationMethod, NotificationType, SelfLink};
use serde_json::Value;

use super::BaseUrl;
use crate::{MonascaState, Notifications, error::ApiError, v2_0::schema};

const VALID_PERIODS: [i64; 2] = [0, 60];
const SORT_FIELDS: [&str; 6] = ["id", "name", "type", "address", "updated_at", "created_at"];

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route(
            "/v2.0/notification-methods",
            get(list::list).post(create::create),
        )
        .route("/v2.0/notification-methods/types", get(types::types))
        .route(
            "/v2.0/notification-methods/{id}",
            get(get::show)
                .put(update::replace)
                .patch(patch::patch)
                .delete(delete::delete),
        )
        // Vigil extensions: a method's recent delivery attempts, and a test notification.
        .route(
            "/v2.0/notification-methods/{id}/deliveries",
            get(deliveries::deliveries),
        )
        .route(
            "/v2.0/notification-methods/{id}/test",
            axum::routing::post(send_test::send_test),
        )
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "Bad Request", msg)
}

/// A validated notification method body.
struct Fields {
    name: String,
    kind: NotificationType,
    address: String,
    period: i64,
}

/// monasca-api's schema and address checks, with its messages, and the checks of what this
/// server delivers (types it can send, periods only for webhooks, URLs it may call, PagerDuty
/// key shape). `period_required` is the PUT rule; POST defaults it to 0.
fn validate(
    v: &Value,
    period_required: bool,
    notifications: &Notifications,
) -> Result<Fields, ApiError> {
    let Value::Object(m) = v else {
        return Err(bad(schema::NOT_A_DICT));
    };
    if let Some(k) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "type" | "address" | "period"))
    {
        return Err(bad(schema::extra(k)));
    }
    let string = |key: &str, max: usize| -> Result<String, ApiError> {
        match m.get(key) {
            None => Err(bad(schema::required(key))),
            Some(v) => schema::string(v, key, max).map_err(bad),
        }
    };
    let name = string("name", 250)?;
    let kind = NotificationType::from(string("type", usize::MAX)?.to_uppercase());
    let address = string("address", 512)?;
    let period = match m.get("period") {
        None if period_required => return Err(bad("Period is required")),
        None => 0,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| bad(format!("Period {s} must be a valid integer")))?,
        Some(_) => {
            return Err(bad(schema::value("expected int", "period")));
        }
    };
    if !VALID_PERIODS.contains(&period) {
        return Err(bad(format!(
            "{period} is not in the configured list of valid periods: [0, 60]"
        )));
    }
    match kind {
        NotificationType::Email => {
            // Upstream's `.+@.+`, and no blanks or list separators: one mailbox.
            let ok = address
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                && !address
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || ",;<>".contains(c));
            if !ok {
                return Err(bad(format!("Address {address} is not of correct format")));
            }
        }
        NotificationType::Webhook | NotificationType::Slack | NotificationType::Jira => {
            match url::Url::parse(&address) {
                Err(_) => {
                    return Err(bad(format!("Address {address} does not have URL scheme")));
                }
                Ok(u) if u.host_str().is_none_or(str::is_empty) => {
                    return Err(bad(format!(
                        "Address {address} does not have network location"
                    )));
                }
                Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                    return Err(bad(format!(
                        "Address {address} scheme is not in ['http', 'https']"
                    )));
                }
                Ok(_) => {}
            }
        }
        _ => {}
    }
    if !notifications.types.contains(&kind) {
        return Err(bad(format!("Not a valid notification method type {kind} ")));
    }
    if period != 0 && kind != NotificationType::Webhook {
        return Err(bad("Period can only be set with webhooks"));
    }
    // What the engine needs of the type: URLs it may call, PagerDuty key shape, Jira project.
    (notifications.check_address)(kind.as_str(), &address)
        .map_err(|why| bad(format!("Address {address} is not allowed: {why}")))?;
    Ok(Fields {
        name,
        kind,
        address,
        period,
    })
}

fn collection(base: &BaseUrl) -> String {
    let url = base.url();
    match url.find("/v2.0/notification-methods") {
        Some(i) => format!("{}/v2.0/notification-methods", &url[..i]),
        None => url,
    }
}

fn to_wire(coll: &str, m: StoredMethod) -> NotificationMethod {
    NotificationMethod {
        links: vec![SelfLink {
            href: format!("{coll}/{}", m.id),
            rel: "self".into(),
        }],
        id: m.id,
        name: m.name,
        kind: m.kind,
        address: m.address,
        period: m.period,
    }
}

fn stored(tenant: String, id: String, f: Fields) -> StoredMethod {
    StoredMethod {
        id,
        tenant,
        name: f.name,
        kind: f.kind,
        address: f.address,
        period: f.period,
    }
}
