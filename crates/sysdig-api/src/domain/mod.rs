//! Rules of the stored records that handlers, start-up and the alert engine share; they work
//! inside a unit of work ([`SysdigTx`]) and answer [`RepoResult`], never HTTP errors.

pub mod bootstrap;

pub use config_repo::sysdig::notifications;

use config_repo::{
    RepoError, RepoResult, now_ms,
    sysdig::{Document, SysdigTx, User},
};
use serde_json::Value;

pub use config_repo::sysdig::ROLE_CUSTOMER;
pub const ROLE_USER: &str = "ROLE_USER";
pub const TEAM_ROLES: &[&str] = &[
    "ROLE_TEAM_READ",
    "ROLE_TEAM_STANDARD",
    "ROLE_TEAM_EDIT",
    "ROLE_TEAM_MANAGER",
    "ROLE_TEAM_SERVICE_MANAGER",
];
pub const ROLE_TEAM_READ: &str = "ROLE_TEAM_READ";
pub const ROLE_TEAM_MANAGER: &str = "ROLE_TEAM_MANAGER";

/// The document of a new user.
pub fn new_user_doc(first: &str, last: &str) -> Document {
    let now = now_ms();
    let mut m = Document::new();
    m.insert("firstName".into(), first.into());
    m.insert("lastName".into(), last.into());
    m.insert("enabled".into(), true.into());
    m.insert("status".into(), "confirmed".into());
    m.insert("dateCreated".into(), now.into());
    m.insert("lastUpdated".into(), now.into());
    m
}

/// Creates a user and enrols it in each product's default team with that team's default role.
///
/// # Errors
/// The name is taken ([`RepoError::Conflict`]) or the repository fails.
pub fn create_user(
    c: &dyn SysdigTx,
    username: &str,
    system_role: &str,
    doc: &Document,
) -> RepoResult<User> {
    let user = c.user_insert(username, system_role, doc)?;
    for team in c.teams()? {
        if team.is_default() {
            c.membership_set(team.id, user.id, team.default_role())?;
        }
    }
    c.user(user.id)?
        .ok_or_else(|| RepoError::Storage(format!("user {} vanished", user.id)))
}

/// A document from a JSON value that is an object (anything else gives an empty one).
pub fn object(v: Value) -> Document {
    match v {
        Value::Object(m) => m,
        _ => Document::new(),
    }
}
