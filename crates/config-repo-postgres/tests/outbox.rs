//! The outbox and token conformance suites on PostgreSQL, and claims by several nodes at once.

use std::{collections::HashSet, sync::Arc};

use config_repo::outbox::{NewDelivery, Outbox, Receiver, Source};
use config_repo_postgres::outbox::PgOutbox;

use config_repo_postgres::testing as pg;

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn postgres_passes_the_outbox_conformance_suite_for_each_source() {
    for source in [Source::Sysdig, Source::Monasca] {
        config_repo::conformance::outbox(&PgOutbox::new(pg::fresh_db().await, source)).await;
    }
}

fn queued(source: Source, i: usize) -> NewDelivery {
    NewDelivery {
        event_id: format!("{}-{i}", source.as_str()),
        source,
        tenant: "t".into(),
        receiver: Receiver {
            id: "r".into(),
            name: "r".into(),
            kind: "WEBHOOK".into(),
            address: String::new(),
            options: serde_json::Value::Null,
            period_s: 0,
        },
        event: serde_json::json!({"i": i}),
        test: false,
        created_ms: i64::try_from(i).unwrap(),
    }
}

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn sources_sharing_the_database_keep_to_their_own_deliveries() {
    let db = pg::fresh_db().await;
    let monasca = PgOutbox::new(db.clone(), Source::Monasca);
    let sysdig = PgOutbox::new(db, Source::Sysdig);
    monasca.enqueue(queued(Source::Monasca, 1)).await.unwrap();
    assert_eq!(sysdig.pending().await.unwrap(), 0);
    assert_eq!(sysdig.next_due_ms().await.unwrap(), None);
    assert!(sysdig.claim(i64::MAX / 2, 1, 10).await.unwrap().is_empty());
    assert_eq!(monasca.claim(i64::MAX / 2, 1, 10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn nodes_claiming_at_once_never_get_the_same_delivery() {
    let url = pg::fresh_database();
    let mut nodes: Vec<Arc<PgOutbox>> = Vec::new();
    for _ in 0..3 {
        nodes.push(Arc::new(PgOutbox::new(
            pg::open(&url).await,
            Source::Monasca,
        )));
    }
    for i in 0..300 {
        nodes[0].enqueue(queued(Source::Monasca, i)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for n in 0..12 {
        let node = nodes[n % 3].clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = node.claim(1_000, 1_000_000, 7).await.unwrap();
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|d| d.id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 300, "every delivery claimed exactly once");
    assert_eq!(distinct.len(), 300);
}

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn postgres_passes_the_token_conformance_suite_and_nodes_share_tokens() {
    use config_repo::identity::{StoredToken, TokenRepo};
    use config_repo_postgres::identity::PgTokens;
    let url = pg::fresh_database();
    let node_a = PgTokens::new(pg::open(&url).await);
    config_repo::conformance::tokens(&node_a).await;
    config_repo::conformance::app_credentials(
        &config_repo_postgres::identity::PgAppCredentials::new(pg::open(&url).await),
    )
    .await;
    let node_b = PgTokens::new(pg::open(&url).await);
    let now = config_repo::now_ms();
    let t = StoredToken {
        user: "u".into(),
        project: Some("p".into()),
        roles: vec!["monasca-user".into()],
        issued_at_ms: now,
        expires_at_ms: now + 1_000,
    };
    node_a.insert("shared", &t).await.unwrap();
    assert_eq!(node_b.get("shared", now).await.unwrap(), Some(t));
    assert!(node_b.remove("shared").await.unwrap());
    assert_eq!(node_a.get("shared", now).await.unwrap(), None);
}
