//! The Sysdig conformance suite on PostgreSQL, and what several nodes sharing it rely on.

use config_repo::{RepoError, sysdig::SysdigRepo};
use config_repo_postgres::sysdig::PgSysdigRepo;

use config_repo_postgres::testing as pg;

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn postgres_passes_the_sysdig_conformance_suite() {
    let repo = PgSysdigRepo::new(pg::fresh_db().await);
    config_repo::conformance::sysdig(&repo).await;
}

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn names_full_of_quotes_backslashes_and_sql_come_back_as_given() {
    let repo: Box<dyn SysdigRepo> = Box::new(PgSysdigRepo::new(pg::fresh_db().await));
    let nasty = r#"o'; DROP TABLE sysdig_teams; --"\\ \"x\" $1 %s"#;
    let checked: Result<(), RepoError> = repo
        .tx(move |c| {
            let team = c.team_insert(nasty, &serde_json::Map::new())?;
            assert_eq!(c.team_by_name(nasty)?.map(|t| t.name), Some(nasty.into()));
            let mut doc = serde_json::Map::new();
            doc.insert("name".into(), nasty.into());
            doc.insert("text".into(), "nul \u{0} inside".into());
            doc.insert("z".into(), 1.into());
            doc.insert("a".into(), 2.into());
            let o = c.obj_insert("alert", team, doc.clone())?;
            let back = c.obj_get("alert", team, o.id)?.unwrap();
            assert_eq!(back.doc, doc);
            assert_eq!(
                back.doc.keys().collect::<Vec<_>>(),
                vec!["name", "text", "z", "a"],
                "documents keep their key order"
            );
            assert!(c.obj_name_taken("alert", team, nasty, None)?);
            assert!(!c.obj_name_taken("alert", team, "o'", None)?);
            assert_eq!(c.teams()?.len(), 1);
            Ok(())
        })
        .await;
    checked.unwrap();
    // PostgreSQL text cannot hold NUL: refused as invalid, not a storage failure.
    let nul: Result<i64, RepoError> = repo
        .tx(|c| c.team_insert("a\u{0}b", &serde_json::Map::new()))
        .await;
    assert!(matches!(nul, Err(RepoError::Invalid(_))), "{nul:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn units_of_work_on_two_nodes_do_not_interleave() {
    // Two nodes (two pools) each check that a name is free, then take it: the units run one
    // after the other, so exactly one of the 2 x 10 attempts per name wins.
    let url = pg::fresh_database();
    let mut nodes: Vec<std::sync::Arc<dyn SysdigRepo>> = Vec::new();
    for _ in 0..2 {
        nodes.push(std::sync::Arc::new(PgSysdigRepo::new(pg::open(&url).await)));
    }
    let team: i64 = nodes[0]
        .tx(|c| c.team_insert("Ops", &serde_json::Map::new()))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let node = nodes[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            node.tx(move |c| -> Result<bool, RepoError> {
                let name = format!("alert {}", i % 5);
                if c.obj_name_taken("alert", team, &name, None)? {
                    return Ok(false);
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
                let mut doc = serde_json::Map::new();
                doc.insert("name".into(), name.into());
                c.obj_insert("alert", team, doc)?;
                Ok(true)
            })
            .await
            .unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 5);
    let stored = nodes[1]
        .tx(move |c| c.obj_list("alert", team))
        .await
        .unwrap();
    assert_eq!(stored.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn read_only_units_do_not_wait_for_others_and_cannot_write() {
    let repo: std::sync::Arc<dyn SysdigRepo> =
        std::sync::Arc::new(PgSysdigRepo::new(pg::fresh_db().await));
    let team: i64 = repo
        .tx(|c| c.team_insert("Ops", &serde_json::Map::new()))
        .await
        .unwrap();
    let slow = repo.clone();
    let holding = tokio::spawn(async move {
        slow.tx(|c| {
            c.meta_set("k", "1")?;
            std::thread::sleep(std::time::Duration::from_millis(800));
            Ok::<_, RepoError>(())
        })
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let found: Option<String> = repo
        .read(move |c| Ok::<_, RepoError>(c.team(team)?.map(|t| t.name)))
        .await
        .unwrap();
    assert_eq!(found.as_deref(), Some("Ops"));
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "the read waited {:?} for the unit holding the lock",
        started.elapsed()
    );
    holding.await.unwrap().unwrap();
    let wrote: Result<i64, RepoError> = repo
        .read(|c| c.team_insert("Dev", &serde_json::Map::new()))
        .await;
    assert!(wrote.is_err(), "{wrote:?}");
    let dev = repo
        .tx::<_, RepoError, _>(|c| c.team_by_name("Dev"))
        .await
        .unwrap();
    assert_eq!(dev, None);
}
