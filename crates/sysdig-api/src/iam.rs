//! `POST /identity/token`: IBM Cloud IAM's API-key grant, answered on Vigil's own port so that
//! clients can point their IAM URL at the server. Errors use IAM's `errorCode` bodies.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::SysdigState;

const GRANT_APIKEY: &str = "urn:ibm:params:oauth:grant-type:apikey";

fn iam_error(code: &str, message: &str) -> Response {
    let body = json!({
        "errorCode": code,
        "errorMessage": message,
        "context": {
            "requestId": uuid::Uuid::new_v4().simple().to_string(),
            "requestType": "incoming.Identity_Token",
            "host": "vigil",
            "instanceId": "vigil",
            "startTime": jiff::Timestamp::now().to_string(),
        },
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

pub async fn token(State(state): State<SysdigState>, _headers: HeaderMap, body: Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |k: &str| {
        form.iter()
            .rev()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    match field("grant_type") {
        Some(GRANT_APIKEY) => {}
        Some(_) => {
            return iam_error(
                "BXNIM0103E",
                "Grant type not supported: only 'urn:ibm:params:oauth:grant-type:apikey' is.",
            );
        }
        None => {
            return iam_error(
                "BXNIM0109E",
                "Property missing or empty. Property name: 'grant_type'.",
            );
        }
    }
    let Some(apikey) = field("apikey") else {
        return iam_error(
            "BXNIM0109E",
            "Property missing or empty. Property name: 'apikey'.",
        );
    };
    let user = state
        .settings
        .iam_api_keys
        .iter()
        .find(|k| vigil_http::same_secret(k.api_key.expose_secret(), apikey))
        .map(|k| k.user.clone());
    let Some(user) = user else {
        return iam_error("BXNIM0415E", "Provided API key could not be found");
    };
    let found = state
        .tx(move |c| Ok(c.user_by_name(&user)?.map(|u| u.id)))
        .await;
    let user_id = match found {
        Ok(Some(id)) => id,
        Ok(None) => return iam_error("BXNIM0415E", "Provided API key could not be found"),
        Err(e) => return e.into_response(),
    };
    let (access, ttl) = state.iam_issue(user_id);
    let now = jiff::Timestamp::now().as_second();
    let ttl = ttl.as_secs();
    Json(json!({
        "access_token": access,
        "refresh_token": "not_supported",
        "ims_user_id": user_id,
        "token_type": "Bearer",
        "expires_in": ttl,
        "expiration": now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
        "scope": "ibm openid",
    }))
    .into_response()
}
