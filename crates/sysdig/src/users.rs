//! Users: `/api/users`, `/api/user/provisioning`.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::users::NewUser;
//! let u = client.users().create(&NewUser::new("jane@example.com").first_name("Jane")).await?;
//! client.users().delete(u.id.unwrap_or_default()).await?;
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Error, Result,
    request::{Op, send_ops},
};

/// A user. Fields the client does not model stay in `extra` and go back unchanged on update.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The login, an e-mail address.
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `ROLE_USER`, or `ROLE_CUSTOMER` for administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_team: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user to create (provision) or invite. Unset fields are not sent.
#[derive(Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct NewUser {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Provisioning only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Invitation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_role: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("system_role", &self.system_role)
            .finish()
    }
}

impl NewUser {
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            ..Self::default()
        }
    }
    pub fn first_name(mut self, s: impl Into<String>) -> Self {
        self.first_name = Some(s.into()).filter(|s: &String| !s.is_empty());
        self
    }
    pub fn last_name(mut self, s: impl Into<String>) -> Self {
        self.last_name = Some(s.into()).filter(|s: &String| !s.is_empty());
        self
    }
    pub fn password(mut self, s: impl Into<String>) -> Self {
        self.password = Some(s.into()).filter(|s: &String| !s.is_empty());
        self
    }
    pub fn system_role(mut self, s: impl Into<String>) -> Self {
        self.system_role = Some(s.into()).filter(|s: &String| !s.is_empty());
        self
    }
}

pub fn list() -> Op<Vec<User>> {
    Op::get("/api/users").envelope("users")
}

pub fn get(id: u64) -> Op<User> {
    Op::get(format!("/api/users/{id}")).envelope("user")
}

/// `POST /api/user/provisioning` (sdcclient's `create_user`; the password is not sent back).
///
/// # Errors
/// A body that does not serialize.
pub fn provision(u: &NewUser) -> Result<Op<User>> {
    let mut u = u.clone();
    u.system_role = None;
    Ok(Op::new(Method::POST, "/api/user/provisioning")
        .json(&u)?
        .envelope("user"))
}

/// `POST /api/users`: an invitation (sdcclient's `create_user_invite`).
///
/// # Errors
/// A body that does not serialize.
pub fn invite(u: &NewUser) -> Result<Op<User>> {
    let mut u = u.clone();
    u.password = None;
    Ok(Op::new(Method::POST, "/api/users")
        .json(&u)?
        .envelope("user"))
}

/// `PUT /api/users/{id}` with the whole user (its current `version` included).
///
/// # Errors
/// A user without an id.
pub fn update(u: &User) -> Result<Op<Value>> {
    Op::put_existing("/api/users", u.id, "user")?.json(u)
}

pub fn delete(id: u64) -> Op<()> {
    Op::delete(format!("/api/users/{id}"))
}

/// User calls: `client.users()`.
#[derive(Clone, Copy, Debug)]
pub struct Users<'a>(&'a Client);

impl Users<'_> {
    send_ops! {
        fn list() -> Vec<User> = list();
        /// # Errors
        /// As [`Client::send`] (404 for an unknown id).
        fn get(id: u64) -> User = get(id);
    }

    /// The user whose login is `email`.
    ///
    /// # Errors
    /// `User not found`, or as [`Client::send`].
    pub async fn get_by_email(&self, email: &str) -> Result<User> {
        self.list()
            .await?
            .into_iter()
            .find(|u| u.username == email)
            .ok_or_else(|| Error::Invalid("User not found".into()))
    }

    send_ops! {
        /// Provisions a user (with an optional password).
        ///
        /// # Errors
        /// `User <email> already exists` from the server, or as [`Client::send`].
        fn create(u: &NewUser) -> User = provision(u)?;
    }

    /// Invites a user; refuses locally when the login exists, as sdcclient does.
    ///
    /// # Errors
    /// `user <email> already exists`, or as [`Client::send`].
    pub async fn invite(&self, u: &NewUser) -> Result<User> {
        if self.list().await?.iter().any(|x| x.username == u.username) {
            return Err(Error::Invalid(format!(
                "user {} already exists",
                u.username
            )));
        }
        self.0.send(&invite(u)?).await
    }

    /// Saves a user fetched earlier (stale `version` → 409) and returns the stored one.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn update(&self, u: &User) -> Result<User> {
        let v = self.0.send(&update(u)?).await?;
        match v {
            Value::Object(mut m) if m.contains_key("user") => {
                decode_user(m.remove("user").unwrap_or_default())
            }
            Value::Object(m) if m.contains_key("id") => decode_user(Value::Object(m)),
            _ => self.get(u.id.unwrap_or_default()).await,
        }
    }

    send_ops! {
        fn delete(id: u64) -> () = delete(id);
    }

    /// Deletes by login. Unlike sdcclient (an `IndexError`), an unknown user is
    /// `User not found`.
    ///
    /// # Errors
    /// `User not found`, or as [`Client::send`].
    pub async fn delete_by_email(&self, email: &str) -> Result<()> {
        let u = self.get_by_email(email).await?;
        self.delete(u.id.unwrap_or_default()).await
    }
}

fn decode_user(v: Value) -> Result<User> {
    serde_json::from_value(v).map_err(|source| Error::Decode {
        url: "/api/users".into(),
        path: "user".into(),
        source,
    })
}

impl Client {
    /// Users of the customer.
    pub fn users(&self) -> Users<'_> {
        Users(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_debug() {
        let u = NewUser::new("a@b.c").password("hunter2-secret");
        assert!(!format!("{u:?}").contains("hunter2-secret"));
        assert!(!format!("{:?}", provision(&u).unwrap()).contains("hunter2-secret"));
    }
}
