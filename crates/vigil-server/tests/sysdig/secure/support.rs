//! What the Secure tests share: a server with the kit's fixed credentials, Secure tokens of the
//! admin for "Secure Operations" and for a second Secure team, and the ingestion routes.

use http::Method;
use secrecy::ExposeSecret;
use serde_json::Value;
use sysdig::teams::Team;

pub use crate::sysdig::client_env::{ADMIN, ADMIN_TOKEN, Env, err};

pub struct Secure {
    pub env: Env,
    /// The admin in "Secure Operations".
    pub secure: sysdig::Client,
    /// The admin in another Secure team, "Secure Elsewhere".
    pub other: sysdig::Client,
    /// The admin's Monitor token.
    pub monitor: sysdig::Client,
    pub secure_token: String,
}

impl Secure {
    pub async fn start() -> Self {
        let env = Env::start().await;
        let monitor = env.admin();
        let mut t = Team::new("Secure Elsewhere");
        t.products = Some(vec!["SDS".into()]);
        monitor.teams().create(&t).await.unwrap();
        let roles = [(ADMIN.to_string(), "ROLE_TEAM_MANAGER".to_string())].into();
        monitor
            .teams()
            .save_memberships("Secure Elsewhere", &roles)
            .await
            .unwrap();
        let token = |team: &'static str| {
            let m = monitor.clone();
            async move {
                m.token()
                    .of_user(ADMIN, team)
                    .await
                    .unwrap()
                    .expose_secret()
                    .to_string()
            }
        };
        let secure_token = token("Secure Operations").await;
        let other_token = token("Secure Elsewhere").await;
        Self {
            secure: env.client(&secure_token),
            other: env.client(&other_token),
            monitor,
            secure_token,
            env,
        }
    }
}

/// `POST` of `body` to an ingestion route; the `data` answered.
pub async fn ingest(c: &sysdig::Client, route: &str, body: Value) -> Vec<Value> {
    let v = c
        .raw(Method::POST, format!("/vigil/sysdig/secure/{route}"))
        .json(&body)
        .unwrap()
        .send()
        .await
        .unwrap();
    v["data"].as_array().unwrap().clone()
}

/// A raw `GET` with query pairs: the status and message of a refusal.
pub async fn refused(c: &sysdig::Client, path: &str, query: &[(&str, &str)]) -> (u16, String) {
    let mut r = c.raw(Method::GET, path);
    for (k, v) in query {
        r = r.query(*k, *v);
    }
    let e = r.send().await.expect_err("expected a refusal");
    (e.status().unwrap_or(0), e.to_string())
}
