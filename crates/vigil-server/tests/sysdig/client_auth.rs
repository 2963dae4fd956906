//! Authentication: revoked tokens, IBM IAM (exchange, team headers, refresh), retries.

use std::{sync::Arc, time::Duration};

use secrecy::ExposeSecret;
use sysdig::{Client, Error, RetryPolicy, auth::IbmIam, teams::Team};

use super::client_env::{ADMIN, ADMIN_TOKEN, Env, IBM_KEY, INSTANCE, err, settings};

#[tokio::test]
async fn reset_token_revokes_the_old_one() {
    let env = Env::start().await;
    let admin = env.admin();
    admin
        .users()
        .create(&sysdig::users::NewUser::new("u@example.com"))
        .await
        .unwrap();
    let key = admin
        .token()
        .of_user("u@example.com", "Monitor Operations")
        .await
        .unwrap();
    let old = env.client(key.expose_secret());
    let new_key = old.token().reset().await.unwrap();
    assert_ne!(new_key.expose_secret(), key.expose_secret());
    let (s, m) = err(old.me().await);
    assert_eq!((s, m.as_str()), (Some(401), "Bad credentials"));
    let new = env.client(new_key.expose_secret());
    assert_eq!(new.me().await.unwrap().username, "u@example.com");
    assert_eq!(
        new.token().get().await.unwrap().expose_secret(),
        new_key.expose_secret()
    );
    // The admin's token is untouched.
    assert_eq!(
        admin.token().get().await.unwrap().expose_secret(),
        ADMIN_TOKEN
    );
    assert_eq!(
        err(env.client("not-a-token").me().await).1,
        "Bad credentials"
    );
}

#[tokio::test]
async fn ibm_iam_exchange_and_teams() {
    let env = Env::start().await;
    let ibm = env.ibm(None);
    let me = ibm.me().await.unwrap();
    assert_eq!(me.username, ADMIN);
    assert!(!format!("{ibm:?}").contains(IBM_KEY));
    // The default team: a Monitor team token comes back.
    assert_eq!(
        ibm.token().get().await.unwrap().expose_secret(),
        ADMIN_TOKEN
    );

    // Objects belong to the team named by the team headers.
    let admin = env.admin();
    let ops = admin.teams().create(&Team::new("ops")).await.unwrap();
    let roles = [(ADMIN.to_string(), "ROLE_TEAM_MANAGER".to_string())].into();
    admin.teams().save_memberships("ops", &roles).await.unwrap();
    let in_ops = env.ibm(ops.id);
    in_ops
        .alerts()
        .create(&sysdig::alerts::Alert::manual("ops alert", "avg(x) > 1"))
        .await
        .unwrap();
    assert_eq!(in_ops.alerts().list().await.unwrap().len(), 1);
    assert!(ibm.alerts().list().await.unwrap().is_empty());
    let ops_token = in_ops.token().get().await.unwrap();
    assert_ne!(ops_token.expose_secret(), ADMIN_TOKEN);
    // A team the user is not in: 403.
    let other = admin.teams().create(&Team::new("other")).await.unwrap();
    admin
        .teams()
        .remove_memberships("other", &[ADMIN.to_string()])
        .await
        .unwrap();
    assert_eq!(err(env.ibm(other.id).me().await).0, Some(403));

    // A wrong API key fails at IAM; a wrong instance id at the API.
    let bad = Client::builder()
        .use_env(false)
        .url(env.url())
        .ibm_iam("wrong-key", INSTANCE)
        .ibm_iam_url(env.url())
        .build()
        .unwrap();
    let e = bad.me().await.unwrap_err();
    assert!(matches!(e, Error::Iam { status: 400, .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("Provided API key could not be found"),
        "{e}"
    );
    let wrong_instance = Client::builder()
        .use_env(false)
        .url(env.url())
        .ibm_iam(IBM_KEY, "other-instance")
        .ibm_iam_url(env.url())
        .build()
        .unwrap();
    assert_eq!(
        err(wrong_instance.me().await),
        (Some(401), "Bad credentials".into())
    );
}

#[tokio::test]
async fn ibm_iam_token_is_refreshed_after_expiry() {
    let env = Env::start_with(|s| s.sysdig.iam_token_ttl = Duration::from_secs(2)).await;
    let iam = Arc::new(IbmIam::new(IBM_KEY, INSTANCE, env.url()));
    let c = Client::builder()
        .use_env(false)
        .url(env.url())
        .authenticator(iam.clone())
        .build()
        .unwrap();
    c.me().await.unwrap();
    c.me().await.unwrap();
    assert_eq!(iam.exchanges(), 1, "a valid token is reused");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(c.me().await.unwrap().username, ADMIN);
    assert_eq!(iam.exchanges(), 2, "an expired token is replaced");

    // With no margin the client sends a token the server already considers expired
    // (`expiration` is in whole seconds); the 401 makes it fetch a new one and retry once.
    let lazy = Arc::new(IbmIam::new(IBM_KEY, INSTANCE, env.url()).refresh_margin(Duration::ZERO));
    let c = Client::builder()
        .use_env(false)
        .url(env.url())
        .authenticator(lazy.clone())
        .build()
        .unwrap();
    c.me().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(c.me().await.unwrap().username, ADMIN);
    assert!(lazy.exchanges() >= 2);
}

#[tokio::test]
async fn idempotent_requests_are_retried_until_the_server_is_up() {
    // Reserve a port, start the server on it only after the client began retrying.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let retrying = |max| {
        Client::builder()
            .use_env(false)
            .url(&url)
            .token(ADMIN_TOKEN)
            .retry(RetryPolicy {
                max_retries: max,
                initial_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_millis(400),
            })
            .build()
            .unwrap()
    };
    // Not idempotent: one attempt only.
    let started = std::time::Instant::now();
    let e = retrying(5)
        .events()
        .post(&sysdig::events::NewEvent::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_millis(200));

    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&dir);
    s.bind = format!("127.0.0.1:{port}").parse().unwrap();
    let c = retrying(8);
    let call = tokio::spawn(async move { c.me().await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _server = crate::kit::Running::start(s).await.unwrap();
    assert_eq!(call.await.unwrap().unwrap().username, ADMIN);
}
