//! Slack, PagerDuty and Jira requests as their receivers get them.

use std::time::Duration;

use config_repo::outbox::AttemptStatus;
use monasca::types::AlarmState;
use notification_engine::{JiraSettings, NotifySettings};

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_gets_the_indented_document_and_a_refusal_is_retried() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-slack", "SLACK", &format!("{}/slack", rx.base), 0);
    db.add_method("m-bad", "SLACK", &format!("{}/slack-refuses", rx.base), 0);
    db.queue(&["m-slack", "m-bad"], &transition("a-1", AlarmState::Alarm));
    let notifier = start(
        vec![db.outbox.clone()],
        NotifySettings {
            max_attempts: 2,
            ..quick()
        },
    );
    notifier.wake();
    let got = rx.all_within(Duration::from_secs(2)).await;
    let good: Vec<_> = got.iter().filter(|r| r.path == "/slack").collect();
    assert_eq!(good.len(), 1);
    let text = good[0].body["text"].as_str().unwrap();
    assert!(text.starts_with("{\n   \"alarm_id\": \"a-1\",\n"), "{text}");
    assert_eq!(got.iter().filter(|r| r.path == "/slack-refuses").count(), 2);
    assert!(
        eventually(Duration::from_secs(2), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let bad = db.attempts("m-bad").await;
    assert_eq!(bad[0].status, AttemptStatus::Failed);
    assert_eq!(bad[0].answer, "HTTP 200 OK: invalid_token");
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_triggers_then_resolves_the_alarms_incident() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method("m-pd", "PAGERDUTY", "0123456789abcdef0123456789abcdef", 0);
    let settings = NotifySettings {
        pagerduty_url: format!("{}/pagerduty", rx.base),
        // The operator's endpoint is not subject to the tenants' URL policy.
        webhook_deny_networks: vec!["127.0.0.0/8".into()],
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    db.queue(&["m-pd"], &transition("a-1", AlarmState::Alarm));
    notifier.wake();
    let trigger = rx.next(Duration::from_secs(5)).await.expect("trigger");
    db.queue(&["m-pd"], &transition("a-1", AlarmState::Ok));
    notifier.wake();
    let resolve = rx.next(Duration::from_secs(5)).await.expect("resolve");
    assert_eq!(trigger.body["event_type"], "trigger");
    assert_eq!(
        trigger.body["service_key"],
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(trigger.body["client"], "Monasca");
    assert_eq!(trigger.body["details"]["current"], "ALARM");
    assert_eq!(resolve.body["event_type"], "resolve");
    assert_eq!(resolve.body["incident_key"], trigger.body["incident_key"]);
    assert!(
        eventually(Duration::from_secs(2), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    let log = db.attempts("m-pd").await;
    assert!(log.iter().all(|a| a.status == AttemptStatus::Delivered));
    assert!(
        !log[0].answer.contains("0123456789abcdef"),
        "{}",
        log[0].answer
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_searches_creates_and_comments_with_basic_auth() {
    let mut rx = http_receiver().await;
    let db = monasca_db();
    db.add_method(
        "m-jira",
        "JIRA",
        &format!("{}/jira/?project=OPS&component=db", rx.base),
        0,
    );
    db.queue(&["m-jira"], &transition("a-1", AlarmState::Alarm));
    let settings = NotifySettings {
        jira: Some(JiraSettings {
            user: "bot".into(),
            password: "pw".to_string().into(),
        }),
        ..quick()
    };
    let notifier = start(vec![db.outbox.clone()], settings);
    assert!(
        notifier
            .monasca_types()
            .iter()
            .any(|t| t.as_str() == "JIRA")
    );
    notifier.wake();
    let got = rx.all_within(Duration::from_secs(2)).await;
    let paths: Vec<_> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/jira/rest/api/2/search",
            "/jira/rest/api/2/issue",
            "/jira/rest/api/2/issue/OPS-7/comment"
        ]
    );
    // bot:pw
    assert!(
        got.iter()
            .all(|r| r.header("authorization") == "Basic Ym90OnB3")
    );
    assert!(
        got[0]
            .query
            .contains("jql=project%3DOPS+and+reporter%3D%27bot%27+and+summary+%7E+%27a-1%27"),
        "{}",
        got[0].query
    );
    assert_eq!(got[1].body["fields"]["project"]["key"], "OPS");
    assert_eq!(got[1].body["fields"]["components"][0]["name"], "db");
    assert_eq!(got[1].body["fields"]["issuetype"]["name"], "Bug");
    assert!(
        got[2].body["body"]
            .as_str()
            .unwrap()
            .starts_with("{code}{\n   \"alarm_id\": \"a-1\"")
    );
    assert!(
        eventually(Duration::from_secs(2), || async {
            db.outbox.pending().await.unwrap() == 0
        })
        .await
    );
    assert_eq!(
        db.attempts("m-jira").await[0].answer,
        "created issue OPS-7, commented"
    );
    notifier.shutdown().await;
}
