//! The Sysdig Monitor API and IBM IAM emulation over HTTP: auth paths, roles, team isolation,
//! versions, error shapes, and durability across a restart.

mod legacy;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use vigil_server::sysdig::settings::IamApiKey;
use vigil_testkit::{Running, Settings, TestServer};

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
        for f in ["sysdig-admin-token", "sysdig.db"] {
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
async fn teams_isolate_objects_and_roles_are_enforced() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let u = s
        .create(
            "/api/user/provisioning",
            &admin,
            json!({"username": "reader@example.com", "password": "x"}),
        )
        .await;
    let uid = u["user"]["id"].as_i64().unwrap();
    assert_errors(
        s.post(
            "/api/users",
            &admin,
            json!({"username": "reader@example.com"}),
        )
        .await,
        422,
        "Invalid request",
        "User reader@example.com already exists",
    );
    let admin_id = s.get("/api/user/me", &admin).await.1["user"]["id"]
        .as_i64()
        .unwrap();
    let t = s
        .create(
            "/api/teams",
            &admin,
            json!({"name": "readers", "userRoles": [
                {"userId": admin_id, "role": "ROLE_TEAM_MANAGER"},
                {"userId": uid, "role": "ROLE_TEAM_READ"}
            ]}),
        )
        .await;
    assert_eq!(t["team"]["products"], json!(["SDC"]));
    let readers = t["team"]["id"].as_i64().unwrap();
    assert_errors(
        s.post("/api/teams", &admin, json!({"name": "READERS"}))
            .await,
        422,
        "Invalid request",
        "Team with name 'READERS' already exists",
    );

    // The reader's tokens: one per team.
    let (st, v) = s
        .get(&format!("/api/token/reader@example.com/{readers}"), &admin)
        .await;
    assert_eq!(st, 200, "{v}");
    let reader = Auth::Token(v["token"]["key"].as_str().unwrap().into());
    let monitor = s.team_id("Monitor Operations").await;
    let (_, v) = s
        .get(&format!("/api/token/reader@example.com/{monitor}"), &admin)
        .await;
    let reader_monitor = Auth::Token(v["token"]["key"].as_str().unwrap().into());

    // Objects of Monitor Operations are invisible from "readers".
    let a = s
        .create(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(cpu.used.percent) > 80", "severity": 6}}),
        )
        .await;
    assert_eq!(a["alert"]["severityLabel"], "INFO");
    let aid = a["alert"]["id"].as_i64().unwrap();
    let d = s
        .create(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "d"}}),
        )
        .await;
    let did = d["dashboard"]["id"].as_i64().unwrap();
    assert_errors(
        s.get(&format!("/api/alerts/{aid}"), &reader).await,
        404,
        "Not Found",
        "Alert not found",
    );
    assert_eq!(s.get("/api/alerts", &reader).await.1, json!({"alerts": []}));
    assert_eq!(
        s.get(&format!("/api/v3/dashboards/{did}"), &reader).await,
        (404, Value::Null)
    );
    // The same user in Monitor Operations (ROLE_TEAM_STANDARD) sees and changes them.
    let (st, v) = s.get(&format!("/api/alerts/{aid}"), &reader_monitor).await;
    assert_eq!((st, &v["alert"]["name"]), (200, &json!("cpu")));
    s
        .create(
            "/api/notificationChannels",
            &reader_monitor,
            json!({"notificationChannel": {"type": "WEBHOOK", "name": "hook", "options": {"url": "http://x"}}}),
        )
        .await;

    // Read-only members only read.
    assert_errors(
        s.post(
            "/api/alerts",
            &reader,
            json!({"alert": {"name": "x", "condition": "avg(a) > 1"}}),
        )
        .await,
        403,
        "Forbidden",
        "read-only",
    );
    let (st, _) = s.get("/api/v3/dashboards", &reader).await;
    assert_eq!(st, 200);
    // User management and teams need an admin; editing a team needs its manager.
    let (st, _) = s.get("/api/users", &reader).await;
    assert_eq!(st, 200);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/users".to_string(),
            json!({"username": "z@x"}),
        ),
        (Method::POST, "/api/teams".to_string(), json!({"name": "z"})),
        (Method::DELETE, format!("/api/users/{admin_id}"), json!({})),
        (
            Method::PUT,
            format!("/api/teams/{readers}"),
            json!({"name": "readers", "version": 1}),
        ),
    ] {
        assert_errors(
            s.send(method, &path, &reader, Some(&body.to_string()))
                .await,
            403,
            "Forbidden",
            "privileges",
        );
    }
    assert_errors(
        s.get(
            &format!("/api/token/admin@vigil.local/{monitor}"),
            &reader_monitor,
        )
        .await,
        403,
        "Forbidden",
        "privileges",
    );
    // Removing the reader from the team revokes its token there.
    let (st, v) = s
        .put(
            &format!("/api/teams/{readers}"),
            &admin,
            json!({"name": "readers", "version": 1, "userRoles": [{"userId": admin_id, "role": "ROLE_TEAM_MANAGER"}]}),
        )
        .await;
    assert_eq!((st, v["team"]["userCount"].as_i64()), (200, Some(1)), "{v}");
    assert_bad_credentials(s.get("/api/alerts", &reader).await, "/api/alerts");
    // Default teams cannot be deleted or renamed.
    assert_errors(
        s.delete(&format!("/api/teams/{monitor}"), &admin).await,
        422,
        "Invalid request",
        "default team",
    );
    assert_errors(
        s.put(
            &format!("/api/teams/{monitor}"),
            &admin,
            json!({"name": "renamed", "version": 1}),
        )
        .await,
        422,
        "Invalid request",
        "cannot be renamed",
    );
    // Product filter.
    let (_, v) = s.get("/api/teams?product=SDS", &admin).await;
    let names: Vec<&str> = v["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Secure Operations"]);
    assert_errors(
        s.get("/api/teams?product=XYZ", &admin).await,
        400,
        "Bad Request",
        "product",
    );
    s.stop().await;
}

#[tokio::test]
async fn versions_are_bumped_and_stale_writes_conflict() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let (_, a) = s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "a", "condition": "avg(x) > 1", "id": 77, "version": 9}}),
        )
        .await;
    let a = a["alert"].clone();
    assert_eq!(a["version"], 1);
    assert_ne!(a["id"], 77);
    let path = format!("/api/alerts/{}", a["id"]);
    let mut body = a.clone();
    body.as_object_mut().unwrap().remove("version");
    assert_errors(
        s.put(&path, &admin, json!({"alert": body})).await,
        400,
        "Bad Request",
        "version",
    );
    let (st, v) = s.put(&path, &admin, json!({"alert": a})).await;
    assert_eq!((st, &v["alert"]["version"]), (200, &json!(2)));
    assert_errors(
        s.put(&path, &admin, json!({"alert": a})).await,
        409,
        "Conflict",
        "version",
    );

    let (_, d) = s
        .post(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "d"}}),
        )
        .await;
    let d = d["dashboard"].clone();
    let path = format!("/api/v3/dashboards/{}", d["id"]);
    let (st, v) = s.put(&path, &admin, json!({"dashboard": d})).await;
    assert_eq!((st, &v["dashboard"]["version"]), (200, &json!(2)));
    assert_errors(
        s.put(&path, &admin, json!({"dashboard": d})).await,
        409,
        "Conflict",
        "version",
    );
    // PATCH of the favourite flag leaves the version alone.
    let (st, v) = s
        .send(
            Method::PATCH,
            &path,
            &admin,
            Some(r#"{"dashboard":{"favorite":true}}"#),
        )
        .await;
    assert_eq!(
        (st, &v["dashboard"]["favorite"], &v["dashboard"]["version"]),
        (200, &json!(true), &json!(2))
    );

    let (_, me) = s.get("/api/user/me", &admin).await;
    assert_errors(
        s.put(
            &format!("/api/users/{}", me["user"]["id"]),
            &admin,
            json!({"firstName": "Ann", "version": 5}),
        )
        .await,
        409,
        "Conflict",
        "version",
    );
    let monitor = s.team_id("Monitor Operations").await;
    let (st, v) = s
        .put(
            &format!("/api/teams/{monitor}"),
            &admin,
            json!({"name": "Monitor Operations", "version": 1, "description": "ours"}),
        )
        .await;
    assert_eq!((st, &v["team"]["version"]), (200, &json!(2)), "{v}");
    assert_errors(
        s.put(
            &format!("/api/teams/{monitor}"),
            &admin,
            json!({"name": "Monitor Operations", "version": 1}),
        )
        .await,
        409,
        "Conflict",
        "version",
    );
    s.stop().await;
}

#[tokio::test]
async fn unknown_ids_and_malformed_requests_get_4xx_bodies() {
    let s = Sdc::start().await;
    let admin = s.admin();
    for (path, msg) in [
        ("/api/alerts/999999", "Alert not found"),
        ("/api/alerts/abc", "Alert not found"),
        (
            "/api/notificationChannels/999999",
            "Notification channel not found",
        ),
        ("/api/users/999999", "User not found"),
        ("/api/teams/999999", "Team not found"),
        ("/api/v2/teams/light/name/nope", "Team not found"),
        ("/api/v2/events/999999", "Event not found"),
        ("/api/v2/events/not-a-number", "Event not found"),
    ] {
        assert_errors(s.get(path, &admin).await, 404, "Not Found", msg);
    }
    for method in [Method::GET, Method::DELETE] {
        assert_eq!(
            s.send(method, "/api/v3/dashboards/999999", &admin, None)
                .await,
            (404, Value::Null)
        );
    }
    assert_eq!(
        s.get("/api/v3/dashboards/templates/nope", &admin).await,
        (404, Value::Null)
    );
    assert_errors(
        s.put(
            "/api/notifications/999999",
            &admin,
            json!({"notification": {"resolved": true}}),
        )
        .await,
        404,
        "Not Found",
        "Notification not found",
    );

    for body in [
        "{\"alert\": 3",
        "",
        "null",
        "[]",
        "{\"name\": \"not wrapped\"}",
        "{\"alert\": {\"name\": 5, \"condition\": \"a > 1\"}}",
        "{\"alert\": {\"name\": \"x\"}}",
        "{\"alert\": {\"name\": \"x\", \"condition\": \"a > 1\", \"severity\": 9}}",
        "{\"alert\": {\"name\": \"x\", \"condition\": \"a > 1\", \"enabled\": \"yes\"}}",
        "{\"alert\": {\"name\": \"x\", \"condition\": \"a > 1\", \"type\": \"WHAT\"}}",
    ] {
        let (st, v) = s
            .send(Method::POST, "/api/alerts", &admin, Some(body))
            .await;
        assert_eq!(st, 400, "{body}: {v}");
        assert_eq!(v["errors"][0]["reason"], "Bad Request", "{body}: {v}");
    }
    assert_errors(
s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "x", "condition": "a > 1", "notificationChannelIds": [424242]}}),
        )
        .await, 422,
        "Invalid request",
        "Notification channel 424242 not found",
    );
    for (path, body) in [
        ("/api/v3/dashboards", json!({"dashboard": {"name": ""}})),
        (
            "/api/v3/dashboards",
            json!({"dashboard": {"name": "d", "panels": [{"name": "no id"}]}}),
        ),
        (
            "/api/v3/dashboards",
            json!({"dashboard": {"name": "d", "sharingSettings": [{"member": {"type": "X"}, "role": "ROLE_RESOURCE_READ"}]}}),
        ),
        (
            "/api/v2/events",
            json!({"event": {"description": "no name"}}),
        ),
        (
            "/api/v2/events",
            json!({"event": {"name": "e", "tags": {"a": 1}}}),
        ),
        (
            "/api/teams",
            json!({"name": "t", "userRoles": [{"userId": 1, "role": "BOSS"}]}),
        ),
        (
            "/api/users",
            json!({"username": "a@b", "systemRole": "ROLE_GOD"}),
        ),
        (
            "/api/notificationChannels",
            json!({"notificationChannel": {"type": "EMAIL", "name": "m", "options": {}}}),
        ),
    ] {
        let (st, v) = s.post(path, &admin, body.clone()).await;
        assert_eq!(st, 400, "{path} {body}: {v}");
        assert!(v["errors"][0]["message"].is_string(), "{v}");
    }
    for path in [
        "/api/notifications?from=abc&to=1",
        "/api/notifications?from=1&to=2&resolved=maybe",
        "/api/notifications?from=1&to=2&state=BAD",
        "/api/v2/events?limit=abc",
        "/api/v2/events?limit=0",
        "/api/v2/events?dir=sideways",
        "/api/v2/events?pivot=12345678",
        "/api/v3/dashboards?light=perhaps",
    ] {
        let (st, v) = s.get(path, &admin).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert_eq!(v["errors"][0]["reason"], "Bad Request", "{path}: {v}");
    }
    // Too large: 413, still an errors body.
    let big = format!("{{\"event\": {{\"name\": \"{}\"}}}}", "x".repeat(70_000));
    let (st, v) = s
        .send(Method::POST, "/api/v2/events", &admin, Some(&big))
        .await;
    assert_eq!(st, 413, "{v}");
    assert!(v["errors"].is_array());
    s.stop().await;
}

#[tokio::test]
async fn hand_built_queries_and_event_filters() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let e = s
        .create(
            "/api/v2/events",
            &admin,
            json!({"event": {"name": "deploy", "scope": "host.hostName='ci'  and  a!=\"b c\"", "severity": 2, "tags": {"k": "v"}, "timestamp": 1_000_000}}),
        )
        .await;
    let e = e["event"].clone();
    assert_eq!(e["scope"], "host.hostName = 'ci' and a != \"b c\"");
    assert!(e["id"].is_string());
    let (_, e2) = s
        .post(
            "/api/v2/events/",
            &admin,
            json!({"event": {"name": "other", "timestamp": 2_000_000}}),
        )
        .await;
    let (st, v) = s
        .get(
            "/api/v2/events/?alertStatus=resolved&alertStatus=triggered&category=alert%2Ccustom&dir=before&feed=true&include_pivot=true&include_total=true&limit=100",
            &admin,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["total"].as_i64(), v["matched"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(v["events"][0]["id"], e2["event"]["id"]);
    let (_, v) = s.get("/api/v2/events?filter=deploy", &admin).await;
    assert_eq!(v["events"].as_array().map(Vec::len), Some(1));
    let (_, v) = s.get("/api/v2/events?alertStatus=resolved", &admin).await;
    assert_eq!(v["events"], json!([]));
    let (_, v) = s.get("/api/v2/events?from=0&to=1500000", &admin).await;
    assert_eq!(v["events"][0]["name"], "deploy");
    assert_eq!(v["matched"], 1);

    // Notifications: capitalised booleans, µs bounds, values containing `=`.
    let (_, a) = s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(cpu.used.percent) > 80"}}),
        )
        .await;
    let aid = a["alert"]["id"].as_i64().unwrap();
    s
        .create(
            "/vigil/sysdig/notifications",
            &admin,
            json!({"notification": {"alert": aid, "state": "ACTIVE", "timestamp": 5_000_000, "value": 91}}),
        )
        .await;
    let (st, v) = s
        .get(
            "/api/notifications?from=4000000&to=6000000&state=ACTIVE&resolved=False&junk=a=b=c",
            &admin,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["notifications"][0]["alert"], aid);
    assert_eq!(
        v["notifications"][0]["condition"],
        "avg(cpu.used.percent) > 80"
    );
    let (_, v) = s
        .get(
            "/api/notifications?from=4000000&to=6000000&resolved=True",
            &admin,
        )
        .await;
    assert_eq!(v["notifications"], json!([]));
    let (_, v) = s.get(&format!("/api/alerts/{aid}"), &admin).await;
    assert_eq!(v["alert"]["notificationCount"], 1);
    s.stop().await;
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let s = Sdc::start().await;
    let admin = s.admin();
    let generated = s.admin.clone();
    let (_, c) = s
        .post(
            "/api/notificationChannels",
            &admin,
            json!({"notificationChannel": {"type": "EMAIL", "name": "m", "options": {"emailRecipients": ["a@b"]}}}),
        )
        .await;
    let cid = c["notificationChannel"]["id"].as_i64().unwrap();
    let (_, a) = s
        .post(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(x) > 1", "notificationChannelIds": [cid]}}),
        )
        .await;
    let a = a["alert"].clone();
    let (_, a2) = s
        .put(
            &format!("/api/alerts/{}", a["id"]),
            &admin,
            json!({"alert": a}),
        )
        .await;
    let (_, d) = s
        .post(
            "/api/v3/dashboards",
            &admin,
            json!({"dashboard": {"name": "d"}}),
        )
        .await;
    let (_, e) = s
        .post("/api/v2/events", &admin, json!({"event": {"name": "e"}}))
        .await;
    let (_, u) = s
        .post("/api/users", &admin, json!({"username": "u@example.com"}))
        .await;
    let (_, t) = s.post("/api/teams", &admin, json!({"name": "t2"})).await;
    let iam_token = s.iam_token(IAM_KEY).await;
    let (st, _) = s.get("/api/alerts", &iam(&iam_token)).await;
    assert_eq!(st, 200);

    let dir = s.stop().await;
    let s = Sdc::start_in(dir, |_| {}).await;
    assert_eq!(s.admin, generated, "the generated token is kept");
    let (_, v) = s.get(&format!("/api/alerts/{}", a["id"]), &admin).await;
    assert_eq!(v["alert"], {
        let mut want = a2["alert"].clone();
        want["notificationCount"] = json!(0);
        want
    });
    assert_eq!(v["alert"]["version"], 2);
    let (st, v) = s
        .get(
            &format!("/api/v3/dashboards/{}", d["dashboard"]["id"]),
            &admin,
        )
        .await;
    assert_eq!((st, &v["dashboard"]["name"]), (200, &json!("d")));
    let (st, v) = s
        .get(
            &format!("/api/v2/events/{}", e["event"]["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!((st, &v["event"]), (200, &e["event"]));
    let (st, _) = s
        .get(&format!("/api/users/{}", u["user"]["id"]), &admin)
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .get(&format!("/api/teams/{}", t["team"]["id"]), &admin)
        .await;
    assert_eq!(st, 200);
    // IAM tokens live in memory only.
    assert_bad_credentials(s.get("/api/alerts", &iam(&iam_token)).await, "/api/alerts");

    // A configured admin token replaces the stored one.
    let dir = s.stop().await;
    let s = Sdc::start_in(dir, |st| {
        st.sysdig.admin_token = Some("configured-admin-token".to_string().into());
    })
    .await;
    assert_bad_credentials(s.get("/api/alerts", &admin).await, "/api/alerts");
    let (st, v) = s
        .get("/api/alerts", &Auth::Token("configured-admin-token".into()))
        .await;
    assert_eq!((st, v["alerts"].as_array().map(Vec::len)), (200, Some(1)));
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

#[tokio::test]
async fn manual_alerts_are_evaluated_on_monasca_metrics() {
    let s = Sdc::start_in(tempfile::tempdir().unwrap(), |st| {
        st.sysdig
            .alert_tenants
            .insert("Monitor Operations".into(), "ops-project".into());
        st.sysdig.alert_interval = Duration::from_millis(100);
    })
    .await;
    let admin = s.admin();
    let a = s
        .create(
            "/api/alerts",
            &admin,
            json!({"alert": {"name": "cpu", "condition": "avg(cpu.used.percent) > 80", "timespan": 60_000_000, "severity": 1}}),
        )
        .await;
    let aid = a["alert"]["id"].as_i64().unwrap();
    post_cpu(&s, &[95.0, 91.0]).await;
    let active = wait_notification(&s, aid, "ACTIVE").await;
    assert_eq!(active["condition"], "avg(cpu.used.percent) > 80");
    assert_eq!(active["severity"], 1);
    assert_eq!(active["entities"][0]["metricValues"][0]["value"], 93.0);
    // Enough low values bring the average under the threshold: OK.
    post_cpu(&s, &[0.0; 20]).await;
    let ok = wait_notification(&s, aid, "OK").await;
    assert!(
        ok["entities"][0]["metricValues"][0]["value"]
            .as_f64()
            .unwrap()
            < 80.0
    );
    let (_, v) = s
        .get("/api/notifications?from=0&to=99999999999999999", &admin)
        .await;
    assert_eq!(v["notifications"].as_array().map(Vec::len), Some(2));
    s.stop().await;
}

/// Posts one `cpu.used.percent` point per value (one host each) to the Monasca API as
/// `ops-project`.
async fn post_cpu(s: &Sdc, values: &[f64]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let body: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"name": "cpu.used.percent", "dimensions": {"hostname": format!("h{i}")}, "timestamp": now, "value": v}))
        .collect();
    let r = s
        .http
        .post(format!("{}/v2.0/metrics", s.running.url()))
        .header("X-Auth-Token", "ops-project")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
}

async fn wait_notification(s: &Sdc, alert: i64, state: &str) -> Value {
    for _ in 0..100 {
        let (_, v) = s
            .get(
                &format!("/api/notifications?from=0&to=99999999999999999&state={state}"),
                &s.admin(),
            )
            .await;
        if let Some(n) = v["notifications"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["alert"] == alert).cloned())
        {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {state} notification for alert {alert}");
}

#[tokio::test]
async fn injected_faults_answer_once_per_count_then_stop() {
    let s = Sdc::start().await;
    let admin = s.admin();
    s
        .create(
            "/vigil/sysdig/faults",
            &admin,
            json!({"method": "GET", "path": "/api/alerts/", "status": 503, "count": 2, "retry_after": 1}),
        )
        .await;
    for _ in 0..2 {
        let r = s
            .http
            .get(format!("{}/api/alerts", s.running.url()))
            .header("Authorization", format!("Bearer {}", s.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
    }
    assert_eq!(s.get("/api/alerts", &admin).await.0, 200);
    // Only admins, only 4xx/5xx.
    assert_errors(
        s.post(
            "/vigil/sysdig/faults",
            &admin,
            json!({"path": "/api/alerts", "status": 200}),
        )
        .await,
        400,
        "Bad Request",
        "status",
    );
    let token = s.iam_token("iam-key-viewer").await;
    assert_errors(
        s.post(
            "/vigil/sysdig/faults",
            &iam(&token),
            json!({"path": "/api/alerts", "status": 500}),
        )
        .await,
        403,
        "Forbidden",
        "administrator",
    );
    s.stop().await;
}
