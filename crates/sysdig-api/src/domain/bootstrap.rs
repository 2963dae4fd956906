//! What every start makes sure of: the customer, the default teams (first start only), the
//! admin and IAM users, and the admin's Monitor API token.

use config_repo::{
    RepoResult, now_ms,
    sysdig::{Document, SysdigTx},
};
use secrecy::ExposeSecret;
use serde_json::json;

use super::{ROLE_CUSTOMER, ROLE_TEAM_MANAGER, ROLE_USER, create_user, new_user_doc, object};
use crate::settings::SysdigSettings;

fn default_team_doc(product: &str, description: &str) -> Document {
    let now = now_ms();
    object(json!({
        "description": description,
        "theme": "#7BB0B2",
        "show": "host",
        "filter": null,
        "canUseSysdigCapture": true,
        "canUseCustomEvents": true,
        "canUseAwsMetrics": true,
        "canUseBeaconMetrics": true,
        "canUseRapidResponse": false,
        "canUseAgentCli": false,
        "defaultTeamRole": "ROLE_TEAM_STANDARD",
        "entryPoint": {"module": if product == "SDS" { "Policies" } else { "Explore" }},
        "products": [product],
        "default": true,
        "immutable": true,
        "origin": "SYSDIG",
        "dateCreated": now,
        "lastUpdated": now,
    }))
}

/// First start: customer, default teams, admin. Every start: the admin and IAM users exist,
/// the admin token is the configured one (or a stored/generated one). Returns the admin token
/// to write to the token file when it was not configured.
///
/// # Errors
/// The repository fails.
pub fn run(c: &dyn SysdigTx, s: &SysdigSettings) -> RepoResult<Option<String>> {
    c.customer_ensure("vigil")?;
    if c.meta_get("bootstrapped")?.is_none() {
        for (name, product, description) in [
            (
                "Monitor Operations",
                "SDC",
                "Immutable Monitor team with full visibility",
            ),
            (
                "Secure Operations",
                "SDS",
                "Immutable Secure team with full visibility",
            ),
        ] {
            if c.team_by_name(name)?.is_none() {
                c.team_insert(name, &default_team_doc(product, description))?;
            }
        }
        c.meta_set("bootstrapped", "1")?;
    }
    let admin = match c.user_by_name(&s.admin_user)? {
        Some(u) => u,
        None => {
            let u = create_user(c, &s.admin_user, ROLE_CUSTOMER, &new_user_doc("Admin", ""))?;
            for t in c.teams()? {
                if t.is_default() {
                    c.membership_set(t.id, u.id, ROLE_TEAM_MANAGER)?;
                }
            }
            u
        }
    };
    for k in &s.iam_api_keys {
        if c.user_by_name(&k.user)?.is_none() {
            create_user(c, &k.user, ROLE_USER, &new_user_doc("", ""))?;
        }
    }
    let Some(monitor) = c.default_team("SDC")? else {
        return Ok(None);
    };
    if c.membership(monitor.id, admin.id)?.is_none() {
        c.membership_set(monitor.id, admin.id, ROLE_TEAM_MANAGER)?;
    }
    match &s.admin_token {
        Some(t) => {
            c.token_set(admin.id, monitor.id, t.expose_secret())?;
            Ok(None)
        }
        None => Ok(Some(c.token_for(admin.id, monitor.id)?)),
    }
}
