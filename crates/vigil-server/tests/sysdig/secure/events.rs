//! Runtime policy events through the client: ranges, filters, cursor paging that keeps the
//! first call's window while newer events arrive, one event, tenants and bad input.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use serde_json::{Value, json};
use sysdig::secure::events::{ListPolicyEvents, PolicyEventsCtx};

use super::support::{Secure, err, ingest, refused};

const S: i64 = 1_000_000_000;

/// Events at 1..=n seconds, severity `i % 8`, host `web-<i % 3>`.
fn batch(prefix: &str, n: i64) -> Value {
    let events: Vec<Value> = (1..=n)
        .map(|i| {
            json!({
                "id": format!("{prefix}{i}"),
                "timestamp": i * S,
                "name": if i % 2 == 0 { "Terminal shell in container" } else { "Write below etc" },
                "description": "a rule fired",
                "severity": i % 8,
                "machineId": "08:00:27:00:00:01",
                "content": {"policyId": i % 4, "ruleName": "r", "output": "bash ran", "fields": {"proc.name": "bash"}},
                "labels": {"host.hostName": format!("web-{}", i % 3)},
            })
        })
        .collect();
    json!({ "events": events })
}

#[tokio::test]
async fn ranges_filters_and_single_events() {
    let s = Secure::start().await;
    let stored = ingest(&s.secure, "policyEvents", batch("e", 40)).await;
    assert_eq!(stored.len(), 40);
    let ev = s.secure.policy_events();
    let page = ev.range(10, 20, None).await.unwrap();
    let ids: Vec<&str> = page.data.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 11);
    assert_eq!(
        (ids[0], ids[10]),
        ("e20", "e10"),
        "newest first, both ends in"
    );
    assert_eq!(page.page.total, 11);
    let first = &page.data[0];
    assert_eq!(first.timestamp, 20 * S);
    assert_eq!(first.customer_id, Some(1));
    assert_eq!(first.severity, 4);
    assert_eq!(first.labels["host.hostName"], "web-2");
    assert!(first.cursor.is_some());

    let sev = ev
        .range(0, 100, Some(r#"severity in ("4","5")"#))
        .await
        .unwrap();
    assert_eq!(sev.data.len(), 10);
    assert!(sev.data.iter().all(|e| (4..=5).contains(&e.severity)));
    assert!(
        ev.range(0, 100, Some(r#"severity in ("-1")"#))
            .await
            .unwrap()
            .data
            .is_empty()
    );
    let f = r#"host.hostName = "web-1" and name != 'Write below etc' and policyId = 0"#;
    let hits = ev.range(0, 100, Some(f)).await.unwrap().data;
    let got: Vec<&str> = hits.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, ["e40", "e28", "e16", "e4"]);
    // sdcclient's example field: text found in the name, description, rule or output.
    let free = ev
        .range(0, 100, Some(r#"freeText in ("TERMINAL") and severity = 2"#))
        .await
        .unwrap()
        .data;
    let got: Vec<&str> = free.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, ["e34", "e26", "e18", "e10", "e2"]);
    let none = ev
        .range(0, 100, Some(r#"freeText = "nothing like it""#))
        .await
        .unwrap();
    assert!(none.data.is_empty());
    // `duration` covers now: the stored events are in 1970.
    assert!(ev.duration(3600, None).await.unwrap().data.is_empty());

    let one = ev.get("e7").await.unwrap();
    assert_eq!(
        (one.name.as_str(), one.timestamp),
        ("Write below etc", 7 * S)
    );
    assert_eq!(one.machine_id, "08:00:27:00:00:01");
    assert_eq!(one.content["policyId"], 3);
    let (st, m) = err(ev.get("nope").await);
    assert_eq!((st, m.as_str()), (Some(404), "Event not found: Not Found"));

    // Tenants: the other Secure team sees none of them, and may reuse the ids.
    assert!(
        s.other
            .policy_events()
            .range(0, 100, None)
            .await
            .unwrap()
            .data
            .is_empty()
    );
    assert_eq!(err(s.other.policy_events().get("e7").await).0, Some(404));
    ingest(
        &s.other,
        "policyEvents",
        json!({"id": "e7", "name": "x", "timestamp": S}),
    )
    .await;
    assert_eq!(s.other.policy_events().get("e7").await.unwrap().name, "x");
    // A duplicate id in the same team is refused, and nothing of that batch is stored.
    let dup = s
        .secure
        .raw(http::Method::POST, "/vigil/sysdig/secure/policyEvents")
        .json(&json!([{"id": "new", "name": "n"}, {"id": "e1", "name": "n"}]))
        .unwrap()
        .send()
        .await;
    assert_eq!(err(dup).0, Some(409));
    assert_eq!(err(ev.get("new").await).0, Some(404));
}

#[tokio::test]
async fn cursor_paging_keeps_the_window_while_events_arrive() {
    let s = Secure::start().await;
    ingest(&s.secure, "policyEvents", batch("e", 120)).await;
    let ev = s.secure.policy_events();
    let op = ListPolicyEvents::new().window_s(11, 100).limit(25);
    let mut page = ev.send(&op).await.unwrap();
    assert_eq!(page.page.total, 90);
    let mut seen: Vec<String> = page.data.iter().map(|e| e.id.clone()).collect();
    let mut arrivals = 0;
    loop {
        // New events inside and outside the window arrive while paging.
        arrivals += 1;
        ingest(
            &s.secure,
            "policyEvents",
            json!([
                {"id": format!("late{arrivals}"), "name": "late", "timestamp": 50 * S},
                {"id": format!("out{arrivals}"), "name": "out", "timestamp": 5 * S},
            ]),
        )
        .await;
        page = ev.more(&page.ctx()).await.unwrap();
        if page.data.is_empty() {
            break;
        }
        seen.extend(page.data.iter().map(|e| e.id.clone()));
    }
    let want: Vec<String> = (11..=100).rev().map(|i| format!("e{i}")).collect();
    assert_eq!(
        seen, want,
        "every event of the window once, in order, none newer"
    );
    assert!(arrivals >= 4);
    // An empty page keeps a cursor, so following it stays empty.
    assert!(ev.more(&page.ctx()).await.unwrap().data.is_empty());
    // A fresh query sees the new events.
    let again: Vec<_> = ev
        .stream(ListPolicyEvents::new().window_s(11, 100).limit(40))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(again.len(), 90 + arrivals);
    let ids: BTreeSet<_> = again.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), again.len());
    // The context sdcclient builds by hand with no cursor pages from the newest.
    let ctx = PolicyEventsCtx {
        limit: 3,
        cursor: None,
    };
    let newest = ev.more(&ctx).await.unwrap();
    assert_eq!(newest.data[0].id, "e120");

    // `next` follows events newer than a page.
    let top = ev.send(&ListPolicyEvents::new().limit(5)).await.unwrap();
    let next = top.page.next.clone().unwrap();
    let none = ev
        .send(&ListPolicyEvents::new().limit(5).cursor(next.clone()))
        .await
        .unwrap();
    assert!(none.data.is_empty());
    ingest(
        &s.secure,
        "policyEvents",
        json!({"id": "fresh", "name": "f", "timestamp": 500 * S}),
    )
    .await;
    let fresh = ev
        .send(&ListPolicyEvents::new().limit(5).cursor(next))
        .await
        .unwrap();
    let got: Vec<&str> = fresh.data.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, ["fresh"]);
}

#[tokio::test]
async fn bad_input_is_refused() {
    let s = Secure::start().await;
    ingest(&s.secure, "policyEvents", batch("e", 3)).await;
    let ev = s.secure.policy_events();
    let path = "/api/v1/secureEvents";
    let (st, m) = err(ev.duration(-10, None).await);
    assert_eq!(st, Some(400), "{m}");
    assert!(m.contains("'from' must not be after 'to'"), "{m}");
    for limit in ["-1", "0", "1001", "x"] {
        assert_eq!(refused(&s.secure, path, &[("limit", limit)]).await.0, 400);
    }
    let (st, m) = err(ev.range(0, 10, Some("severity >= 4")).await);
    assert_eq!(st, Some(400));
    assert_eq!(
        m,
        "invalid filter at position 10: expected an operator (=, !=, in, not in) after 'severity': Bad Request"
    );
    let (_, m) = err(ev.range(0, 10, Some("severity = 4 and colour = red")).await);
    assert_eq!(
        m,
        "invalid filter at position 18: unknown field 'colour': Bad Request"
    );
    let (_, m) = err(ev.range(0, 10, Some("name in (\"a\"")).await);
    assert!(m.contains("position 13"), "{m}");

    // Cursors: garbage, another team's, and window or filter changes on the way.
    let page = ev.range(0, 10, Some("severity = 2")).await.unwrap();
    let cursor = page.page.prev.clone().unwrap();
    let (st, m) = refused(&s.other, path, &[("cursor", &cursor)]).await;
    assert_eq!(
        (st, m.as_str()),
        (
            400,
            "Invalid cursor: it was issued to another team: Bad Request"
        )
    );
    assert_eq!(
        refused(&s.secure, path, &[("cursor", "00zz")]).await,
        (400, "Invalid cursor: Bad Request".into())
    );
    assert_eq!(
        refused(&s.secure, path, &[("cursor", &cursor), ("to", "5")])
            .await
            .0,
        400
    );
    assert_eq!(
        refused(
            &s.secure,
            path,
            &[("cursor", &cursor), ("filter", "severity = 3")]
        )
        .await
        .0,
        400
    );
    let ok = ev.more(&page.ctx()).await.unwrap();
    assert!(ok.data.is_empty());

    // A Monitor team's token is refused before anything is read.
    let (st, m) = err(s.monitor.policy_events().range(0, 10, None).await);
    assert_eq!(st, Some(403));
    assert!(m.contains("use the API token of a Secure team"), "{m}");
    let r = s
        .monitor
        .raw(http::Method::POST, "/vigil/sysdig/secure/policyEvents")
        .json(&json!({"name": "x"}))
        .unwrap()
        .send()
        .await;
    assert_eq!(err(r).0, Some(403));
    // Ingestion checks its events.
    for bad in [
        json!({"severity": 4}),
        json!({"name": "x", "severity": 9}),
        json!({"name": "x", "timestamp": -1}),
        json!({"name": "x", "labels": {"a": 1}}),
        json!([]),
        json!("x"),
    ] {
        let r = s
            .secure
            .raw(http::Method::POST, "/vigil/sysdig/secure/policyEvents")
            .json(&bad)
            .unwrap()
            .send()
            .await;
        assert_eq!(err(r).0, Some(400), "{bad}");
    }
}

#[tokio::test]
async fn acknowledged_events_survive_a_restart() {
    use crate::kit::{TestServer, with_sysdig_creds};
    use secrecy::ExposeSecret;

    let server = TestServer::start_with(with_sysdig_creds).await;
    let admin = server.sysdig(super::support::ADMIN_TOKEN);
    let token = admin
        .token()
        .of_user(super::support::ADMIN, "Secure Operations")
        .await
        .unwrap()
        .expose_secret()
        .to_string();
    let c = server.sysdig(&token);
    ingest(&c, "policyEvents", batch("e", 3)).await;
    ingest(
        &c,
        "activityAudit/events",
        json!({"id": "a1", "type": "command", "timestamp": S, "trace": [{"cmdline": "x"}]}),
    )
    .await;
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, with_sysdig_creds).await;
    let c = server.sysdig(&token);
    let page = c.policy_events().range(0, 10, None).await.unwrap();
    let ids: Vec<&str> = page.data.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e3", "e2", "e1"]);
    let audit = c
        .activity_audit()
        .list(&sysdig::secure::audit::ListAuditEvents::new().window_s(0, 10))
        .await
        .unwrap();
    assert_eq!(c.activity_audit().trace(&audit[0]).await.unwrap().len(), 1);
    server.stop().await;
}
