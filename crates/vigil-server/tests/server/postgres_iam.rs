//! The IBM IAM emulation over a shared PostgreSQL: an access token issued by one node is
//! accepted by another, and still after a restart (tokens are signed with the database's key,
//! not remembered by the node that issued them). `#[ignore]`d like the other PostgreSQL tests.

use std::time::Duration;

use config_repo_postgres::{PgSettings, testing};
use vigil_server::config::ConfigDb;

use crate::kit::{
    TestServer, inline_engine,
    sysdig_creds::{IBM_KEY, INSTANCE},
    with_sysdig_creds,
};

async fn node(url: &str) -> TestServer {
    let url = url.to_string();
    TestServer::start_with(move |s| {
        s.config_db = ConfigDb::Postgres(Box::new(PgSettings::parse(&url).unwrap()));
        s.engine = inline_engine(Duration::from_secs(3600));
        with_sysdig_creds(s);
    })
    .await
}

async fn iam_token(http: &reqwest::Client, node: &TestServer) -> String {
    let resp = http
        .post(format!("{}/identity/token", node.url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&response_type=cloud_iam&apikey={IBM_KEY}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

async fn user_status(http: &reqwest::Client, node: &TestServer, token: &str) -> u16 {
    http.get(format!("{}/api/users/me", node.url()))
        .bearer_auth(token)
        .header("IBMInstanceID", INSTANCE)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn an_iam_token_from_one_node_works_on_every_node_and_after_a_restart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = testing::fresh_database();
    let (one, two) = (node(&url).await, node(&url).await);
    let http = reqwest::Client::new();
    let token = iam_token(&http, &one).await;
    assert_eq!(user_status(&http, &one, &token).await, 200);
    assert_eq!(user_status(&http, &two, &token).await, 200);
    let forged = format!("{}0", &token[..token.len() - 1]);
    assert_eq!(user_status(&http, &two, &forged).await, 401);
    drop(one);
    let three = node(&url).await;
    assert_eq!(user_status(&http, &three, &token).await, 200);
}
