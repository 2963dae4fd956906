//! A server with the test kit's Sysdig credentials, the admin's token in "Secure Operations",
//! and raw HTTP for the bodies a typed client cannot send.

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;
use sysdig::teams::{Team, UserRole};

use crate::sysdig::client_env::Env;

pub struct Secure {
    pub env: Env,
    /// The admin's token in "Secure Operations".
    pub token: String,
    http: reqwest::Client,
}

impl Secure {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut crate::kit::Settings)) -> Self {
        let env = Env::start_with(f).await;
        let token = env
            .admin()
            .token()
            .of_user(super::super::client_env::ADMIN, "Secure Operations")
            .await
            .unwrap()
            .expose_secret()
            .to_string();
        Self {
            env,
            token,
            http: reqwest::Client::new(),
        }
    }

    /// The Secure client of "Secure Operations".
    pub fn client(&self) -> sysdig::Client {
        self.env.client(&self.token)
    }

    /// A new Secure team and the admin's token in it.
    pub async fn other_team(&self, name: &str) -> String {
        let admin = self.env.admin();
        let me = admin.me().await.unwrap();
        let mut t = Team::new(name);
        t.products = Some(vec!["SDS".into()]);
        t.user_roles = Some(vec![UserRole {
            user_id: me.id.unwrap(),
            role: "ROLE_TEAM_MANAGER".into(),
            ..UserRole::default()
        }]);
        let t = admin.teams().create(&t).await.unwrap();
        admin
            .token()
            .of_user_in_team(super::super::client_env::ADMIN, t.id.unwrap())
            .await
            .unwrap()
            .expose_secret()
            .to_string()
    }

    /// A raw request with `token`; the body is sent as is.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.env.url()))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {token}"));
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, v)
    }

    /// A raw request with the Secure token.
    pub async fn raw(&self, method: Method, path: &str, body: Option<&str>) -> (u16, Value) {
        self.send(method, path, &self.token, body).await
    }
}

/// The first error message of a Sysdig error body.
pub fn message(v: &Value) -> &str {
    v["errors"][0]["message"].as_str().unwrap_or_default()
}
