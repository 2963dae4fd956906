#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use monasca::types::{AlarmMetric, Severity};
use serde_json::json;

use super::*;
use crate::settings::EmailSettings;

pub(crate) fn event(dims: &[&[(&str, &str)]]) -> AlarmTransitionedEvent {
    AlarmTransitionedEvent {
        tenant_id: "t1".into(),
        alarm_id: "a-1".into(),
        alarm_definition_id: "d-1".into(),
        alarm_name: "cpu high".into(),
        alarm_description: "CPU above 90".into(),
        old_state: AlarmState::Ok,
        new_state: AlarmState::Alarm,
        actions_enabled: true,
        state_change_reason: "Thresholds were exceeded for the sub-alarms".into(),
        severity: Severity::High,
        link: None,
        lifecycle_state: Some("OPEN".into()),
        metrics: dims
            .iter()
            .map(|d| AlarmMetric {
                name: "cpu.idle_perc".into(),
                dimensions: d
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            })
            .collect(),
        sub_alarms: Vec::new(),
        timestamp: 1_764_860_095_789,
    }
}

fn receiver(kind: &str, address: &str) -> Receiver {
    Receiver {
        id: "m-1".into(),
        name: "ops".into(),
        kind: kind.into(),
        address: address.into(),
        options: Value::Null,
        period_s: 0,
    }
}

fn http(r: Request) -> HttpRequest {
    match r {
        Request::Http(h) => h,
        other => panic!("not HTTP: {other:?}"),
    }
}

#[test]
fn webhook_posts_upstreams_document() {
    let ev = event(&[&[("hostname", "h1")]]);
    let req = http(
        build(
            &receiver("WEBHOOK", "http://127.0.0.1:9/hook?t=1"),
            &serde_json::to_value(&ev).unwrap(),
            &NotifySettings::default(),
        )
        .unwrap(),
    );
    assert_eq!(req.url.as_str(), "http://127.0.0.1:9/hook?t=1");
    assert!(req.tenant_url);
    assert_eq!(req.accepts, Accepts::Success);
    assert_eq!(
        serde_json::to_string(&req.body).unwrap(),
        r#"{"alarm_id":"a-1","alarm_definition_id":"d-1","alarm_name":"cpu high","alarm_description":"CPU above 90","alarm_timestamp":1764860095,"state":"ALARM","old_state":"OK","message":"Thresholds were exceeded for the sub-alarms","tenant_id":"t1","metrics":[{"name":"cpu.idle_perc","dimensions":{"hostname":"h1"}}]}"#
    );
}

#[test]
fn pagerduty_triggers_and_resolves_by_alarm_id() {
    let mut ev = event(&[]);
    let s = NotifySettings::default();
    let req = http(
        build(
            &receiver("PAGERDUTY", "0123456789abcdef0123456789abcdef"),
            &serde_json::to_value(&ev).unwrap(),
            &s,
        )
        .unwrap(),
    );
    assert_eq!(req.url.as_str(), crate::settings::PAGERDUTY_URL);
    assert!(!req.tenant_url);
    assert_eq!(req.accepts, Accepts::Statuses(&[200, 201, 204]));
    assert_eq!(
        req.body,
        json!({
            "service_key": "0123456789abcdef0123456789abcdef",
            "event_type": "trigger",
            "incident_key": "a-1",
            "description": "Thresholds were exceeded for the sub-alarms",
            "client": "Monasca",
            "client_url": "",
            "details": {"alarm_id": "a-1", "alarm_name": "cpu high", "current": "ALARM",
                        "message": "Thresholds were exceeded for the sub-alarms"}
        })
    );
    ev.new_state = AlarmState::Ok;
    assert_eq!(pagerduty_body("k", &ev)["event_type"], "resolve");
}

#[test]
fn slack_sends_the_document_as_indented_text() {
    let ev = event(&[&[("hostname", "h1")]]);
    let req = http(
        build(
            &receiver("SLACK", "https://hooks.slack.test/services/x?channel=#ops"),
            &serde_json::to_value(&ev).unwrap(),
            &NotifySettings::default(),
        )
        .unwrap(),
    );
    assert_eq!(
        req.url.as_str(),
        "https://hooks.slack.test/services/x?channel=%23ops"
    );
    assert_eq!(req.accepts, Accepts::Slack);
    let text = req.body["text"].as_str().unwrap();
    assert!(text.starts_with("{\n   \"alarm_id\": \"a-1\",\n   \"alarm_definition_id\""));
    assert!(text.contains(
        "\"metrics\": [\n      {\n         \"name\": \"cpu.idle_perc\",\n         \"dimensions\": {\n            \"hostname\": \"h1\"\n         }\n      }\n   ]\n}"
    ));
}

#[test]
fn email_of_one_host_and_target() {
    let ev = event(&[
        &[
            ("hostname", "h1"),
            ("target_host", "t9"),
            ("service", "web"),
        ],
        &[("hostname", "h1")],
    ]);
    let m = email_message("ops@example.com", &ev, Some("http://grafana:3000"));
    assert_eq!(m.to, ["ops@example.com"]);
    assert_eq!(m.subject, "ALARM HIGH \"cpu high\" for Host: h1 Target: t9");
    assert_eq!(
        m.body,
        "On host \"h1\" for target \"t9\" thresholds were exceeded for the sub-alarms\n\n\
         Alarm \"cpu high\" transitioned to the ALARM state at Thu Dec  4 14:54:55 2025 UTC\n\
         alarm_id: a-1\n\n\
         Lifecycle state: OPEN\n\
         Link: None\n\
         Link to Grafana: http://grafana:3000/dashboard/script/drilldown.js?metric=cpu.idle_perc\
         &hostname=h1&service=web&target_host=t9&from=1764859495000&to=1764860695000\n\n\
         With dimensions:\n[\n  {\n    hostname: h1,\n    service: web,\n    target_host: t9\n  },\n  \
         {\n    hostname: h1\n  } \n]"
    );
}

#[test]
fn email_of_one_host_and_of_many() {
    let one = email_message("a@b.c", &event(&[&[("hostname", "h1")]]), None);
    assert_eq!(one.subject, "ALARM HIGH \"cpu high\" for Host: h1");
    assert!(one.body.starts_with("On host \"h1\" thresholds were"));
    assert!(one.body.contains("\nalarm_id: a-1\n"));
    assert!(
        one.body
            .contains("Link to Grafana: None\n\nWith dimensions:\n")
    );

    let many = email_message(
        "a@b.c",
        &event(&[&[("hostname", "h1")], &[("hostname", "h2")]]),
        None,
    );
    assert_eq!(many.subject, "ALARM HIGH \"cpu high\" ");
    assert!(many.body.starts_with("On multiple hosts thresholds were"));
    assert!(many.body.contains("\nAlarm_id: a-1\n"));
    assert!(many.body.ends_with(
        "With dimensions\n[\n  {\n    hostname: h1\n  },\n  {\n    hostname: h2\n  } \n]"
    ));
}

#[test]
fn email_and_jira_need_their_configuration() {
    let ev = serde_json::to_value(event(&[])).unwrap();
    let s = NotifySettings::default();
    let e = build(&receiver("EMAIL", "a@b.c"), &ev, &s).unwrap_err();
    assert!(e.0.contains("no SMTP server"), "{e:?}");
    assert!(build(&receiver("JIRA", "https://j/?project=P"), &ev, &s).is_err());
    assert!(
        build(&receiver("HIPCHAT", "x"), &ev, &s)
            .unwrap_err()
            .0
            .contains("HIPCHAT")
    );
    let with_mail = NotifySettings {
        email: Some(EmailSettings {
            server: "smtp".into(),
            port: 0,
            security: Default::default(),
            user: None,
            password: None,
            from_addr: "m@x".into(),
            timeout_ms: 5000,
            grafana_url: None,
        }),
        ..Default::default()
    };
    assert!(matches!(
        build(&receiver("EMAIL", "a@b.c"), &ev, &with_mail),
        Ok(Request::Email(_))
    ));
    assert!(
        build(&receiver("WEBHOOK", "a"), &json!({"x": 1}), &s)
            .unwrap_err()
            .0
            .starts_with("the queued event is not an alarm transition")
    );
}

#[test]
fn jira_takes_project_and_component_from_the_address() {
    let ev = event(&[&[("hostname", "h1")]]);
    let j = jira_request(
        "https://jira.example.com/base/?project=OPS&component=db",
        &ev,
    )
    .unwrap();
    assert_eq!(j.base.as_str(), "https://jira.example.com/base/");
    assert_eq!(
        (j.project.as_str(), j.component.as_deref()),
        ("OPS", Some("db"))
    );
    assert_eq!(
        j.summary,
        "Monasca alarm for alarm_defintion cpu high status changed to ALARM for the alarm_id a-1"
    );
    assert!(j.comment.starts_with("{code}{\n   \"alarm_id\": \"a-1\""));
    assert!(j.comment.ends_with("}{code}"));
    assert!(jira_request("https://jira.example.com/", &ev).is_err());
}

#[test]
fn asctime_pads_the_day_with_a_space() {
    assert_eq!(asctime_utc(0), "Thu Jan  1 00:00:00 1970");
    assert_eq!(asctime_utc(1_764_860_095), "Thu Dec  4 14:54:55 2025");
}
