//! `POST /api/users` (invitation) and `POST /api/user/provisioning` (admins only).

use axum::{extract::State, response::Response};
use serde_json::{Value, json};

use super::{check_user_fields, render_user};
use crate::{
    SysdigState,
    auth::Caller,
    domain::{self, ROLE_USER, new_user_doc},
    error::{SdcError, SdcResult},
    http::{JsonBody, created, required_str},
};

async fn create(state: SysdigState, caller: Caller, body: JsonBody) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    check_user_fields(&m)?;
    let username = required_str(&m, "username")?.trim().to_string();
    // Sysdig logins are e-mail addresses.
    sysdig::validate::mailbox(&username).map_err(|e| SdcError::bad_request(e.to_string()))?;
    let role = m
        .get("systemRole")
        .and_then(Value::as_str)
        .unwrap_or(ROLE_USER)
        .to_string();
    let first = m.get("firstName").and_then(Value::as_str).unwrap_or("");
    let last = m.get("lastName").and_then(Value::as_str).unwrap_or("");
    // The password of `provisioning` is accepted and dropped: nobody logs in with it here.
    let doc = new_user_doc(first, last);
    let u = state
        .tx(move |c| {
            if c.user_by_name(&username)?.is_some() {
                return Err(SdcError::unprocessable(format!(
                    "User {username} already exists"
                )));
            }
            let u = domain::create_user(c, &username, &role, &doc)?;
            render_user(c, &u)
        })
        .await?;
    Ok(created(json!({"user": u})))
}

/// `POST /api/users` (invitation).
pub async fn invite(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    create(state, caller, body).await
}

/// `POST /api/user/provisioning/`.
pub async fn provision(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    create(state, caller, body).await
}
