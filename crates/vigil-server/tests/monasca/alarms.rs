//! Alarm definitions, the threshold engine, alarms and history, end to end on a hand-moved
//! clock.

use std::{sync::Arc, time::Duration};

use crate::kit::{ManualClock, Running, TestServer, inline_engine};
use monasca::{
    Client,
    alarms::{
        CountAlarms, CreateAlarmDefinition, DeleteAlarm, DeleteAlarmDefinition, GetAlarmDefinition,
        ListAlarmDefinitions, ListAlarms, ListStateHistory, Params, UpdateAlarm,
        UpdateAlarmDefinition,
    },
    metrics::CreateMetrics,
    notification_methods::CreateNotificationMethod,
    types::{Alarm, AlarmDefinitionRequest, AlarmUpdate, NotificationMethodRequest},
};
use serde_json::json;

use crate::common::{T0, metric};

struct Env {
    server: Running,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start_in(dir: tempfile::TempDir, clock: Arc<ManualClock>) -> Self {
        let TestServer { running, dir } = TestServer::start_with_clock(dir, clock.clone(), |s| {
            s.engine = inline_engine(Duration::from_millis(20));
        })
        .await;
        Self {
            server: running,
            clock,
            dir,
        }
    }

    async fn start() -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), Arc::new(ManualClock::new(T0))).await
    }

    fn client(&self) -> Client {
        TestServer::monasca_at(&self.server.url(), "acme")
    }

    async fn restart(self) -> Self {
        let clock = self.clock.clone();
        self.server.stop().await.unwrap();
        Self::start_in(self.dir, clock).await
    }

    /// Sets the clock to `T0 + secs` and gives the ticker time to run.
    fn at(&self, secs: i64) {
        self.clock.set(T0 + secs * 1000);
    }
}

async fn define(c: &Client, name: &str, expr: &str, match_by: &[&str]) -> String {
    let req = AlarmDefinitionRequest {
        name: name.into(),
        expression: expr.into(),
        match_by: (!match_by.is_empty()).then(|| match_by.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    c.send(&CreateAlarmDefinition(req)).await.unwrap().id
}

async fn post(c: &Client, name: &str, dims: &[(&str, &str)], secs: i64, v: f64) {
    c.send(&CreateMetrics::batch(&[metric(name, dims, T0 + secs * 1000, v)]).unwrap())
        .await
        .unwrap();
}

async fn alarms_of(c: &Client, def: &str) -> Vec<Alarm> {
    c.page(&ListAlarms(Params::new().set("alarm_definition_id", def)))
        .await
        .unwrap()
        .elements
}

/// Polls until the definition's alarms are in the given states (sorted), or fails after 5 s.
async fn wait_states(c: &Client, def: &str, want: &[&str]) -> Vec<Alarm> {
    let mut last = Vec::new();
    for _ in 0..250 {
        last = alarms_of(c, def).await;
        let mut states: Vec<&str> = last.iter().map(|a| a.state.as_str()).collect();
        states.sort_unstable();
        if states == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "wanted states {want:?}, have {:?}",
        last.iter().map(|a| &a.state).collect::<Vec<_>>()
    );
}

/// A list of many alarms carries each alarm's own metrics, all of them.
#[tokio::test]
async fn every_listed_alarm_has_its_own_metrics() {
    let env = Env::start().await;
    let c = env.client();
    let expr = "avg(cpu.idle_perc) > 90 or avg(mem.free_mb) < 5";
    let def = define(&c, "host trouble", expr, &["hostname"]).await;
    let hosts = ["web1", "web2", "web3", "web4"];
    for h in hosts {
        post(&c, "cpu.idle_perc", &[("hostname", h)], 5, 50.0).await;
        post(&c, "mem.free_mb", &[("hostname", h)], 5, 50.0).await;
    }
    let mut last = Vec::new();
    for _ in 0..250 {
        last = alarms_of(&c, &def).await;
        if last.len() == hosts.len() && last.iter().all(|a| a.metrics.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut seen: Vec<&str> = Vec::new();
    for a in &last {
        let names: Vec<&str> = a.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["cpu.idle_perc", "mem.free_mb"], "{a:?}");
        let h = a.metrics[0].dimensions["hostname"].as_str();
        assert_eq!(a.metrics[1].dimensions["hostname"], h);
        seen.push(h);
    }
    seen.sort_unstable();
    assert_eq!(seen, hosts);
}

#[tokio::test]
async fn average_goes_undetermined_alarm_ok_with_history_and_survives_restart() {
    let env = Env::start().await;
    let c = env.client();
    let def = define(&c, "cpu high", "avg(cpu.idle_perc) > 90", &["hostname"]).await;

    // The first matching metric creates the alarm at once, UNDETERMINED.
    post(&c, "cpu.idle_perc", &[("hostname", "web1")], 5, 95.0).await;
    let a = wait_states(&c, &def, &["UNDETERMINED"]).await;
    assert_eq!(a[0].metrics[0].dimensions["hostname"], "web1");
    assert_eq!(a[0].alarm_definition.name, "cpu high");

    // The period [0, 60) closes at 60 s; after 30 s for late data the average decides.
    env.at(80);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        alarms_of(&c, &def).await[0].state,
        "UNDETERMINED",
        "decided too early"
    );
    env.at(95);
    let a = wait_states(&c, &def, &["ALARM"]).await;
    let id = a[0].id.clone();

    post(&c, "cpu.idle_perc", &[("hostname", "web1")], 100, 10.0).await;
    env.at(155);
    wait_states(&c, &def, &["OK"]).await;

    let h = c
        .page(&ListStateHistory {
            alarm_id: Some(id.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .elements;
    let moves: Vec<(&str, &str)> = h
        .iter()
        .map(|e| (e.old_state.as_str(), e.new_state.as_str()))
        .collect();
    assert_eq!(moves, [("UNDETERMINED", "ALARM"), ("ALARM", "OK")]);
    assert_eq!(
        h[0].reason,
        "Thresholds were exceeded for the sub-alarms: avg(cpu.idle_perc) > 90.0 with the values: [95.0]"
    );
    assert_eq!(
        h[1].reason,
        "The alarm threshold(s) have not been exceeded for the sub-alarms: avg(cpu.idle_perc) > 90.0 with the values: [10.0]"
    );
    assert_eq!(h[1].sub_alarms[0].sub_alarm_expression.function, "AVG");
    assert_eq!(h[1].sub_alarms[0].current_values, vec![10.0]);
    assert_eq!(h[0].metrics[0].name, "cpu.idle_perc");

    // A restart keeps the alarm and its state, and evaluating again does not flap it.
    let env = env.restart().await;
    let c = env.client();
    env.at(170);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = alarms_of(&c, &def).await;
    assert_eq!(
        (a.len(), a[0].state.as_str(), a[0].id.as_str()),
        (1, "OK", id.as_str())
    );
    let h = c.page(&ListStateHistory::default()).await.unwrap().elements;
    assert_eq!(h.len(), 2, "a restart must not write transitions");
    env.server.stop().await.unwrap();
}

#[tokio::test]
async fn immediate_functions_match_by_compound_deterministic_and_times() {
    let env = Env::start().await;
    let c = env.client();

    // max > threshold decides with the value, no need to wait for the period's end.
    let d_max = define(&c, "disk full", "max(disk.used_perc) > 90", &["hostname"]).await;
    post(&c, "disk.used_perc", &[("hostname", "a")], 1, 95.0).await;
    post(&c, "disk.used_perc", &[("hostname", "b")], 1, 50.0).await;
    // 50 is not above 90, but a later value in the period could be: b waits for the period.
    let a = wait_states(&c, &d_max, &["ALARM", "UNDETERMINED"]).await;
    assert_eq!(a.len(), 2, "one alarm per match_by group");

    // last: follows the newest value.
    let d_last = define(&c, "down", "last(host.up) < 1", &[]).await;
    post(&c, "host.up", &[("hostname", "a")], 2, 0.0).await;
    wait_states(&c, &d_last, &["ALARM"]).await;
    post(&c, "host.up", &[("hostname", "a")], 3, 1.0).await;
    wait_states(&c, &d_last, &["OK"]).await;

    // Compound: the alarm appears only once both sides have a metric.
    let d_and = define(&c, "both", "max(x.a) > 5 and max(x.b) > 5", &[]).await;
    post(&c, "x.a", &[], 4, 9.0).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        alarms_of(&c, &d_and).await.is_empty(),
        "created before every side had data"
    );
    post(&c, "x.b", &[], 4, 1.0).await;
    // x.b's max is not above 5 yet but could rise until the period ends.
    wait_states(&c, &d_and, &["UNDETERMINED"]).await;
    post(&c, "x.b", &[], 5, 7.0).await;
    wait_states(&c, &d_and, &["ALARM"]).await;

    // Deterministic: no data means OK, never UNDETERMINED.
    let d_det = define(&c, "errors", "count(log.error, deterministic) > 0", &[]).await;
    post(&c, "log.error", &[], 6, 1.0).await;
    wait_states(&c, &d_det, &["ALARM"]).await;
    env.at(200);
    wait_states(&c, &d_det, &["OK"]).await;
    wait_states(&c, &d_max, &["ALARM", "OK"]).await;

    // times 2: two consecutive periods above the threshold.
    let d_times = define(&c, "sustained", "avg(load) > 4 times 2", &[]).await;
    env.at(240);
    post(&c, "load", &[], 241, 5.0).await;
    env.at(331);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        alarms_of(&c, &d_times).await[0].state,
        "UNDETERMINED",
        "one period is not two"
    );
    post(&c, "load", &[], 301, 6.0).await;
    env.at(391);
    wait_states(&c, &d_times, &["ALARM"]).await;
    env.server.stop().await.unwrap();
}

#[tokio::test]
async fn definitions_and_alarms_api() {
    let env = Env::start().await;
    let c = env.client();
    let nm = c
        .send(&CreateNotificationMethod(NotificationMethodRequest {
            name: "ops".into(),
            kind: "WEBHOOK".into(),
            address: "http://127.0.0.1:9/hook".into(),
            period: None,
        }))
        .await
        .unwrap();
    let req = AlarmDefinitionRequest {
        name: "cpu".into(),
        expression: "avg(cpu{hostname=web1}) > 90 times 2".into(),
        severity: Some("high".into()),
        match_by: Some(vec!["hostname".into()]),
        alarm_actions: Some(vec![nm.id.clone()]),
        description: Some("too busy".into()),
        ..Default::default()
    };
    let d = c.send(&CreateAlarmDefinition(req.clone())).await.unwrap();
    assert_eq!((d.severity.as_str(), d.deterministic), ("HIGH", false));
    assert_eq!(d.alarm_actions, vec![nm.id.clone()]);
    let dup = c
        .send(&CreateAlarmDefinition(req.clone()))
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409));
    let mut bad = req.clone();
    bad.name = "other".into();
    bad.alarm_actions = Some(vec!["no-such-id".into()]);
    assert_eq!(
        c.send(&CreateAlarmDefinition(bad))
            .await
            .unwrap_err()
            .status(),
        Some(422)
    );
    let mut bad = req.clone();
    bad.name = "other".into();
    bad.expression = "avg(cpu, 61) > 1".into();
    let e = c.send(&CreateAlarmDefinition(bad)).await.unwrap_err();
    assert!(
        e.to_string().contains("Period 61 must be a multiple of 60"),
        "{e}"
    );

    let list = c
        .page(&ListAlarmDefinitions(
            Params::new()
                .set("severity", "HIGH|LOW")
                .set("dimensions", "hostname:web1"),
        ))
        .await
        .unwrap();
    assert_eq!(list.elements.len(), 1);

    // With no alarms yet anything may change; PATCH keeps what is not given.
    let p = c
        .send(&UpdateAlarmDefinition {
            id: d.id.clone(),
            body: json!({"severity": "LOW", "ok_actions": [nm.id]}),
            partial: true,
        })
        .await
        .unwrap();
    assert_eq!(
        (
            p.severity.as_str(),
            p.alarm_actions.len(),
            p.ok_actions.len()
        ),
        ("LOW", 1, 1)
    );

    // Once it has alarms, the metrics and match_by are fixed.
    post(&c, "cpu", &[("hostname", "web1")], 1, 95.0).await;
    wait_states(&c, &d.id, &["UNDETERMINED"]).await;
    let e = c
        .send(&UpdateAlarmDefinition {
            id: d.id.clone(),
            body: json!({"expression": "avg(mem{hostname=web1}) > 90"}),
            partial: true,
        })
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("metrics in subexpression must not change"),
        "{e}"
    );
    let e = c
        .send(&UpdateAlarmDefinition {
            id: d.id.clone(),
            body: json!({"match_by": ["service"]}),
            partial: true,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("match_by must not change"), "{e}");
    let ok = c
        .send(&UpdateAlarmDefinition {
            id: d.id.clone(),
            body: json!({"expression": "max(cpu{hostname=web1}) > 50"}),
            partial: true,
        })
        .await
        .unwrap();
    assert_eq!(ok.expression, "max(cpu{hostname=web1}) > 50");
    // The engine picked the new expression up: max > 50 decides with the next value.
    post(&c, "cpu", &[("hostname", "web1")], 2, 60.0).await;
    let a = wait_states(&c, &d.id, &["ALARM"]).await;
    let alarm_id = a[0].id.clone();

    // Alarm updates by the API are recorded in history.
    let u = c
        .send(&UpdateAlarm {
            id: alarm_id.clone(),
            body: AlarmUpdate {
                state: Some("OK".into()),
                lifecycle_state: Some("OPEN".into()),
                link: Some("http://ticket/1".into()),
            },
            partial: false,
        })
        .await
        .unwrap();
    assert_eq!(
        (u.state.as_str(), u.lifecycle_state.as_deref()),
        ("OK", Some("OPEN"))
    );
    let e = c
        .send(&UpdateAlarm {
            id: alarm_id.clone(),
            body: AlarmUpdate {
                state: Some("OK".into()),
                ..Default::default()
            },
            partial: false,
        })
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Field 'lifecycle_state' is required"),
        "{e}"
    );
    let u = c
        .send(&UpdateAlarm {
            id: alarm_id.clone(),
            body: AlarmUpdate {
                link: Some("http://ticket/2".into()),
                ..Default::default()
            },
            partial: true,
        })
        .await
        .unwrap();
    assert_eq!(u.link.as_deref(), Some("http://ticket/2"));
    // As in monasca-thresh, the data still breaches, so the next evaluation takes it back.
    wait_states(&c, &d.id, &["ALARM"]).await;
    let h = c
        .page(&ListStateHistory {
            alarm_id: Some(alarm_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .elements;
    let moves: Vec<(&str, &str, &str)> = h
        .iter()
        .map(|e| {
            (
                e.old_state.as_str(),
                e.new_state.as_str(),
                e.reason.split(':').next().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (
                "UNDETERMINED",
                "ALARM",
                "Thresholds were exceeded for the sub-alarms"
            ),
            ("ALARM", "OK", "Alarm state updated via API"),
            ("OK", "ALARM", "Thresholds were exceeded for the sub-alarms"),
        ]
    );

    let counts = c
        .send(&CountAlarms(
            Params::new().set("group_by", "state,severity"),
        ))
        .await
        .unwrap();
    assert_eq!(counts.columns, ["count", "state", "severity"]);
    assert_eq!(
        counts.counts,
        vec![vec![json!(1), json!("ALARM"), json!("LOW")]]
    );
    let none = c
        .send(&CountAlarms(Params::new().set("state", "OK")))
        .await
        .unwrap();
    assert_eq!(none.counts, vec![vec![json!(0)]]);
    let by_dim = c
        .page(&ListAlarms(
            Params::new()
                .set("metric_dimensions", "hostname:web1|web2")
                .set("sort_by", "state desc"),
        ))
        .await
        .unwrap();
    assert_eq!(by_dim.elements.len(), 1);

    // Another tenant sees and touches nothing.
    let other = TestServer::monasca_at(&env.server.url(), "globex");
    assert!(
        other
            .page(&ListAlarms::default())
            .await
            .unwrap()
            .elements
            .is_empty()
    );
    assert_eq!(
        other
            .send(&DeleteAlarm {
                id: alarm_id.clone()
            })
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    assert_eq!(
        other
            .send(&GetAlarmDefinition { id: d.id.clone() })
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    c.send(&DeleteAlarm { id: alarm_id }).await.unwrap();
    assert!(alarms_of(&c, &d.id).await.is_empty());
    c.send(&DeleteAlarmDefinition { id: d.id.clone() })
        .await
        .unwrap();
    assert_eq!(
        c.send(&GetAlarmDefinition { id: d.id })
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    env.server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_alarm_input_gets_upstream_errors() {
    let env = Env::start().await;
    let url = format!("{}/v2.0", env.server.url());
    let post = |path: &str, body: serde_json::Value| {
        let url = format!("{url}/{path}");
        async move {
            crate::common::raw(
                reqwest::Method::POST,
                &url,
                Some("acme"),
                Some("application/json"),
                body.to_string(),
            )
            .await
        }
    };
    let cases = [
        (
            json!({"name": "a", "expression": "median(cpu) > 1"}),
            422,
            "parser failed on expression 'median(cpu) > 1' at column 7",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu, 0) > 1"}),
            422,
            "Period must not be 0",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu) > 1 times 0"}),
            422,
            "Periods 0 must be 1 or greater",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu) >"}),
            422,
            "at column",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu, 600) > 1 times 100000"}),
            422,
            "longer than 1209600 seconds",
        ),
        (
            json!({"expression": "avg(cpu) > 1"}),
            422,
            "required key not provided @ data['name']",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu) > 1", "severity": "URGENT"}),
            422,
            "data['severity']",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu) > 1", "alarm_actions": ["x", "x"]}),
            422,
            "Duplicate ALARM notification method x",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu) > 1", "ok_actions": ["missing"]}),
            422,
            "Non-existent notification id missing",
        ),
        (
            json!({"name": "a", "expression": "avg(cpu) > 1", "match_by": ["_x"]}),
            422,
            "invalid characters in dimension key _x",
        ),
        (json!("not an object"), 422, "expected a dictionary"),
    ];
    for (body, status, needle) in cases {
        let (s, b) = post("alarm-definitions", body.clone()).await;
        assert_eq!(s, status, "{body}: {b}");
        let desc = b["description"].as_str().unwrap_or_default();
        assert!(desc.contains(needle), "{body}: {desc:?} lacks {needle:?}");
    }
    let (s, b) = crate::common::raw(
        reqwest::Method::GET,
        &format!("{url}/alarms?state=BROKEN"),
        Some("acme"),
        None,
        "",
    )
    .await;
    assert_eq!((s, b["title"].as_str()), (422, Some("Invalid State")));
    let (s, _) = crate::common::raw(
        reqwest::Method::GET,
        &format!("{url}/alarms?sort_by=colour"),
        Some("acme"),
        None,
        "",
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = crate::common::raw(
        reqwest::Method::GET,
        &format!("{url}/alarms/count?group_by=colour"),
        Some("acme"),
        None,
        "",
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = crate::common::raw(
        reqwest::Method::PUT,
        &format!("{url}/alarms/nope"),
        Some("acme"),
        Some("application/json"),
        r#"{"state":"OK","lifecycle_state":"x","link":"y"}"#,
    )
    .await;
    assert_eq!(s, 404);
    let (s, b) = crate::common::raw(
        reqwest::Method::PATCH,
        &format!("{url}/alarms/nope"),
        Some("acme"),
        Some("application/json"),
        r#"{"state":"SLEEPY"}"#,
    )
    .await;
    assert_eq!(
        (s, b["description"].as_str()),
        (
            422,
            Some("not a valid value for dictionary value @ data['state']")
        )
    );
    let (s, _) = crate::common::raw(
        reqwest::Method::GET,
        &format!("{url}/alarm-definitions/nope"),
        Some("acme"),
        None,
        "",
    )
    .await;
    assert_eq!(s, 404);
    env.server.stop().await.unwrap();
}
