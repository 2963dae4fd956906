//! The Keystone v3 subset that clients need to log in to Vigil's built-in identity: version
//! discovery, `POST /v3/auth/tokens` (password and token methods, project scope) and token
//! validation. Errors use Keystone's `{"error": {"code", "message", "title"}}` shape.

use axum::{
    Json, Router,
    body::Body,
    extract::FromRef,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{
    MonascaState,
    identity::{TokenInfo, UserConfig},
    v2_0::BaseUrl,
};

const DOMAIN: (&str, &str) = ("default", "Default");

pub fn router<S>(prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    let prefix = prefix.trim_end_matches('/');
    let root = if prefix.is_empty() { "/" } else { prefix };
    let issuer = prefix.to_string();
    Router::new()
        .route(root, get(versions))
        .route(&format!("{prefix}/v3"), get(version))
        .route(
            &format!("{prefix}/v3/auth/tokens"),
            get(validate).post(issue).delete(revoke),
        )
        .route(
            &format!("{prefix}/v3/users/{{user}}/application_credentials"),
            axum::routing::post(create_app_credential),
        )
        .layer(axum::middleware::from_fn(move |req, next| {
            challenge(issuer.clone(), req, next)
        }))
}

/// Keystone's 401s name where to authenticate: this service, under `prefix`.
async fn challenge(
    prefix: String,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let base = BaseUrl::from_parts(&parts);
    let mut resp = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    if resp.status() == StatusCode::UNAUTHORIZED
        && let Ok(v) = HeaderValue::from_str(&format!("Keystone uri=\"{}{prefix}\"", base.origin))
    {
        resp.headers_mut()
            .insert(axum::http::header::WWW_AUTHENTICATE, v);
    }
    resp
}

fn error(status: StatusCode, title: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "title": title}});
    (status, Json(body)).into_response()
}

/// keystonemiddleware's 401; [`challenge`] names this service in its `WWW-Authenticate`.
fn unauthorized() -> Response {
    crate::error::unauthorized(None)
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "Bad Request", message)
}

fn v3(base: &BaseUrl, prefix: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{}{prefix}/v3/", base.origin)}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    })
}

async fn versions(State(state): State<MonascaState>, base: BaseUrl) -> Response {
    let body = json!({"versions": {"values": [v3(&base, &state.identity.prefix)]}});
    (StatusCode::MULTIPLE_CHOICES, Json(body)).into_response()
}

async fn version(State(state): State<MonascaState>, base: BaseUrl) -> Json<Value> {
    Json(json!({"version": v3(&base, &state.identity.prefix)}))
}

fn fmt_ts(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string())
        .unwrap_or_default()
}

/// The token document Keystone returns, with a catalog naming Vigil's own endpoints.
fn token_body(base: &BaseUrl, prefix: &str, method: &str, t: &TokenInfo) -> Value {
    let endpoint = |iface: &str, url: String| json!({"id": format!("monasca-{iface}"), "interface": iface, "region": "RegionOne", "region_id": "RegionOne", "url": url});
    let monitoring = format!("{}/v2.0", base.origin);
    let identity = format!("{}{prefix}/v3", base.origin);
    let mut token = json!({
        "methods": [method],
        "user": {"id": t.user, "name": t.user, "domain": {"id": DOMAIN.0, "name": DOMAIN.1}, "password_expires_at": null},
        "audit_ids": [uuid::Uuid::new_v4().simple().to_string()[..22].to_string()],
        "expires_at": fmt_ts(t.expires_at_ms),
        "issued_at": fmt_ts(t.issued_at_ms),
    });
    if let Some(project) = &t.project {
        token["project"] =
            json!({"id": project, "name": project, "domain": {"id": DOMAIN.0, "name": DOMAIN.1}});
        token["roles"] = Value::Array(
            t.roles
                .iter()
                .map(|r| json!({"id": r, "name": r}))
                .collect(),
        );
        token["is_domain"] = json!(false);
        token["catalog"] = json!([
            {"id": "monasca", "type": "monitoring", "name": "monasca", "endpoints": [
                endpoint("public", monitoring.clone()),
                endpoint("internal", monitoring.clone()),
                endpoint("admin", monitoring),
            ]},
            {"id": "keystone", "type": "identity", "name": "keystone", "endpoints": [
                endpoint("public", identity.clone()),
                endpoint("internal", identity.clone()),
                endpoint("admin", identity),
            ]},
        ]);
    }
    json!({"token": token})
}

fn domain_ok(v: Option<&Value>) -> bool {
    match v {
        None => true,
        Some(d) => {
            d.get("id")
                .and_then(Value::as_str)
                .is_none_or(|i| i == DOMAIN.0)
                && d.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|n| n.eq_ignore_ascii_case(DOMAIN.1))
        }
    }
}

async fn issue(State(state): State<MonascaState>, base: BaseUrl, body: Body) -> Response {
    let id = &state.identity;
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return bad_request("The request body is too large");
    };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        return bad_request("Expecting to find valid JSON in request body.");
    };
    let auth = &v["auth"];
    let methods: Vec<&str> = auth["identity"]["methods"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (user, method): (UserConfig, &str) = if methods.contains(&"password") {
        let u = &auth["identity"]["password"]["user"];
        let name = u["name"].as_str().or_else(|| u["id"].as_str());
        let password = u["password"].as_str();
        let (Some(name), Some(password)) = (name, password) else {
            return bad_request("Invalid input for field 'identity/password/user'.");
        };
        if !domain_ok(u.get("domain")) {
            return unauthorized();
        }
        match id.check_password(name, password) {
            Some(u) => (u.clone(), "password"),
            None => {
                tracing::info!(user = name, "identity: wrong user name or password");
                return unauthorized();
            }
        }
    } else if methods.contains(&"application_credential") {
        let c = &auth["identity"]["application_credential"];
        let Some(secret) = c["secret"].as_str() else {
            return bad_request("Invalid input for field 'identity/application_credential'.");
        };
        let by_name = c["name"].as_str().zip(
            c["user"]["name"]
                .as_str()
                .or_else(|| c["user"]["id"].as_str()),
        );
        match id
            .check_app_credential(c["id"].as_str(), by_name, secret)
            .await
        {
            // Application credentials are scoped to their user's project by Keystone.
            Some(u) => {
                let u = u.clone();
                let project = Some(u.project.clone());
                return issued(&base, id, &u, project, "application_credential").await;
            }
            None => return unauthorized(),
        }
    } else if methods.contains(&"token") {
        let old = match auth["identity"]["token"]["id"].as_str() {
            Some(t) => id.lookup(t).await,
            None => None,
        };
        let Some(old) = old else {
            return unauthorized();
        };
        match id.user(&old.user) {
            Some(u) => (u.clone(), "token"),
            None => return unauthorized(),
        }
    } else {
        return unauthorized();
    };
    let scope = &auth["scope"];
    let project = if scope.is_null() || scope.get("project").is_none() {
        None
    } else {
        let p = &scope["project"];
        let name = p["name"].as_str().or_else(|| p["id"].as_str());
        if !domain_ok(p.get("domain")) {
            return unauthorized();
        }
        match name {
            // A user has roles on its own project only.
            Some(n) if n == user.project => Some(user.project.clone()),
            _ => return unauthorized(),
        }
    };
    issued(&base, id, &user, project, method).await
}

/// Issues a token and answers as Keystone: 201, the token in `X-Subject-Token`.
async fn issued(
    base: &BaseUrl,
    id: &crate::identity::Identity,
    user: &UserConfig,
    project: Option<String>,
    method: &str,
) -> Response {
    let (token, info) = match id.issue(user, project).await {
        Ok(issued) => issued,
        Err(e) => {
            tracing::warn!("identity: cannot keep a new token: {e}");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "The token store is unavailable.",
            );
        }
    };
    let mut resp = (
        StatusCode::CREATED,
        Json(token_body(base, &id.prefix, method, &info)),
    )
        .into_response();
    if let Ok(h) = HeaderValue::from_str(&token) {
        resp.headers_mut().insert("x-subject-token", h);
    }
    resp
}

/// `POST /v3/users/{user}/application_credentials`: a user creates its own.
async fn create_app_credential(
    State(state): State<MonascaState>,
    axum::extract::Path(user): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let id = &state.identity;
    let caller = match caller(id, &headers).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    if caller.user != user || caller.project.is_none() {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You are not authorized to perform the requested action.",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 16).await else {
        return bad_request("The request body is too large");
    };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        return bad_request("Expecting to find valid JSON in request body.");
    };
    let c = &v["application_credential"];
    let Some(name) = c["name"].as_str() else {
        return bad_request("Invalid input for field 'application_credential/name'.");
    };
    let cred = match id
        .create_app_credential(
            &user,
            name.to_string(),
            c["secret"].as_str().map(str::to_string),
        )
        .await
    {
        Ok(cred) => cred,
        Err(e) => {
            tracing::warn!("identity: cannot keep an application credential: {e}");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "The credential store is unavailable.",
            );
        }
    };
    let roles: Vec<Value> = caller
        .roles
        .iter()
        .map(|r| json!({"id": r, "name": r}))
        .collect();
    let body = json!({"application_credential": {
        "id": cred.id, "name": cred.name, "secret": cred.secret, "user_id": user,
        "project_id": caller.project, "roles": roles, "expires_at": null, "unrestricted": false,
        "description": c["description"].clone(),
    }});
    (StatusCode::CREATED, Json(body)).into_response()
}

/// The live token the request authenticates with (`X-Auth-Token`): `Err` is the answer when
/// there is none (401), or when the token store cannot be read (503).
async fn caller(
    id: &crate::identity::Identity,
    headers: &HeaderMap,
) -> Result<crate::identity::TokenInfo, Response> {
    let Some(token) = header(headers, "x-auth-token") else {
        return Err(unauthorized());
    };
    match id.try_lookup(token).await {
        Ok(Some(info)) => Ok(info),
        Ok(None) => Err(unauthorized()),
        Err(_) => Err(unavailable()),
    }
}

/// Keystone's 503 when its database is down.
fn unavailable() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "The identity store is unavailable; try again.",
    )
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn validate(
    State(state): State<MonascaState>,
    base: BaseUrl,
    headers: HeaderMap,
) -> Response {
    let id = &state.identity;
    if let Err(refused) = caller(id, &headers).await {
        return refused;
    }
    let Some(subject) = header(&headers, "x-subject-token") else {
        return bad_request("X-Subject-Token is required.");
    };
    match id.try_lookup(subject).await {
        Ok(Some(info)) => Json(token_body(&base, &id.prefix, "password", &info)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "Not Found", "Could not find token."),
        Err(_) => unavailable(),
    }
}

async fn revoke(State(state): State<MonascaState>, headers: HeaderMap) -> Response {
    let id = &state.identity;
    if let Err(refused) = caller(id, &headers).await {
        return refused;
    }
    match header(&headers, "x-subject-token") {
        Some(s) if id.revoke(s).await => StatusCode::NO_CONTENT.into_response(),
        _ => error(StatusCode::NOT_FOUND, "Not Found", "Could not find token."),
    }
}
