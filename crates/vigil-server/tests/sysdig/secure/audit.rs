//! Activity audit through the client: data sources, conditions, paging of 50 to the end,
//! an exact limit, traces, tenants and bad input.

use serde_json::{Value, json};
use sysdig::secure::audit::{AuditEvent, DataSource, ListAuditEvents};

use super::support::{Secure, err, ingest, refused};

const S: i64 = 1_000_000_000;

/// `n` events of `kind` at `start + i` seconds; every tenth command is traceable.
fn batch(kind: &str, start: i64, n: i64) -> Value {
    let events: Vec<Value> = (0..n)
        .map(|i| {
            let mut e = json!({
                "id": format!("{kind}-{i}"),
                "type": kind,
                "timestamp": (start + i) * S,
                "hostname": format!("web-{}", i % 2),
                "cmdline": format!("ls -{i}"),
                "labels": {"kubernetes.namespace.name": if i % 3 == 0 { "prod" } else { "dev" }},
            });
            if kind == "command" && i % 10 == 0 {
                e["trace"] = json!([
                    {"cmdline": "sh -c ls", "timestamp": (start + i) * S + 1},
                    {"type": "connection", "clientIpv4": "10.0.0.1"},
                ]);
            }
            e
        })
        .collect();
    json!({ "events": events })
}

#[tokio::test]
async fn lists_page_to_the_end_and_traces() {
    let s = Secure::start().await;
    ingest(
        &s.secure,
        "activityAudit/events",
        batch("command", 1000, 130),
    )
    .await;
    ingest(
        &s.secure,
        "activityAudit/events",
        batch("kubernetes", 1000, 20),
    )
    .await;
    ingest(
        &s.secure,
        "activityAudit/events",
        batch("connection", 1000, 10),
    )
    .await;
    let audit = s.secure.activity_audit();
    let window = ListAuditEvents::new().window_s(1000, 2000);

    let all = audit.list(&window).await.unwrap();
    assert_eq!(all.len(), 160, "three pages and more, to the end");
    let commands = audit
        .list(&window.clone().data_sources([DataSource::Command]))
        .await
        .unwrap();
    assert_eq!(commands.len(), 130);
    assert!(commands.iter().all(|e| e.kind == "command"));
    assert!(
        commands
            .windows(2)
            .all(|w| w[0].timestamp >= w[1].timestamp)
    );
    assert_eq!(commands[0].id, "command-129");
    let two = audit
        .list(
            &window
                .clone()
                .data_sources([DataSource::Command, DataSource::Kubernetes])
                .condition(r#"hostname = "web-1""#)
                .condition(r#"kubernetes.namespace.name in ("prod")"#),
        )
        .await
        .unwrap();
    // i odd and a multiple of 3: 3, 9, 15, ... below 130 (22) and below 20 (3).
    assert_eq!(two.len(), 25);
    // A limit keeps exactly that many (sdcclient keeps one less).
    assert_eq!(audit.list(&window.clone().limit(5)).await.unwrap().len(), 5);
    assert_eq!(
        audit.list(&window.clone().limit(75)).await.unwrap().len(),
        75
    );
    // The default window is the last day: these events are from 1970.
    assert!(
        audit
            .list(&ListAuditEvents::new())
            .await
            .unwrap()
            .is_empty()
    );
    let minute_ago = (jiff::Timestamp::now().as_second() - 60) * S;
    let recent = json!({"type": "fileaccess", "name": "/etc/passwd", "timestamp": minute_ago});
    ingest(&s.secure, "activityAudit/events", recent).await;
    let recent = audit.list(&ListAuditEvents::new()).await.unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].extra["name"], "/etc/passwd");

    // Traces.
    let traceable: Vec<&AuditEvent> = commands.iter().filter(|e| e.traceable).collect();
    assert_eq!(traceable.len(), 13);
    assert!(traceable.iter().all(|e| !e.extra.contains_key("trace")));
    let trace = audit.trace(traceable[0]).await.unwrap();
    assert_eq!(trace.len(), 2);
    assert_eq!(
        (trace[0].kind.as_str(), trace[1].kind.as_str()),
        ("command", "connection")
    );
    assert_eq!(trace[0].extra["cmdline"], "sh -c ls");
    let plain = commands.iter().find(|e| !e.traceable).unwrap();
    assert_eq!(
        err(audit.trace(plain).await).1,
        "a traceable event must be provided"
    );
    let path = |kind: &str, id: &str| format!("/api/v1/activityAudit/events/{kind}/{id}/trace");
    assert_eq!(
        refused(&s.secure, &path("command", &plain.id), &[]).await.0,
        400
    );
    assert_eq!(
        refused(&s.secure, &path("kubernetes", &traceable[0].id), &[])
            .await
            .0,
        404
    );
    assert_eq!(
        refused(&s.secure, &path("command", "nope"), &[]).await.0,
        404
    );

    // Tenants.
    let other = s.other.activity_audit();
    assert!(other.list(&window).await.unwrap().is_empty());
    assert_eq!(err(other.trace(traceable[0]).await).0, Some(404));
}

#[tokio::test]
async fn bad_input_is_refused() {
    let s = Secure::start().await;
    ingest(
        &s.secure,
        "activityAudit/events",
        batch("command", 1000, 60),
    )
    .await;
    let audit = s.secure.activity_audit();
    let window = ListAuditEvents::new().window_s(1000, 2000);
    let (st, m) = err(audit.list(&window.clone().condition("colour = red")).await);
    assert_eq!(st, Some(400));
    assert!(m.contains("position 1: unknown field 'colour'"), "{m}");
    let (st, m) = err(audit
        .list(&window.clone().condition("type in command"))
        .await);
    assert_eq!(st, Some(400));
    assert!(m.contains("position 9: expected '('"), "{m}");
    assert_eq!(
        err(audit.list(&ListAuditEvents::new().window_s(10, 5)).await).0,
        Some(400)
    );
    let path = "/api/v1/activityAudit/events";
    assert_eq!(refused(&s.secure, path, &[("limit", "-1")]).await.0, 400);
    // A policy-event cursor is not an audit cursor, nor is another team's.
    let page = s.secure.policy_events().range(0, 10, None).await.unwrap();
    let (st, m) = refused(&s.secure, path, &[("cursor", &page.page.prev.unwrap())]).await;
    assert_eq!(st, 400);
    assert!(m.contains("issued for another list"), "{m}");
    let first = audit.page(&window.first_page(0)).await.unwrap();
    assert_eq!(first.page.total, 60);
    let cursor = first.page.prev.unwrap();
    assert!(
        refused(&s.other, path, &[("cursor", &cursor)])
            .await
            .1
            .contains("another team")
    );
    // Monitor tokens are refused.
    assert_eq!(
        err(s.monitor.activity_audit().list(&window).await).0,
        Some(403)
    );
    for bad in [
        json!({"type": "telepathy"}),
        json!({"type": "command", "trace": {}}),
    ] {
        let r = s
            .secure
            .raw(
                http::Method::POST,
                "/vigil/sysdig/secure/activityAudit/events",
            )
            .json(&bad)
            .unwrap()
            .send()
            .await;
        assert_eq!(err(r).0, Some(400), "{bad}");
    }
}

#[tokio::test]
async fn the_deprecated_command_audit_reads_command_events() {
    use sysdig::secure::commands::ListCommands;

    let s = Secure::start().await;
    let events: Vec<Value> = (0..30)
        .map(|i| {
            json!({
                "id": format!("c{i}"), "type": "command", "timestamp": (1000 + i) * S,
                "comm": if i % 2 == 0 { "touch" } else { "ls" }, "cmdline": "x", "cwd": "/",
                "pid": 100 + i, "ppid": 1, "uid": 0, "loginShellId": 7, "loginShellDistance": 1,
                "hostname": format!("web-{}", i % 3), "containerId": "abc",
                "labels": {"container.image": "ubuntu", "host.mac": "aa"},
            })
        })
        .chain([json!({"id": "k0", "type": "kubernetes", "timestamp": 1001 * S})])
        .collect();
    ingest(&s.secure, "activityAudit/events", Value::Array(events)).await;
    let cmds = s.secure.command_audit();
    let window = ListCommands {
        from_s: Some(1000),
        to_s: Some(2000),
        ..ListCommands::default()
    };
    let all = cmds.list(window.clone()).await.unwrap();
    assert_eq!(all.len(), 30, "commands only");
    assert_eq!(
        (all[0].id.as_str(), all[0].timestamp),
        ("c29", 1029 * 1_000_000)
    );
    let touch = cmds
        .list(ListCommands {
            scope_filter: Some("container.image=ubuntu and host.hostName = web-0".into()),
            command_filter: Some(r#"command.comm="touch""#.into()),
            metrics: vec!["host.hostName".into(), "host.mac".into(), "nothing".into()],
            limit: 2,
            offset: 1,
            ..window.clone()
        })
        .await
        .unwrap();
    // i even and a multiple of 3: 24, 18, 12, 6, 0; offset 1, limit 2.
    let ids: Vec<&str> = touch.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c18", "c12"]);
    assert_eq!(touch[0].metrics, [json!("web-0"), json!("aa"), Value::Null]);
    let one = cmds.get("c3", &["host.hostName".into()]).await.unwrap();
    assert_eq!((one.pid, one.comm.as_str()), (Some(103), "ls"));
    assert_eq!(one.metrics, [json!("web-0")]);
    assert_eq!(err(cmds.get("k0", &[]).await).0, Some(404), "not a command");
    assert_eq!(err(cmds.get("nope", &[]).await).0, Some(404));
    // Bad input.
    let bad = |op: ListCommands| async { err(cmds.list(op).await).0 };
    let filter = ListCommands {
        command_filter: Some("command.colour = red".into()),
        ..window.clone()
    };
    assert_eq!(bad(filter).await, Some(400));
    let inverted = ListCommands {
        from_s: Some(10),
        to_s: Some(5),
        ..ListCommands::default()
    };
    assert_eq!(bad(inverted).await, Some(400));
    assert_eq!(
        refused(&s.secure, "/api/commands", &[("metrics", "host")])
            .await
            .0,
        400
    );
    assert_eq!(
        refused(&s.secure, "/api/commands", &[("offset", "-1")])
            .await
            .0,
        400
    );
    assert!(
        s.other
            .command_audit()
            .list(window)
            .await
            .unwrap()
            .is_empty()
    );
}
