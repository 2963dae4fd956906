//! `PUT /api/users/{id}` (admins only).

use axum::{extract::State, response::Response};
use config_repo::{now_ms, sysdig::User};
use serde_json::{Value, json};

use super::{check_user_fields, render_user};
use crate::{
    SysdigState,
    auth::Caller,
    domain::ROLE_CUSTOMER,
    error::{SdcError, SdcResult},
    http::{JsonBody, P, check_version, ok},
    monitor::record::{Record, new_name},
};

pub async fn update(
    State(state): State<SysdigState>,
    caller: Caller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let id = User::id(&id)?;
    let m = body.object()?;
    check_user_fields(&m)?;
    let u = state
        .tx(move |c| {
            let mut u = User::load(c, id)?;
            check_version(&m, u.version, "User")?;
            if let Some(name) = new_name(&m, "username")?
                && !name.eq_ignore_ascii_case(&u.username)
            {
                if c.user_by_name(name)?.is_some() {
                    return Err(SdcError::unprocessable(format!(
                        "User {name} already exists"
                    )));
                }
                u.username = name.to_string();
            }
            if let Some(r) = m.get("systemRole").and_then(Value::as_str) {
                if u.id == caller.user.id && r != ROLE_CUSTOMER {
                    return Err(SdcError::unprocessable(
                        "You cannot remove your own administrator role",
                    ));
                }
                u.system_role = r.to_string();
            }
            for k in ["firstName", "lastName", "enabled"] {
                if let Some(v) = m.get(k).filter(|v| !v.is_null()) {
                    u.doc.insert(k.into(), v.clone());
                }
            }
            u.doc.insert("lastUpdated".into(), now_ms().into());
            u.version += 1;
            c.user_update(&u)?;
            render_user(c, &u)
        })
        .await?;
    Ok(ok(json!({"user": u})))
}
