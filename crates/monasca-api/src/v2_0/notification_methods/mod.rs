//! `/v2.0/notification-methods`: where alarm actions send.

use axum::{
    Json, Router,
    body::Body,
    extract::FromRef,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    routing::get,
};
use config_repo::monasca::{NotificationMethod as StoredMethod, NotificationMethodSort, Paging};
use monasca::types::{
    Envelope, NotificationMethod, NotificationMethodType, NotificationType, SelfLink,
};
use serde_json::{Map, Value};

use super::{BaseUrl, Tenant, body, params::Query};
use crate::{MonascaState, error::ApiError, new_id};

/// The types this server can send, as `types` lists them.
pub const TYPES: [NotificationType; 3] = [
    NotificationType::Email,
    NotificationType::Pagerduty,
    NotificationType::Webhook,
];
const VALID_PERIODS: [i64; 2] = [0, 60];
const SORT_FIELDS: [&str; 6] = ["id", "name", "type", "address", "updated_at", "created_at"];

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route("/v2.0/notification-methods", get(list).post(create))
        .route("/v2.0/notification-methods/types", get(types))
        .route(
            "/v2.0/notification-methods/{id}",
            get(show).put(replace).patch(patch).delete(delete),
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

/// monasca-api's schema and address checks, with its messages. `period_required` is the PUT
/// rule; POST defaults it to 0.
fn validate(v: &Value, period_required: bool) -> Result<Fields, ApiError> {
    let Value::Object(m) = v else {
        return Err(bad("expected a dictionary"));
    };
    if let Some(k) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "type" | "address" | "period"))
    {
        return Err(bad(format!("extra keys not allowed @ data['{k}']")));
    }
    let string = |key: &str, max: usize| -> Result<String, ApiError> {
        match m.get(key) {
            None => Err(bad(format!("required key not provided @ data['{key}']"))),
            Some(Value::String(s)) if s.chars().count() > max => Err(bad(format!(
                "length of value must be at most {max} for dictionary value @ data['{key}']"
            ))),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(bad(format!(
                "expected str for dictionary value @ data['{key}']"
            ))),
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
            return Err(bad("expected int for dictionary value @ data['period']"));
        }
    };
    if !VALID_PERIODS.contains(&period) {
        return Err(bad(format!(
            "{period} is not in the configured list of valid periods: [0, 60]"
        )));
    }
    match kind {
        NotificationType::Email => {
            let ok = address
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
            if !ok {
                return Err(bad(format!("Address {address} is not of correct format")));
            }
        }
        NotificationType::Webhook => match url::Url::parse(&address) {
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
        },
        _ => {}
    }
    if !TYPES.contains(&kind) {
        return Err(bad(format!("Not a valid notification method type {kind} ")));
    }
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

async fn create(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<NotificationMethod>), ApiError> {
    body::require_json(&headers)?;
    let v = body::json(body, state.max_body_bytes).await?;
    let m = stored(tenant, new_id(), validate(&v, false)?);
    state.repos.notification_methods.create(m.clone()).await?;
    Ok((StatusCode::CREATED, Json(to_wire(&collection(&base), m))))
}

async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<NotificationMethod>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let sort: Vec<_> = q
        .sort_by(&SORT_FIELDS)?
        .into_iter()
        .filter_map(|(f, desc)| NotificationMethodSort::from_field(&f).map(|f| (f, desc)))
        .collect();
    let offset = q.row_offset()?;
    let limit = q.limit()?;
    let page = state
        .repos
        .notification_methods
        .list(&tenant, &sort, Paging { offset, limit })
        .await?;
    let coll = collection(&base);
    Ok(Json(Envelope {
        links: q.row_links(&base.url(), offset, limit, page.more),
        elements: page.items.into_iter().map(|m| to_wire(&coll, m)).collect(),
    }))
}

async fn show(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<NotificationMethod>, ApiError> {
    let m = state.repos.notification_methods.get(&tenant, &id).await?;
    Ok(Json(to_wire(&collection(&base), m)))
}

async fn update(
    tenant: String,
    state: &MonascaState,
    base: &BaseUrl,
    id: String,
    headers: &HeaderMap,
    body: Body,
    partial: bool,
) -> Result<Json<NotificationMethod>, ApiError> {
    body::require_json(headers)?;
    let v = body::json(body, state.max_body_bytes).await?;
    let methods = &state.repos.notification_methods;
    let v = if partial {
        let Value::Object(mut m) = v else {
            return Err(bad("expected a dictionary"));
        };
        // PATCH: what is not given keeps its stored value.
        let old = methods.get(&tenant, &id).await?;
        let mut full = Map::new();
        full.insert(
            "name".into(),
            m.remove("name").unwrap_or(Value::String(old.name)),
        );
        full.insert(
            "type".into(),
            m.remove("type")
                .unwrap_or(Value::String(old.kind.to_string())),
        );
        full.insert(
            "address".into(),
            m.remove("address").unwrap_or(Value::String(old.address)),
        );
        full.insert(
            "period".into(),
            m.remove("period").unwrap_or(Value::from(old.period)),
        );
        full.extend(m);
        Value::Object(full)
    } else {
        v
    };
    let m = stored(tenant, id, validate(&v, true)?);
    methods.update(m.clone()).await?;
    Ok(Json(to_wire(&collection(base), m)))
}

async fn replace(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<NotificationMethod>, ApiError> {
    update(tenant, &state, &base, id, &headers, body, false).await
}

async fn patch(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<NotificationMethod>, ApiError> {
    update(tenant, &state, &base, id, &headers, body, true).await
}

async fn delete(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .repos
        .notification_methods
        .delete(&tenant, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn types(
    _: Tenant,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Json<Envelope<NotificationMethodType>> {
    let q = Query::parse(raw.as_deref());
    Json(Envelope {
        links: q.links(&base.url(), None),
        elements: TYPES
            .iter()
            .map(|t| NotificationMethodType { kind: t.clone() })
            .collect(),
    })
}
