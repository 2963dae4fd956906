//! The Sysdig conformance suite against SQLite, and what only the SQLite backend promises.
#![allow(clippy::unwrap_used)]

use config_repo::{
    sqlite::sysdig::{SYSDIG_DB_FILE, SqliteSysdigRepo},
    sysdig::SysdigRepo,
};

#[tokio::test]
async fn sqlite_passes_the_sysdig_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let repo = SqliteSysdigRepo::open(&dir.path().join(SYSDIG_DB_FILE)).unwrap();
    config_repo::conformance::sysdig(&repo).await;
}

#[tokio::test]
async fn the_file_is_private_and_keeps_what_was_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SYSDIG_DB_FILE);
    let repo: Box<dyn SysdigRepo> = Box::new(SqliteSysdigRepo::open(&path).unwrap());
    let id: i64 = repo
        .tx(|c| c.team_insert("Ops", &serde_json::Map::new()))
        .await
        .unwrap();
    drop(repo);
    let repo: Box<dyn SysdigRepo> = Box::new(SqliteSysdigRepo::open(&path).unwrap());
    let found: Option<i64> = repo
        .tx(|c| Ok::<_, config_repo::RepoError>(c.team_by_name("ops")?.map(|t| t.id)))
        .await
        .unwrap();
    assert_eq!(found, Some(id));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_notification_copies_its_alert_and_goes_with_it() {
    use config_repo::sysdig::{kinds, notifications};
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let repo: Box<dyn SysdigRepo> =
        Box::new(SqliteSysdigRepo::open(&dir.path().join(SYSDIG_DB_FILE)).unwrap());
    let checked: Result<(), config_repo::RepoError> = repo
        .tx(|c| {
            let team = c.team_insert("Ops", &serde_json::Map::new())?;
            let serde_json::Value::Object(doc) =
                json!({"name": "cpu", "condition": "avg(cpu) > 1", "severity": 2, "type": "MANUAL"})
            else {
                unreachable!()
            };
            let alert = c.obj_insert(kinds::ALERT, team, doc)?;
            let n = notifications::record(c, team, &alert, "ACTIVE", 7, json!([]))?;
            assert_eq!(n.kind, kinds::NOTIFICATION);
            assert_eq!(
                serde_json::Value::Object(n.doc),
                json!({"alert": alert.id, "name": "cpu", "state": "ACTIVE", "resolved": false,
                       "timestamp": 7, "severity": 2, "condition": "avg(cpu) > 1", "filter": null,
                       "timespan": null, "type": "MANUAL", "criteria": "avg(cpu) > 1",
                       "groupAggregations": [], "entities": []})
            );
            notifications::delete_of_alert(c, team, alert.id)?;
            assert!(c.obj_list(kinds::NOTIFICATION, team)?.is_empty());
            Ok(())
        })
        .await;
    checked.unwrap();
}

#[tokio::test]
async fn a_notification_is_queued_to_the_alert_channels_that_want_it() {
    use config_repo::{
        outbox::{Outbox, Source},
        sysdig::{kinds, notifications},
    };
    use serde_json::{Value, json};
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteSysdigRepo::open(&dir.path().join(SYSDIG_DB_FILE)).unwrap();
    let outbox = sqlite.outbox();
    let repo: Box<dyn SysdigRepo> = Box::new(sqlite);
    let obj = |v: Value| match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let (hook, quiet, off) = repo
        .tx(move |c| -> Result<_, config_repo::RepoError> {
            let team = c.team_insert("Ops", &serde_json::Map::new())?;
            let hook = c.obj_insert(kinds::CHANNEL, team, obj(json!({"type": "WEBHOOK", "name": "hook", "enabled": true, "options": {"url": "http://127.0.0.1:9/x"}})))?;
            let quiet = c.obj_insert(kinds::CHANNEL, team, obj(json!({"type": "SLACK", "name": "quiet", "enabled": true, "options": {"url": "http://127.0.0.1:9/s", "notifyOnOk": false}})))?;
            let off = c.obj_insert(kinds::CHANNEL, team, obj(json!({"type": "WEBHOOK", "name": "off", "enabled": false, "options": {}})))?;
            let alert = c.obj_insert(kinds::ALERT, team, obj(json!({"name": "cpu", "notificationChannelIds": [hook.id, quiet.id, off.id, 999]})))?;
            notifications::record(c, team, &alert, "ACTIVE", 7, json!([]))?;
            notifications::record(c, team, &alert, "OK", 8, json!([]))?;
            Ok((hook.id, quiet.id, off.id))
        })
        .await
        .unwrap();
    let queued = outbox.claim(i64::MAX / 2, 1000, 100).await.unwrap();
    let got: Vec<(String, String)> = queued
        .iter()
        .map(|d| {
            assert_eq!(d.new.source, Source::Sysdig);
            let state = d.new.event["notification"]["state"]
                .as_str()
                .unwrap()
                .to_string();
            assert_eq!(d.new.event["alert"]["name"], "cpu");
            (d.new.receiver.id.clone(), state)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (hook.to_string(), "ACTIVE".to_string()),
            (quiet.to_string(), "ACTIVE".to_string()),
            (hook.to_string(), "OK".to_string()),
        ],
        "the disabled channel ({off}) gets nothing; the quiet one no OK"
    );
    // Claimed deliveries are leased: a second claim before the lease ends finds none.
    assert!(
        outbox
            .claim(i64::MAX / 2, 1000, 100)
            .await
            .unwrap()
            .is_empty()
    );
}
