//! Teams and memberships: `/api/teams`, `/api/v2/teams/light/name/{name}`.
//!
//! Memberships are edited on the full team object the server sent, so no field is lost, a
//! team can be emptied and permissions can be switched off (sdcclient's `edit_team` and
//! `remove_memberships` cannot, see the wire reference §9 A15).
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use std::collections::BTreeMap;
//! let t = client.teams().create(&sysdig::teams::Team::new("ops")).await?;
//! let roles = BTreeMap::from([("jane@example.com".to_string(), "ROLE_TEAM_EDIT".to_string())]);
//! client.teams().save_memberships("ops", &roles).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Error, Result,
    request::{Op, segment, send_ops},
};

/// A team. Fields the client does not model stay in `extra` and go back unchanged on update.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Team {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// `host` or `container`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show: Option<String>,
    /// The team's scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_use_sysdig_capture: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_use_custom_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_use_aws_metrics: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_use_rapid_response: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_team_role: Option<String>,
    /// `SDC` (Monitor) and/or `SDS` (Secure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_roles: Option<Vec<UserRole>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Team {
    /// A team to create with sdcclient's defaults (`show: host`, theme `#7BB0B2`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            theme: Some("#7BB0B2".into()),
            show: Some("host".into()),
            ..Self::default()
        }
    }
}

/// One member of a team.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserRole {
    pub user_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `ROLE_TEAM_READ`, `ROLE_TEAM_STANDARD`, `ROLE_TEAM_EDIT`, `ROLE_TEAM_MANAGER`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/teams[?product=SDC|SDS]`.
///
/// # Errors
/// A product other than `SDC` or `SDS` (sdcclient's message).
pub fn list(product: Option<&str>) -> Result<Op<Vec<Team>>> {
    let op = Op::get("/api/teams").envelope("teams");
    match product {
        None | Some("") => Ok(op),
        Some(p @ ("SDC" | "SDS")) => Ok(op.query("product", p)),
        Some(_) => Err(Error::Invalid(
            "invalid product header, allowed only \"SDC\" or \"SDS\"".into(),
        )),
    }
}

pub fn get(id: u64) -> Op<Team> {
    Op::get(format!("/api/teams/{id}")).envelope("team")
}

/// `GET /api/v2/teams/light/name/{name}`: the light team (id, name) of the caller's product.
pub fn get_light_by_name(name: &str) -> Op<Team> {
    Op::get(format!("/api/v2/teams/light/name/{}", segment(name))).envelope("team")
}

/// `POST /api/teams` (id and version are the server's).
///
/// # Errors
/// A body that does not serialize.
pub fn create(t: &Team) -> Result<Op<Team>> {
    let mut t = t.clone();
    t.id = None;
    t.version = None;
    if t.user_roles.is_none() && !t.extra.contains_key("users") {
        t.extra.insert("users".into(), Value::Array(Vec::new()));
    }
    Ok(Op::new(Method::POST, "/api/teams")
        .json(&t)?
        .envelope("team"))
}

/// `PUT /api/teams/{id}` with the whole team; `userRoles` replaces the memberships.
///
/// # Errors
/// A team without an id.
pub fn update(t: &Team) -> Result<Op<Team>> {
    Ok(Op::put_existing("/api/teams", t.id, "team")?
        .json(t)?
        .envelope("team"))
}

pub fn delete(id: u64) -> Op<()> {
    Op::delete(format!("/api/teams/{id}"))
}

/// Team calls: `client.teams()`.
#[derive(Clone, Copy, Debug)]
pub struct Teams<'a>(&'a Client);

impl Teams<'_> {
    send_ops! {
        /// All teams, or those of one product (`SDC`, `SDS`).
        ///
        /// # Errors
        /// An invalid product, or as [`Client::send`].
        fn list(product: Option<&str>) -> Vec<Team> = list(product)?;
        /// # Errors
        /// As [`Client::send`] (404 for an unknown id).
        fn get(id: u64) -> Team = get(id);
    }

    /// The full team (with `userRoles`) called `name`.
    ///
    /// # Errors
    /// As [`Client::send`] (404 for an unknown name).
    pub async fn get_by_name(&self, name: &str) -> Result<Team> {
        let id = self.id_by_name(name).await?;
        self.get(id).await
    }

    /// The id of the team called `name`, from its light form alone.
    ///
    /// # Errors
    /// As [`Teams::get_by_name`].
    pub async fn id_by_name(&self, name: &str) -> Result<u64> {
        let light = self.0.send(&get_light_by_name(name)).await?;
        light
            .id
            .ok_or_else(|| Error::Invalid(format!("team {name} has no id")))
    }

    send_ops! {
        /// # Errors
        /// 422 for a name in use, or as [`Client::send`].
        fn create(t: &Team) -> Team = create(t)?;
        /// Saves a team fetched earlier (stale `version` → 409).
        ///
        fn update(t: &Team) -> Team = update(t)?;
        /// # Errors
        /// As [`Client::send`] (default teams cannot be deleted: 422).
        fn delete(id: u64) -> () = delete(id);
    }

    /// `username → role` of the team called `team`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn memberships(&self, team: &str) -> Result<BTreeMap<String, String>> {
        let t = self.get_by_name(team).await?;
        let names = self.user_names().await?;
        Ok(t.user_roles
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let name = r
                    .user_name
                    .or_else(|| names.get(&r.user_id).cloned())
                    .unwrap_or_else(|| r.user_id.to_string());
                (name, r.role)
            })
            .collect())
    }

    /// Adds or changes the roles of the given users, keeping the other members.
    ///
    /// # Errors
    /// `Could not convert user names to IDs: <names>` for unknown users, or as
    /// [`Client::send`].
    pub async fn save_memberships(
        &self,
        team: &str,
        roles: &BTreeMap<String, String>,
    ) -> Result<Team> {
        let t = self.get_by_name(team).await?;
        self.save_roles(t, roles).await
    }

    /// [`Teams::save_memberships`] on a team already fetched (in full, with its version).
    ///
    /// # Errors
    /// As [`Teams::save_memberships`].
    pub async fn save_roles(&self, mut t: Team, roles: &BTreeMap<String, String>) -> Result<Team> {
        let ids = self.user_ids(roles.keys()).await?;
        let mut current = t.user_roles.take().unwrap_or_default();
        for (name, role) in roles {
            let id = ids[name];
            match current.iter_mut().find(|r| r.user_id == id) {
                Some(r) => r.role = role.clone(),
                None => current.push(UserRole {
                    user_id: id,
                    role: role.clone(),
                    ..UserRole::default()
                }),
            }
        }
        t.user_roles = Some(current);
        self.update(&t).await
    }

    /// Removes the given users from the team (it may end up empty).
    ///
    /// # Errors
    /// As [`Teams::save_memberships`].
    pub async fn remove_memberships(&self, team: &str, users: &[String]) -> Result<Team> {
        let t = self.get_by_name(team).await?;
        self.remove_users(t, users).await
    }

    /// [`Teams::remove_memberships`] on a team already fetched (in full, with its version).
    ///
    /// # Errors
    /// As [`Teams::save_memberships`].
    pub async fn remove_users(&self, mut t: Team, users: &[String]) -> Result<Team> {
        let ids = self.user_ids(users.iter()).await?;
        let gone: Vec<u64> = ids.values().copied().collect();
        let current = t.user_roles.take().unwrap_or_default();
        t.user_roles = Some(
            current
                .into_iter()
                .filter(|r| !gone.contains(&r.user_id))
                .collect(),
        );
        self.update(&t).await
    }

    async fn user_names(&self) -> Result<BTreeMap<u64, String>> {
        Ok(self
            .0
            .users()
            .list()
            .await?
            .into_iter()
            .filter_map(|u| Some((u.id?, u.username)))
            .collect())
    }

    async fn user_ids<'n>(
        &self,
        names: impl Iterator<Item = &'n String>,
    ) -> Result<BTreeMap<String, u64>> {
        let all: BTreeMap<String, u64> = self
            .user_names()
            .await?
            .into_iter()
            .map(|(id, n)| (n, id))
            .collect();
        let mut out = BTreeMap::new();
        let mut unknown = Vec::new();
        for n in names {
            match all.get(n) {
                Some(id) => {
                    out.insert(n.clone(), *id);
                }
                None => unknown.push(n.clone()),
            }
        }
        if !unknown.is_empty() {
            return Err(Error::Invalid(format!(
                "Could not convert user names to IDs: {}",
                unknown.join(", ")
            )));
        }
        Ok(out)
    }
}

impl Client {
    /// Teams and memberships.
    pub fn teams(&self) -> Teams<'_> {
        Teams(self)
    }
}
