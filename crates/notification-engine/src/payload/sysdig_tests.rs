#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn event(state: &str) -> Value {
    json!({
        "notification": {
            "id": 77, "alert": 12, "state": state, "resolved": false,
            "timestamp": 1_764_860_095_000_000_i64,
            "entities": [{"entity": "host.hostName = 'h1'",
                          "metricValues": [{"metric": "cpu.used.percent", "aggregation": "avg",
                                            "groupAggregation": "avg", "value": 93.5}],
                          "additionalInfo": []}]
        },
        "alert": {
            "id": 12, "name": "cpu high", "description": "CPU above 80", "severity": 2,
            "timespan": 60_000_000, "condition": "avg(cpu.used.percent) > 80",
            "filter": "host.hostName = 'h1'"
        }
    })
}

fn receiver(kind: &str, options: Value) -> Receiver {
    Receiver {
        id: "5".into(),
        name: "ch".into(),
        kind: kind.into(),
        address: String::new(),
        options,
        period_s: 0,
    }
}

fn settings() -> NotifySettings {
    NotifySettings {
        public_url: Some("http://vigil.test:8080/".into()),
        ..Default::default()
    }
}

fn http(r: Request) -> HttpRequest {
    match r {
        Request::Http(h) => h,
        other => panic!("not HTTP: {other:?}"),
    }
}

#[test]
fn webhook_posts_sysdigs_document_with_custom_data_and_headers() {
    let r = receiver(
        "WEBHOOK",
        json!({"url": "http://127.0.0.1:1/h", "additionalHeaders": {"X-Token": "abc"},
               "customData": {"team": "db", "n": 1}}),
    );
    let req = http(build(&r, &event("ACTIVE"), &settings()).unwrap());
    assert_eq!(req.url.as_str(), "http://127.0.0.1:1/h");
    assert!(req.tenant_url);
    assert_eq!(req.headers, [("X-Token".to_string(), "abc".to_string())]);
    assert_eq!(
        req.body,
        json!({
            "timestamp": 1_764_860_095_000_000_i64,
            "timespan": 60_000_000,
            "alert": {"severity": 2, "editUrl": "http://vigil.test:8080/#/alerts/12",
                      "scope": "host.hostName = 'h1'", "name": "cpu high",
                      "description": "CPU above 80", "id": 12},
            "event": {"id": 77,
                      "url": "http://vigil.test:8080/#/events/notifications/l:604800/77/details"},
            "state": "ACTIVE",
            "resolved": false,
            "entities": [{"entity": "host.hostName = 'h1'",
                          "metricValues": [{"metric": "cpu.used.percent", "aggregation": "avg",
                                            "groupAggregation": "avg", "value": 93.5}],
                          "additionalInfo": []}],
            "condition": "avg(cpu.used.percent) > 80",
            "source": "Sysdig Cloud",
            "team": "db",
            "n": 1
        })
    );
}

#[test]
fn pagerduty_opsgenie_and_victorops_trigger_and_resolve_per_alert() {
    let s = settings();
    let pd = receiver("PAGER_DUTY", json!({"serviceKey": "k1", "account": "a"}));
    let on = http(build(&pd, &event("ACTIVE"), &s).unwrap());
    assert_eq!(on.url.as_str(), crate::settings::PAGERDUTY_URL);
    assert_eq!(on.body["event_type"], "trigger");
    assert_eq!(on.body["service_key"], "k1");
    assert_eq!(on.body["incident_key"], "sysdig-alert-12");
    assert_eq!(on.body["description"], "[MEDIUM] cpu high is triggered");
    let off = http(build(&pd, &event("OK"), &s).unwrap());
    assert_eq!(off.body["event_type"], "resolve");
    assert_eq!(off.body["incident_key"], "sysdig-alert-12");

    let og = receiver("OPSGENIE", json!({"apiKey": "gk"}));
    let create = http(build(&og, &event("ACTIVE"), &s).unwrap());
    assert_eq!(create.url.as_str(), "https://api.opsgenie.com/v2/alerts");
    assert_eq!(
        create.headers,
        [("Authorization".to_string(), "GenieKey gk".to_string())]
    );
    assert_eq!(create.body["alias"], "sysdig-alert-12");
    assert_eq!(create.body["priority"], "P2");
    let close = http(build(&og, &event("OK"), &s).unwrap());
    assert_eq!(
        close.url.as_str(),
        "https://api.opsgenie.com/v2/alerts/sysdig-alert-12/close?identifierType=alias"
    );

    let vo = receiver(
        "VICTOROPS",
        json!({"apiKey": "api", "routingKey": "team a"}),
    );
    let crit = http(build(&vo, &event("ACTIVE"), &s).unwrap());
    assert_eq!(
        crit.url.as_str(),
        "https://alert.victorops.com/integrations/generic/20131114/alert/api/team%20a"
    );
    assert_eq!(crit.body["message_type"], "CRITICAL");
    assert_eq!(crit.body["entity_id"], "sysdig-alert-12");
    assert_eq!(crit.body["state_start_time"], 1_764_860_095);
    let rec = http(build(&vo, &event("OK"), &s).unwrap());
    assert_eq!(rec.body["message_type"], "RECOVERY");
}

#[test]
fn slack_and_teams_messages() {
    let s = settings();
    let sl = http(
        build(
            &receiver(
                "SLACK",
                json!({"url": "https://hooks.slack.test/x", "channel": "#ops"}),
            ),
            &event("ACTIVE"),
            &s,
        )
        .unwrap(),
    );
    assert_eq!(sl.accepts, Accepts::Slack);
    assert_eq!(sl.body["channel"], "#ops");
    assert_eq!(sl.body["text"], "[MEDIUM] cpu high is triggered");
    assert_eq!(sl.body["attachments"][0]["color"], "danger");
    assert_eq!(
        sl.body["attachments"][0]["fields"][4]["value"],
        "cpu.used.percent (avg) = 93.5 on host.hostName = 'h1'"
    );
    let teams = http(
        build(
            &receiver("MS_TEAMS", json!({"url": "https://outlook.test/webhook/x"})),
            &event("OK"),
            &s,
        )
        .unwrap(),
    );
    assert_eq!(teams.body["@type"], "MessageCard");
    assert_eq!(teams.body["themeColor"], "5CB85C");
    assert_eq!(teams.body["title"], "[MEDIUM] cpu high is resolved");
    assert_eq!(
        teams.body["potentialAction"][0]["targets"][0]["uri"],
        "http://vigil.test:8080/#/alerts/12"
    );
}

#[test]
fn email_goes_to_every_recipient() {
    let ev = AlertEvent::parse(&event("ACTIVE"), None).unwrap();
    let m = email_message(vec!["a@x.test".into(), "b@x.test".into()], &ev);
    assert_eq!(m.to, ["a@x.test", "b@x.test"]);
    assert_eq!(m.subject, "[MEDIUM] cpu high is triggered");
    assert_eq!(
        m.body,
        "[MEDIUM] cpu high is triggered\n\nAlert: cpu high\nDescription: CPU above 80\n\
         State: ACTIVE\nSeverity: MEDIUM (2)\nCondition: avg(cpu.used.percent) > 80\n\
         Scope: host.hostName = 'h1'\nTime: 2025-12-04 14:54:55 UTC\n\nValues:\n  \
         cpu.used.percent (avg) = 93.5 on host.hostName = 'h1'\n"
    );
    let no_smtp = build(
        &receiver("EMAIL", json!({"emailRecipients": ["a@x.test"]})),
        &event("ACTIVE"),
        &NotifySettings::default(),
    );
    assert!(no_smtp.unwrap_err().0.contains("no SMTP server"));
}

#[test]
fn sns_unknown_types_and_bad_options_are_unsendable() {
    let s = settings();
    let sns = build(
        &receiver("SNS", json!({"snsTopicARNs": ["arn:x"]})),
        &event("ACTIVE"),
        &s,
    );
    assert!(sns.unwrap_err().0.starts_with("SNS is not served"));
    let other = build(&receiver("CARRIER_PIGEON", json!({})), &event("ACTIVE"), &s);
    assert!(other.unwrap_err().0.contains("CARRIER_PIGEON"));
    let no_url = build(&receiver("WEBHOOK", json!({})), &event("ACTIVE"), &s);
    assert_eq!(
        no_url.unwrap_err().0,
        "the WEBHOOK channel has no url option"
    );
    let not_event = build(
        &receiver("WEBHOOK", json!({"url": "http://x/"})),
        &json!({}),
        &s,
    );
    assert!(not_event.is_err());
}
