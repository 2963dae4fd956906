//! Typed records of the Sysdig repository. Columns the repository indexes or keeps consistent
//! (ids, names, roles, versions, times) are fields; everything else clients may set stays in the
//! record's JSON document, exactly as the API stores and shows it.

use serde_json::Value;

use super::Document;

/// The system role of a customer administrator.
pub const ROLE_CUSTOMER: &str = "ROLE_CUSTOMER";

/// The `kind` of each team-owned object.
pub mod kinds {
    pub const CHANNEL: &str = "channel";
    pub const ALERT: &str = "alert";
    /// Alert notifications; their document field `alert` holds the alert id.
    pub const NOTIFICATION: &str = "notification";
    pub const DASHBOARD: &str = "dashboard";
    pub const EVENT: &str = "event";
    /// Secure runtime policies (v2).
    pub const SECURE_POLICY: &str = "secure_policy";
    /// Secure rules; defaults seeded per Secure team carry `"origin": "Sysdig"`.
    pub const SECURE_RULE: &str = "secure_rule";
    pub const FALCO_MACRO: &str = "falco_macro";
    pub const FALCO_LIST: &str = "falco_list";
    /// A Secure team's Falco rules files: one object each for the system file, the custom
    /// (user) files and the default files; document field `file` says which.
    pub const FALCO_RULES_FILES: &str = "falco_rules_files";
}

/// A user of the customer. The name is unique, compared case-insensitively.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// `ROLE_CUSTOMER` (administrator) or `ROLE_USER`.
    pub system_role: String,
    pub version: i64,
    /// `firstName`, `lastName`, `enabled`, `status`, `dateCreated`, `lastUpdated`, ...
    pub doc: Document,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.system_role == ROLE_CUSTOMER
    }
}

/// A team. The name is unique, compared case-insensitively.
#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub version: i64,
    /// `description`, `products`, `default`, `defaultTeamRole`, ...
    pub doc: Document,
}

impl Team {
    /// One of the immutable teams created on first start, one per product.
    pub fn is_default(&self) -> bool {
        self.doc.get("default").and_then(Value::as_bool) == Some(true)
    }

    /// The products (`SDC`, `SDS`) the team is for.
    pub fn products(&self) -> Vec<String> {
        self.doc
            .get("products")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The product a token of this team acts in.
    pub fn product(&self) -> String {
        self.products()
            .into_iter()
            .next()
            .unwrap_or_else(|| "SDC".into())
    }

    /// The role new users get when they join the team by default.
    pub fn default_role(&self) -> &str {
        self.doc
            .get("defaultTeamRole")
            .and_then(Value::as_str)
            .unwrap_or("ROLE_TEAM_STANDARD")
    }
}

/// A member of a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    pub role: String,
}

/// A team-owned object; the column fields are never kept in `doc` (the API writes them into
/// the document it shows).
#[derive(Clone, Debug, PartialEq)]
pub struct TeamObject {
    pub id: i64,
    /// One of [`kinds`].
    pub kind: String,
    pub team_id: i64,
    pub version: i64,
    /// Milliseconds since the epoch.
    pub created_on: i64,
    /// Milliseconds since the epoch.
    pub modified_on: i64,
    pub doc: Document,
}

impl TeamObject {
    /// Document fields that are columns.
    pub const COLUMN_FIELDS: [&'static str; 5] =
        ["id", "version", "teamId", "createdOn", "modifiedOn"];
}
