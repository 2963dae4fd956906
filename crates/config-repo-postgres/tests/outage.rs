//! PostgreSQL stopped and started again under a running node: calls fail (the APIs answer
//! 503) while it is down, and the pool recovers by itself once it is back.

use std::{sync::Arc, time::Duration};

use config_repo::{
    RepoError,
    monasca::{MonascaRepos, NotificationMethod},
    outbox::Outbox,
    sysdig::SysdigRepo,
};
use config_repo_postgres::{
    monasca::PgMonasca,
    sysdig::PgSysdigRepo,
    testing::{self as pg, Instance},
};
use monasca::types::NotificationType;

fn method(id: &str) -> NotificationMethod {
    NotificationMethod {
        id: id.into(),
        tenant: "acme".into(),
        name: id.into(),
        kind: NotificationType::Webhook,
        address: "http://127.0.0.1:9/".into(),
        period: 0,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn calls_fail_while_postgres_is_down_and_succeed_once_it_is_back() {
    let server = Arc::new(blocking(Instance::create).await);
    let url = blocking({
        let s = server.clone();
        move || s.create_database()
    })
    .await;
    let db = pg::open(&url).await;
    let monasca = PgMonasca::new(db.clone());
    let repos = MonascaRepos::from_backend(monasca.clone());
    let sysdig: Box<dyn SysdigRepo> = Box::new(PgSysdigRepo::new(db.clone()));
    repos
        .notification_methods
        .create(method("m1"))
        .await
        .unwrap();
    // Eight pooled connections (the most a node opens), all of which the restart will close;
    // the calls during the outage find only some of them dead.
    let held: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                db.call(|c| {
                    c.simple_query("SELECT 1").unwrap();
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(())
                })
                .await
            })
        })
        .collect();
    for h in held {
        h.await.unwrap().unwrap();
    }

    blocking({
        let s = server.clone();
        move || s.stop()
    })
    .await;
    let read = repos.notification_methods.get("acme", "m1").await;
    assert!(matches!(read, Err(RepoError::Storage(_))), "{read:?}");
    let write = repos.notification_methods.create(method("m2")).await;
    assert!(matches!(write, Err(RepoError::Storage(_))), "{write:?}");
    let unit: Result<i64, RepoError> = sysdig
        .tx(|c| c.team_insert("Ops", &serde_json::Map::new()))
        .await;
    assert!(matches!(unit, Err(RepoError::Storage(_))), "{unit:?}");
    assert!(monasca.outbox().pending().await.is_err());

    blocking({
        let s = server.clone();
        move || s.start()
    })
    .await;
    // An outage lasts longer than the pool's idle check (1 s); what the pool kept from
    // before is checked and replaced, so the first call after it succeeds.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        repos
            .notification_methods
            .get("acme", "m1")
            .await
            .unwrap()
            .name,
        "m1"
    );
    repos
        .notification_methods
        .create(method("m2"))
        .await
        .unwrap();
    let team: i64 = sysdig
        .tx(|c| c.team_insert("Ops", &serde_json::Map::new()))
        .await
        .unwrap();
    assert!(team > 0);
    assert_eq!(monasca.outbox().pending().await.unwrap(), 0);
}
