//! Keystone login: the real `monasca` binary and the `keystone-auth` session against the real
//! server's built-in identity (`vigil serve --auth identity`): password via flags, environment
//! and clouds.yaml, token login, the token cache, renewal before expiry and after a revocation,
//! and one-line errors for every failure.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use keystone_auth::{
    AuthMethod, Clock, Credentials, DomainRef, EndpointFilter, KeystoneSession, ProjectRef, Scope,
    UserRef,
};
use monasca::metrics::{CreateMetrics, ListMetrics};
use secrecy::ExposeSecret;

use crate::common::{Env, Out};

const PASSWORD: &str = "password";

/// Runs the binary with only `envs` in its environment (no HOME: no user clouds.yaml) in `cwd`.
async fn monasca(cwd: &Path, envs: &[(&str, &str)], args: &[&str]) -> Out {
    vigil_testkit::cli::run_in(env!("CARGO_BIN_EXE_monasca"), Some(cwd), envs, args).await
}

fn ok(o: &Out, what: &str) -> String {
    assert_eq!(o.code, 0, "{what}: {}", o.stderr);
    assert!(o.stderr.is_empty(), "{what}: {}", o.stderr);
    o.stdout.clone()
}

/// The password of the failing logins: it must never be printed.
const WRONG: &str = "wrong-pass-123";

/// Fails with exit code 1 and exactly one line on stderr, with no password in any output.
fn one_line_error(o: &Out, what: &str) -> String {
    assert_eq!(o.code, 1, "{what}: {} {}", o.stdout, o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{what}: {}", o.stderr);
    assert!(o.stdout.is_empty(), "{what}: {}", o.stdout);
    assert!(
        !o.stderr.contains(WRONG),
        "{what}: secret in stderr: {}",
        o.stderr
    );
    o.stderr.trim_end().to_string()
}

fn metric_names(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

fn password_flags(auth_url: &str) -> Vec<String> {
    [
        "--os-auth-url",
        auth_url,
        "--os-username",
        "mini-mon",
        "--os-password",
        PASSWORD,
        "--os-project-name",
        "mini-mon",
        "--os-user-domain-name",
        "Default",
        "--os-project-domain-name",
        "Default",
    ]
    .map(String::from)
    .to_vec()
}

fn with<'a>(base: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    base.iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_login_with_flags_env_and_clouds_yaml() {
    let env = Env::start_identity().await;
    let cwd = tempfile::tempdir().unwrap();
    let identity = format!("{}/identity", env.url());

    // Flags, auth URL without /v3: the endpoint comes from the catalog.
    let flags = password_flags(&identity);
    let o = monasca(
        cwd.path(),
        &[],
        &with(
            &flags,
            &["metric-create", "via.flags", "1", "--dimensions", "h=a"],
        ),
    )
    .await;
    assert_eq!(ok(&o, "create via flags"), "Successfully created metric\n");
    // -v shows the Keystone requests too, before the Monasca one.
    let o = monasca(cwd.path(), &[], &with(&flags, &["-v", "metric-name-list"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let discovery = o
        .stderr
        .find(&format!("GET {identity} -> 300"))
        .unwrap_or_else(|| panic!("{}", o.stderr));
    let login = o
        .stderr
        .find(&format!("POST {identity}/v3/auth/tokens -> 201"))
        .unwrap_or_else(|| panic!("{}", o.stderr));
    let names = o.stderr.find("/v2.0/metrics/names -> 200").unwrap();
    assert!(discovery < login && login < names, "{}", o.stderr);
    assert!(!o.stderr.contains(PASSWORD), "{}", o.stderr);
    // Auth URL with /v3 and a trailing slash, and the catalog's internal interface in RegionOne.
    let flags_v3 = password_flags(&format!("{identity}/v3/"));
    let o = monasca(
        cwd.path(),
        &[],
        &with(
            &flags_v3,
            &[
                "--os-interface",
                "internal",
                "--os-region-name",
                "RegionOne",
                "metric-list",
                "-j",
            ],
        ),
    )
    .await;
    assert_eq!(metric_names(&ok(&o, "list via flags")), ["via.flags"]);

    // Environment variables, with the older OS_TENANT_NAME and no domains (the default domain
    // applies, as in osc-lib).
    let env_vars = [
        ("OS_AUTH_URL", identity.as_str()),
        ("OS_USERNAME", "mini-mon"),
        ("OS_PASSWORD", PASSWORD),
        ("OS_TENANT_NAME", "mini-mon"),
    ];
    let o = monasca(
        cwd.path(),
        &env_vars,
        &["metric-create", "via.env", "2", "--dimensions", "h=b"],
    )
    .await;
    ok(&o, "create via env");
    let o = monasca(cwd.path(), &env_vars, &["metric-list", "-j"]).await;
    assert_eq!(
        metric_names(&ok(&o, "list via env")),
        ["via.env", "via.flags"]
    );

    // clouds.yaml named by OS_CLIENT_CONFIG_FILE, with the password in a secure.yaml found in
    // the current directory.
    let files = tempfile::tempdir().unwrap();
    let clouds = files.path().join("my-clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  vigil:\n    auth:\n      auth_url: {identity}\n      username: mini-mon\n      \
             project_name: mini-mon\n      user_domain_name: Default\n      project_domain_name: \
             Default\n    region_name: RegionOne\n    interface: public\n    identity_api_version: 3\n"
        ),
    )
    .unwrap();
    std::fs::write(
        cwd.path().join("secure.yaml"),
        format!("clouds:\n  vigil:\n    auth:\n      password: {PASSWORD}\n"),
    )
    .unwrap();
    let clouds_s = clouds.display().to_string();
    let cloud_env = [
        ("OS_CLOUD", "vigil"),
        ("OS_CLIENT_CONFIG_FILE", clouds_s.as_str()),
    ];
    let o = monasca(
        cwd.path(),
        &cloud_env,
        &["metric-create", "via.cloud", "3", "--dimensions", "h=c"],
    )
    .await;
    ok(&o, "create via clouds.yaml");
    let o = monasca(cwd.path(), &cloud_env, &["metric-list", "-j"]).await;
    assert_eq!(
        metric_names(&ok(&o, "list via clouds.yaml")),
        ["via.cloud", "via.env", "via.flags"]
    );
    // The flag wins over the file: a wrong --os-password fails.
    let o = monasca(
        cwd.path(),
        &cloud_env,
        &["--os-password", WRONG, "metric-list"],
    )
    .await;
    assert!(
        one_line_error(&o, "flag over file").starts_with("authentication failed (HTTP 401"),
        "{}",
        o.stderr
    );
    // And the environment wins over the file too.
    let mut env_over = cloud_env.to_vec();
    env_over.push(("OS_PASSWORD", WRONG));
    let o = monasca(cwd.path(), &env_over, &["metric-list"]).await;
    one_line_error(&o, "env over file");

    // --monasca-api-url bypasses the catalog.
    let api = format!("{}/v2.0", env.url());
    let o = monasca(
        cwd.path(),
        &[],
        &with(
            &flags,
            &["--monasca-api-url", &api, "metric-name-list", "-j"],
        ),
    )
    .await;
    assert!(ok(&o, "explicit endpoint").contains("via.cloud"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_are_one_clear_line() {
    let env = Env::start_identity().await;
    let cwd = tempfile::tempdir().unwrap();
    let identity = format!("{}/identity", env.url());

    // Wrong password, from the flag and from the environment.
    let mut flags = password_flags(&identity);
    flags[5] = WRONG.into();
    let o = monasca(cwd.path(), &[], &with(&flags, &["metric-list"])).await;
    let line = one_line_error(&o, "wrong password");
    assert_eq!(
        line,
        format!(
            "authentication failed (HTTP 401 Unauthorized from {identity}/v3/auth/tokens): The \
             request you have made requires authentication."
        )
    );
    let o = monasca(
        cwd.path(),
        &[
            ("OS_AUTH_URL", identity.as_str()),
            ("OS_USERNAME", "mini-mon"),
            ("OS_PASSWORD", WRONG),
            ("OS_PROJECT_NAME", "mini-mon"),
        ],
        &["metric-list"],
    )
    .await;
    assert!(one_line_error(&o, "wrong password in env").contains("HTTP 401"));

    // Nobody listening.
    let o = monasca(
        cwd.path(),
        &[],
        &with(
            &password_flags("http://127.0.0.1:1/identity"),
            &["metric-list"],
        ),
    )
    .await;
    let line = one_line_error(&o, "unreachable");
    assert!(
        line.starts_with(
            "unable to establish connection to the auth URL http://127.0.0.1:1/identity"
        ),
        "{line}"
    );

    // Something that is not a Keystone: Monasca's own version document.
    let o = monasca(
        cwd.path(),
        &[],
        &with(&password_flags(&env.url()), &["metric-list"]),
    )
    .await;
    let line = one_line_error(&o, "not keystone");
    assert!(
        line.starts_with(&format!(
            "{}/ is not a Keystone v3 identity service",
            env.url()
        )),
        "{line}"
    );

    // No project: an unscoped token has no catalog, so no monitoring endpoint.
    let o = monasca(
        cwd.path(),
        &[],
        &[
            "--os-auth-url",
            &identity,
            "--os-username",
            "mini-mon",
            "--os-password",
            PASSWORD,
            "metric-list",
        ],
    )
    .await;
    assert_eq!(
        one_line_error(&o, "unscoped"),
        "no monitoring endpoint with interface public in the service catalog"
    );
    // A region the catalog does not have.
    let o = monasca(
        cwd.path(),
        &[],
        &with(
            &password_flags(&identity),
            &["--os-region-name", "Nowhere", "metric-list"],
        ),
    )
    .await;
    let line = one_line_error(&o, "region");
    assert!(
        line.starts_with(
            "no monitoring endpoint with interface public in region Nowhere in the service \
             catalog (it has: public RegionOne http://"
        ),
        "{line}"
    );

    // Missing settings.
    let o = monasca(
        cwd.path(),
        &[
            ("OS_AUTH_URL", identity.as_str()),
            ("OS_USERNAME", "mini-mon"),
        ],
        &["metric-list"],
    )
    .await;
    assert_eq!(
        one_line_error(&o, "no password"),
        "missing a password: set --os-password or OS_PASSWORD"
    );
    let o = monasca(
        cwd.path(),
        &[("OS_AUTH_TYPE", "password"), ("OS_USERNAME", "mini-mon")],
        &["metric-list"],
    )
    .await;
    assert_eq!(
        one_line_error(&o, "no auth url"),
        "missing the auth URL: set --os-auth-url or OS_AUTH_URL"
    );
    let o = monasca(
        cwd.path(),
        &[("OS_AUTH_TYPE", "v3oidcpassword")],
        &["metric-list"],
    )
    .await;
    assert!(
        one_line_error(&o, "auth type").starts_with("unsupported auth type \"v3oidcpassword\"")
    );

    // clouds.yaml problems name the file.
    let files = tempfile::tempdir().unwrap();
    let clouds = files.path().join("clouds.yaml");
    std::fs::write(&clouds, "clouds:\n  vigil:\n    auth: [not, a, mapping]\n").unwrap();
    let clouds_s = clouds.display().to_string();
    let o = monasca(
        cwd.path(),
        &[("OS_CLOUD", "vigil"), ("OS_CLIENT_CONFIG_FILE", &clouds_s)],
        &["metric-list"],
    )
    .await;
    assert_eq!(
        one_line_error(&o, "bad clouds.yaml"),
        format!("malformed {clouds_s}: clouds.vigil.auth: must be a mapping")
    );
    std::fs::write(&clouds, "clouds:\n  vigil: {auth: {auth_url: x}\n").unwrap();
    let o = monasca(
        cwd.path(),
        &[("OS_CLOUD", "vigil"), ("OS_CLIENT_CONFIG_FILE", &clouds_s)],
        &["metric-list"],
    )
    .await;
    assert_eq!(
        one_line_error(&o, "bad YAML"),
        format!("malformed {clouds_s}: invalid YAML: line 2 column 10: unclosed bracket '{{'")
    );
    let o = monasca(
        cwd.path(),
        &[
            ("OS_CLOUD", "other"),
            ("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml"),
        ],
        &["metric-list"],
    )
    .await;
    assert!(one_line_error(&o, "no cloud").starts_with(
        "cloud \"other\" not found: no clouds.yaml found (looked for /nonexistent/clouds.yaml, "
    ));
}

async fn password_session(env: &Env) -> KeystoneSession {
    let d = DomainRef::Name("Default".into());
    KeystoneSession::builder(
        format!("{}/identity", env.url()),
        Credentials::new(
            AuthMethod::password(UserRef::name("mini-mon", d.clone()), PASSWORD),
            Scope::Project(ProjectRef::name("mini-mon", d)),
        ),
    )
    .build()
    .unwrap()
}

/// Revokes a token with `DELETE /v3/auth/tokens`, as an operator would.
async fn revoke(env: &Env, token: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status = reqwest::Client::new()
        .delete(format!("{}/identity/v3/auth/tokens", env.url()))
        .header("X-Auth-Token", token)
        .header("X-Subject-Token", token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_logs_in_again_after_a_revocation() {
    let env = Env::start_identity().await;
    let session = Arc::new(password_session(&env).await);
    let endpoint = session
        .endpoint(&EndpointFilter::monitoring())
        .await
        .unwrap();
    assert_eq!(endpoint.as_str(), format!("{}/v2.0", env.url()));
    let client = monasca::Client::builder(endpoint.as_str())
        .token_source(session.clone())
        .build()
        .unwrap();
    client
        .send(
            &CreateMetrics::one(&monasca::types::Metric {
                name: "m1".into(),
                dimensions: Default::default(),
                timestamp: jiff::Timestamp::now().as_millisecond() as f64,
                value: 1.0,
                value_meta: None,
            })
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(session.login_count(), 1);
    let first = session.current_token().unwrap();
    revoke(&env, first.secret().expose_secret()).await;
    // The server answers 401, the client invalidates the token and retries once.
    let page = client.page(&ListMetrics::new()).await.unwrap();
    assert_eq!(page.elements.len(), 1);
    assert_eq!(session.login_count(), 2);
    let second = session.current_token().unwrap();
    assert_ne!(
        first.secret().expose_secret(),
        second.secret().expose_secret()
    );
}

#[derive(Debug)]
struct TestClock(Mutex<jiff::Timestamp>);

impl Clock for TestClock {
    fn now(&self) -> jiff::Timestamp {
        *self.0.lock().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_renews_a_minute_before_expiry() {
    let env = Env::start_identity().await;
    let clock = Arc::new(TestClock(Mutex::new(jiff::Timestamp::now())));
    let d = DomainRef::Id("default".into());
    let session = KeystoneSession::builder(
        format!("{}/identity/v3", env.url()),
        Credentials::new(
            AuthMethod::password(UserRef::name("mini-mon", d.clone()), PASSWORD),
            Scope::Project(ProjectRef::name("mini-mon", d)),
        ),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let t1 = session.authenticate().await.unwrap();
    let expires = t1.expires_at().unwrap();
    // Well before the margin: the same token.
    *clock.0.lock().unwrap() = expires - Duration::from_secs(61);
    let t2 = session.authenticate().await.unwrap();
    assert!(Arc::ptr_eq(&t1, &t2));
    assert_eq!(session.login_count(), 1);
    // Inside the 60 s margin: a new login.
    *clock.0.lock().unwrap() = expires - Duration::from_secs(59);
    let t3 = session.authenticate().await.unwrap();
    assert!(!Arc::ptr_eq(&t1, &t3));
    assert_eq!(session.login_count(), 2);
    assert_eq!(
        t3.info.project.as_ref().unwrap().name.as_deref(),
        Some("mini-mon")
    );
    assert!(
        t3.info
            .roles
            .iter()
            .any(|r| r.name.as_deref() == Some("monasca-user"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_login_and_the_token_cache() {
    let env = Env::start_identity().await;
    let cwd = tempfile::tempdir().unwrap();
    let identity = format!("{}/identity", env.url());

    // --os-auth-type token: an existing token re-scoped by Keystone.
    let session = password_session(&env).await;
    let token = session.authenticate().await.unwrap();
    let token = token.secret().expose_secret().to_string();
    let o = monasca(
        cwd.path(),
        &[],
        &[
            "--os-auth-type",
            "token",
            "--os-token",
            &token,
            "--os-auth-url",
            &identity,
            "--os-project-name",
            "mini-mon",
            "--os-project-domain-name",
            "Default",
            "metric-create",
            "via.token",
            "1",
        ],
    )
    .await;
    ok(&o, "token login");

    // The token cache: the second run reuses the first run's token, a revoked one is replaced
    // after the API's 401.
    let cache_home = tempfile::tempdir().unwrap();
    let cache_home_s = cache_home.path().display().to_string();
    let cache_env = [("XDG_CACHE_HOME", cache_home_s.as_str())];
    let flags = password_flags(&identity);
    let cached = |dir: &Path| -> Vec<PathBuf> {
        match std::fs::read_dir(dir.join("vigil/keystone")) {
            Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    };
    let o = monasca(cwd.path(), &cache_env, &with(&flags, &["metric-list"])).await;
    ok(&o, "no cache without the option");
    assert!(cached(cache_home.path()).is_empty());
    let o = monasca(
        cwd.path(),
        &cache_env,
        &with(&flags, &["--token-cache", "metric-list"]),
    )
    .await;
    ok(&o, "first cached run");
    let files = cached(cache_home.path());
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let read_token = |p: &Path| -> String {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v["subject_token"].as_str().unwrap().to_string()
    };
    let t1 = read_token(&files[0]);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        !text.contains(PASSWORD_IN_FILE_MARKER),
        "no password in the cache"
    );
    let mut env_cache = cache_env.to_vec();
    env_cache.push(("MONASCA_TOKEN_CACHE", "1"));
    let o = monasca(cwd.path(), &env_cache, &with(&flags, &["metric-list"])).await;
    ok(&o, "second cached run");
    assert_eq!(read_token(&files[0]), t1, "the cached token was reused");
    revoke(&env, &t1).await;
    let o = monasca(
        cwd.path(),
        &env_cache,
        &with(&flags, &["metric-list", "-j"]),
    )
    .await;
    assert!(ok(&o, "after revocation").contains("via.token"));
    let t2 = read_token(&files[0]);
    assert_ne!(t1, t2, "a new token replaced the revoked one");
}

/// The password is `password`, which the JSON of a token body never holds as a value.
const PASSWORD_IN_FILE_MARKER: &str = "\"password\":\"password\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_credential_login() {
    let env = Env::start_identity().await;
    let cwd = tempfile::tempdir().unwrap();
    let identity = format!("{}/identity", env.url());
    // mini-mon creates an application credential for itself with its password token.
    let session = password_session(&env).await;
    let token = session.authenticate().await.unwrap();
    let token = token.secret().expose_secret().to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{identity}/v3/users/mini-mon/application_credentials"))
        .header("X-Auth-Token", &token)
        .json(&serde_json::json!({"application_credential": {"name": "ci", "secret": "app-secret-1"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["application_credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let o = monasca(
        cwd.path(),
        &[
            ("OS_AUTH_URL", identity.as_str()),
            ("OS_AUTH_TYPE", "v3applicationcredential"),
            ("OS_APPLICATION_CREDENTIAL_ID", id.as_str()),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "app-secret-1"),
        ],
        &["metric-create", "via.appcred", "1"],
    )
    .await;
    ok(&o, "application credential login");
    let o = monasca(
        cwd.path(),
        &[
            ("OS_AUTH_URL", identity.as_str()),
            ("OS_AUTH_TYPE", "v3applicationcredential"),
            ("OS_APPLICATION_CREDENTIAL_ID", id.as_str()),
            ("OS_APPLICATION_CREDENTIAL_SECRET", WRONG),
        ],
        &["metric-list"],
    )
    .await;
    one_line_error(&o, "wrong application credential secret");
}
