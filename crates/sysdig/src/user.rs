//! The caller: current user, Monitor API tokens, connected agents.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use secrecy::ExposeSecret;
//! let me = client.me().await?;
//! let key = client.token().get().await?;
//! println!("{} has a token of {} characters", me.username, key.expose_secret().len());
//! # Ok(()) }
//! ```

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{Client, Result, request::Op, request::segment, users::User};

/// `GET /api/user/me` → the user.
pub fn me() -> Op<User> {
    Op::get("/api/user/me").envelope("user")
}

/// A Monitor API token (`{"token": {"key": ..., "teamId": ...}}`); the key never shows in
/// `Debug`. Serialising writes the key: that is what the server (Vigil's emulator) answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Token {
    #[serde(serialize_with = "expose")]
    pub key: SecretString,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Token {
    /// The token `key` of the team `team_id`, as the server answers it.
    pub fn of_team(key: SecretString, team_id: u64) -> Self {
        Self {
            key,
            extra: Map::from_iter([("teamId".to_string(), team_id.into())]),
        }
    }
}

fn expose<S: Serializer>(key: &SecretString, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(key.expose_secret())
}

/// `GET /api/token`: the caller's token for the request's team.
pub fn get_token() -> Op<Token> {
    Op::get("/api/token").envelope("token")
}

/// `GET /api/token/{username}/{teamId}`: another user's token in a team (admins, managers).
pub fn get_user_token(username: &str, team_id: u64) -> Op<Token> {
    Op::get(format!("/api/token/{}/{team_id}", segment(username))).envelope("token")
}

/// `POST /vigil/sysdig/token/reset`: **Vigil's emulator only.** The real Sysdig resets a token
/// only in its UI (Settings → Monitor API → Reset Token); there is no public API for it.
pub fn reset_token() -> Op<Token> {
    Op::new(Method::POST, "/vigil/sysdig/token/reset").envelope("token")
}

/// One agent of `GET /api/agents/connected`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Agent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/agents/connected`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectedAgents {
    pub total: u64,
    pub agents: Vec<Agent>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/agents/connected`.
pub fn connected_agents() -> Op<ConnectedAgents> {
    Op::get("/api/agents/connected")
}

/// Token calls: `client.token()`.
#[derive(Clone, Copy, Debug)]
pub struct Tokens<'a>(&'a Client);

impl Tokens<'_> {
    /// The caller's Monitor API token for its current team.
    ///
    /// # Errors
    /// As [`Client::send`]; IBM instances in `IAM_ONLY` mode refuse.
    pub async fn get(&self) -> Result<SecretString> {
        Ok(self.0.send(&get_token()).await?.key)
    }

    /// The token of `username` in the team called `team` (resolved by name first, as
    /// sdcclient's `get_user_api_token` does).
    ///
    /// # Errors
    /// An unknown team or user, or a caller without rights.
    pub async fn of_user(&self, username: &str, team: &str) -> Result<SecretString> {
        let id = self.0.teams().id_by_name(team).await?;
        Ok(self.0.send(&get_user_token(username, id)).await?.key)
    }

    /// As [`Tokens::of_user`] with a team id.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn of_user_in_team(&self, username: &str, team_id: u64) -> Result<SecretString> {
        Ok(self.0.send(&get_user_token(username, team_id)).await?.key)
    }

    /// Replaces the caller's token (emulator-only, see [`reset_token`]); the old one stops
    /// working at once.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn reset(&self) -> Result<SecretString> {
        Ok(self.0.send(&reset_token()).await?.key)
    }
}

impl Client {
    /// The authenticated user (`GET /api/user/me`).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn me(&self) -> Result<User> {
        self.send(&me()).await
    }

    /// Monitor API tokens.
    pub fn token(&self) -> Tokens<'_> {
        Tokens(self)
    }

    /// Agents connected to the caller's team.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn connected_agents(&self) -> Result<ConnectedAgents> {
        self.send(&connected_agents()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_serialises_its_key_but_never_debugs_it() {
        let t = Token::of_team(SecretString::from("s3cr3t-key"), 7);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"key":"s3cr3t-key","teamId":7}"#
        );
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let back: Token = serde_json::from_str(r#"{"key":"k2","teamId":7}"#).unwrap();
        assert_eq!(back.key.expose_secret(), "k2");
    }
}
