//! The Sysdig Monitor API and IBM IAM emulation over HTTP: auth paths, roles, team isolation,
//! versions, error shapes, and durability across a restart.

mod alerts;
mod data;
mod legacy;
mod objects;

use std::time::Duration;

use crate::kit::{Running, Settings, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use sysdig_api::settings::IamApiKey;

const INSTANCE: &str = "test-instance";
const IAM_KEY: &str = "iam-key-admin";

struct Sdc {
    running: Running,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    admin: String,
}

/// Credentials of one request.
#[derive(Clone)]
enum Auth {
    None,
    Token(String),
    Iam {
        token: String,
        instance: String,
        team: Option<(&'static str, i64)>,
    },
    Raw(String),
}

fn iam(token: &str) -> Auth {
    Auth::Iam {
        token: token.into(),
        instance: INSTANCE.into(),
        team: None,
    }
}

impl Sdc {
    async fn start() -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), |_| {}).await
    }

    async fn start_in(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Settings)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Returns once the stores are open (the admin token file is written by then).
        let TestServer { running, dir } = TestServer::start_in(dir, |settings| {
            settings.max_body_bytes = 1 << 16;
            settings.sysdig.instance_id = INSTANCE.into();
            settings.sysdig.iam_api_keys = vec![
                IamApiKey {
                    api_key: IAM_KEY.to_string().into(),
                    user: settings.sysdig.admin_user.clone(),
                },
                IamApiKey {
                    api_key: "iam-key-viewer".to_string().into(),
                    user: "viewer@example.com".into(),
                },
            ];
            tweak(settings);
        })
        .await;
        let http = reqwest::Client::new();
        let admin = std::fs::read_to_string(dir.path().join("sysdig-admin-token"))
            .unwrap_or_default()
            .trim()
            .to_string();
        Self {
            running,
            dir,
            http,
            admin,
        }
    }

    async fn stop(self) -> tempfile::TempDir {
        self.running.stop().await.unwrap();
        self.dir
    }

    fn admin(&self) -> Auth {
        Auth::Token(self.admin.clone())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.running.url());
        let mut req = self
            .http
            .request(method, url)
            .header("Content-Type", "application/json");
        match auth {
            Auth::None => {}
            Auth::Token(t) => req = req.header("Authorization", format!("Bearer {t}")),
            Auth::Raw(v) => req = req.header("Authorization", v),
            Auth::Iam {
                token,
                instance,
                team,
            } => {
                req = req
                    .header("Authorization", format!("Bearer {token}"))
                    .header("IBMInstanceID", instance);
                if let Some((h, id)) = team {
                    req = req.header(*h, id.to_string());
                }
            }
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, v)
    }

    async fn get(&self, path: &str, auth: &Auth) -> (u16, Value) {
        self.send(Method::GET, path, auth, None).await
    }

    async fn post(&self, path: &str, auth: &Auth, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, auth, Some(&body.to_string()))
            .await
    }

    async fn put(&self, path: &str, auth: &Auth, body: Value) -> (u16, Value) {
        self.send(Method::PUT, path, auth, Some(&body.to_string()))
            .await
    }

    async fn delete(&self, path: &str, auth: &Auth) -> (u16, Value) {
        self.send(Method::DELETE, path, auth, None).await
    }

    /// POSTs `body`, asserts a 201 and returns what was created.
    async fn create(&self, path: &str, auth: &Auth, body: Value) -> Value {
        let (st, v) = self.post(path, auth, body).await;
        assert_eq!(st, 201, "{v}");
        v
    }

    async fn iam_exchange(&self, form: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/identity/token", self.running.url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn iam_token(&self, key: &str) -> String {
        let (s, v) = self
            .iam_exchange(&format!(
                "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&response_type=cloud_iam&apikey={key}"
            ))
            .await;
        assert_eq!(s, 200, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    async fn team_id(&self, name: &str) -> i64 {
        let (s, v) = self
            .get(
                &format!("/api/v2/teams/light/name/{}", name.replace(' ', "%20")),
                &self.admin(),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["team"]["id"].as_i64().unwrap()
    }
}

/// Asserts a Spring Boot 401 for `path`; takes the answer of `send` and friends whole.
fn assert_bad_credentials((status, body): (u16, Value), path: &str) {
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["message"], "Bad credentials");
    assert_eq!(body["error"], "Unauthorized");
    assert_eq!(body["status"], 401);
    assert_eq!(body["path"], path);
    assert!(body["timestamp"].is_i64());
}

/// Asserts an errors body with `want_status`, `reason` and a message containing
/// `message_part`.
fn assert_errors((status, body): (u16, Value), want_status: u16, reason: &str, message_part: &str) {
    assert_eq!(status, want_status, "{body}");
    let e = &body["errors"][0];
    assert_eq!(e["reason"], reason, "{body}");
    assert!(
        e["message"].as_str().unwrap_or("").contains(message_part),
        "{body}"
    );
}

#[tokio::test]
async fn sysdig_token_auth_and_spring_401() {
    let s = Sdc::start().await;
    assert_eq!(s.admin.len(), 36, "a uuid in the token file");
    let (st, me) = s.get("/api/user/me", &s.admin()).await;
    assert_eq!(st, 200);
    assert_eq!(me["user"]["username"], "admin@vigil.local");
    assert_eq!(me["user"]["systemRole"], "ROLE_CUSTOMER");
    assert_eq!(me["user"]["roles"], json!(["ROLE_CUSTOMER", "ROLE_USER"]));
    let monitor = s.team_id("Monitor Operations").await;
    assert_eq!(me["user"]["currentTeam"], monitor);
    // terraform's spelling and a token without `Bearer `.
    let (st, _) = s.get("/api/users/me", &Auth::Raw(s.admin.clone())).await;
    assert_eq!(st, 200);
    let (st, v) = s.get("/api/token", &s.admin()).await;
    assert_eq!(
        (st, v["token"]["key"].as_str()),
        (200, Some(s.admin.as_str()))
    );
    let (st, v) = s.get("/api/agents/connected", &s.admin()).await;
    assert_eq!((st, v), (200, json!({"total": 0, "agents": []})));

    for auth in [
        Auth::None,
        Auth::Token("wrong".into()),
        Auth::Raw("Bearer ".into()),
    ] {
        assert_bad_credentials(s.get("/api/alerts", &auth).await, "/api/alerts");
    }
    // A Sysdig token is not an IAM token: IBMInstanceID alone changes nothing.
    let (st, _) = s
        .get(
            "/api/alerts",
            &Auth::Iam {
                token: s.admin.clone(),
                instance: "other".into(),
                team: None,
            },
        )
        .await;
    assert_eq!(st, 200);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // On PostgreSQL there is no `sysdig.db`; the token file is still the node's own.
        let files: &[&str] = if crate::kit::on_postgres() {
            &["sysdig-admin-token"]
        } else {
            &["sysdig-admin-token", "sysdig.db"]
        };
        for f in files {
            let mode = std::fs::metadata(s.dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn iam_exchange_instance_team_headers_and_expiry() {
    let s = Sdc::start_in(tempfile::tempdir().unwrap(), |st| {
        st.sysdig.iam_token_ttl = Duration::from_secs(1);
    })
    .await;
    // IAM-style errors.
    let (st, v) = s
        .iam_exchange("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=nope")
        .await;
    assert_eq!((st, v["errorCode"].as_str()), (400, Some("BXNIM0415E")));
    assert_eq!(v["errorMessage"], "Provided API key could not be found");
    let (st, v) = s.iam_exchange("apikey=iam-key-admin").await;
    assert_eq!((st, v["errorCode"].as_str()), (400, Some("BXNIM0109E")));
    let (st, v) = s
        .iam_exchange("grant_type=password&apikey=iam-key-admin")
        .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s
        .iam_exchange("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=iam-key-admin")
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["refresh_token"], "not_supported");
    assert_eq!(v["expires_in"], 1);
    assert!(v["expiration"].as_i64().unwrap() > 1_700_000_000);

    let token = s.iam_token(IAM_KEY).await;
    let monitor = s.team_id("Monitor Operations").await;
    let secure = s.team_id("Secure Operations").await;
    // The instance id must be there and right.
    for instance in ["", "wrong"] {
        assert_bad_credentials(
            s.get(
                "/api/user/me",
                &Auth::Iam {
                    token: token.clone(),
                    instance: instance.into(),
                    team: None,
                },
            )
            .await,
            "/api/user/me",
        );
    }
    let (st, v) = s.get("/api/user/me", &iam(&token)).await;
    assert_eq!((st, &v["user"]["currentTeam"]), (200, &json!(monitor)));
    for header in ["SysdigTeamID", "TeamID"] {
        let auth = Auth::Iam {
            token: token.clone(),
            instance: INSTANCE.into(),
            team: Some((header, secure)),
        };
        let (st, v) = s.get("/api/user/me", &auth).await;
        assert_eq!((st, &v["user"]["currentTeam"]), (200, &json!(secure)));
        // Its Monitor API token is the admin's token for that team.
        let (_, t) = s.get("/api/token", &auth).await;
        let key = t["token"]["key"].as_str().unwrap().to_string();
        assert_ne!(key, s.admin);
        let (_, me) = s.get("/api/user/me", &Auth::Token(key)).await;
        assert_eq!(me["user"]["currentTeam"], secure);
    }
    // A team the user is not in: 403, errors body.
    let t = s
        .create(
            "/api/teams",
            &s.admin(),
            json!({"name": "no-admin", "userRoles": []}),
        )
        .await;
    let other = t["team"]["id"].as_i64().unwrap();
    assert_errors(
        s.get(
            "/api/alerts",
            &Auth::Iam {
                token: token.clone(),
                instance: INSTANCE.into(),
                team: Some(("SysdigTeamID", other)),
            },
        )
        .await,
        403,
        "Forbidden",
        "not a member",
    );
    // Expiry.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_bad_credentials(s.get("/api/alerts", &iam(&token)).await, "/api/alerts");
    s.stop().await;
}

#[tokio::test]
async fn token_reset_replaces_the_old_token() {
    let s = Sdc::start().await;
    let old = s.admin();
    let (st, v) = s.post("/vigil/sysdig/token/reset", &old, json!({})).await;
    assert_eq!(st, 200, "{v}");
    let new = v["token"]["key"].as_str().unwrap().to_string();
    assert_ne!(new, s.admin);
    assert_bad_credentials(s.get("/api/alerts", &old).await, "/api/alerts");
    let (st, v) = s.get("/api/token", &Auth::Token(new.clone())).await;
    assert_eq!((st, v["token"]["key"].as_str()), (200, Some(new.as_str())));
    s.stop().await;
}

#[tokio::test]
async fn iam_users_from_settings_exist_and_act_in_their_default_team() {
    let s = Sdc::start().await;
    let token = s.iam_token("iam-key-viewer").await;
    let (st, me) = s.get("/api/user/me", &iam(&token)).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["user"]["username"], "viewer@example.com");
    assert_eq!(me["user"]["systemRole"], "ROLE_USER");
    assert_errors(
        s.post("/api/teams", &iam(&token), json!({"name": "mine"}))
            .await,
        403,
        "Forbidden",
        "administrator",
    );
    // A standard member of Monitor Operations may create dashboards there.
    s.create(
        "/api/v3/dashboards",
        &iam(&token),
        json!({"dashboard": {"name": "viewer's"}}),
    )
    .await;
    let (_, v) = s.get("/api/v3/dashboards?light=true", &s.admin()).await;
    assert_eq!(v["dashboards"][0]["username"], "viewer@example.com");
    s.stop().await;
}
