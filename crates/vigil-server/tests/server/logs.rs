//! What the real binary writes to stderr: an access line per request that never holds the
//! token, plain text without colour codes when stderr is not a terminal, JSON lines on request,
//! and "vigil stopped" as its last word.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const TOKEN: &str = "tenant-token-never-logged";

/// `vigil serve` on a free port with `args` and `env`, once it answers.
async fn spawn(
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir.path())
    .args(args)
    .env_remove("VIGIL_LOG")
    .env_remove("VIGIL_LOG_FORMAT")
    .envs(env.iter().copied())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{url}/healthcheck")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, url, dir)
}

/// Sends one metric and one list with `token`.
async fn post_and_list(url: &str, token: &str) {
    let http = reqwest::Client::new();
    let body =
        r#"{"name":"cpu","dimensions":{"hostname":"h1"},"timestamp":1767225600000,"value":1}"#;
    let posted = http
        .post(format!("{url}/v2.0/metrics"))
        .header("X-Auth-Token", token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 204);
    let listed = http
        .get(format!("{url}/v2.0/metrics?name=cpu"))
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
}

/// Stops the server with SIGTERM and returns its stderr.
async fn stop(child: std::process::Child) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// Runs `vigil serve` with `env`, sends one metric and one list, stops it with SIGTERM and
/// returns its stderr.
async fn serve_and_log(env: &[(&str, &str)]) -> String {
    let (child, url, _dir) = spawn(&[], env).await;
    post_and_list(&url, TOKEN).await;
    stop(child).await
}

/// With the identity service, the lines name the project a request acts for; never the token.
#[tokio::test]
async fn access_lines_name_the_tenant() {
    let (child, url, _dir) = spawn(&["--auth", "identity"], &[]).await;
    let auth = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password":
        {"user": {"name": "mini-mon", "domain": {"name": "Default"}, "password": "password"}}},
        "scope": {"project": {"name": "mini-mon", "domain": {"name": "Default"}}}}});
    let login = reqwest::Client::new()
        .post(format!("{url}/identity/v3/auth/tokens"))
        .json(&auth)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 201);
    let token = login.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    post_and_list(&url, &token).await;
    let log = stop(child).await;
    let monasca: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" access: ") && l.contains("route=/v2.0/metrics"))
        .collect();
    assert_eq!(monasca.len(), 2, "{log}");
    for line in monasca {
        // The text format quotes values with a `-`.
        assert!(line.contains(r#"tenant="mini-mon""#), "{line}");
    }
    assert!(!log.contains(&token), "{log}");
}

#[tokio::test]
async fn access_lines_without_secrets_or_colour() {
    let log = serve_and_log(&[]).await;
    let access: Vec<&str> = log.lines().filter(|l| l.contains(" access: ")).collect();
    assert_eq!(access.len(), 3, "healthcheck, post and list: {log}");
    let post = access
        .iter()
        .find(|l| l.contains("method=POST"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        post.contains("route=/v2.0/metrics status=204 duration_ms="),
        "{post}"
    );
    assert!(
        access
            .iter()
            .any(|l| l.contains("method=GET route=/v2.0/metrics status=200"))
    );
    assert!(!log.contains(TOKEN), "{log}");
    assert!(!log.contains("name=cpu"), "query strings stay out: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes into a pipe: {log}"
    );
    assert!(log.trim_end().ends_with("vigil stopped"), "{log}");
    // The access log can be turned off with the filter.
    let quiet = serve_and_log(&[("VIGIL_LOG", "info,access=off")]).await;
    assert!(!quiet.contains(" access: "), "{quiet}");
    assert!(quiet.contains("vigil listening"), "{quiet}");
}

#[tokio::test]
async fn json_log_lines_for_log_shippers() {
    let log = serve_and_log(&[("VIGIL_LOG_FORMAT", "json")]).await;
    let mut posts = 0;
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["target"] == "access" && v["fields"]["method"] == "POST" {
            assert_eq!(v["fields"]["route"], "/v2.0/metrics", "{line}");
            assert_eq!(v["fields"]["status"], 204, "{line}");
            posts += 1;
        }
    }
    assert_eq!(posts, 1, "{log}");
    assert!(!log.contains(TOKEN), "{log}");
}

/// `vigil completion` and `vigil man` exist like the CLIs' own.
#[test]
fn completion_and_man_pages() {
    let o = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("_vigil()"));
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("man")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let page = std::fs::read_to_string(dir.path().join("vigil-serve.1")).unwrap();
    assert!(page.contains(r"\-\-retention"), "{page}");
}
