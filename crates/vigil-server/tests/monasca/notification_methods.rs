//! `/v2.0/notification-methods` end to end through the client.

use monasca::{
    notification_methods::{
        CreateNotificationMethod, DeleteNotificationMethod, GetNotificationMethod,
        ListNotificationMethodTypes, ListNotificationMethods, UpdateNotificationMethod,
    },
    types::NotificationMethodRequest,
};
use reqwest::Method;
use serde_json::json;

use crate::common::{Server, raw};

fn req(name: &str, kind: &str, address: &str, period: Option<i64>) -> CreateNotificationMethod {
    CreateNotificationMethod(NotificationMethodRequest {
        name: name.into(),
        kind: kind.into(),
        address: address.into(),
        period,
    })
}

#[tokio::test]
async fn notification_methods_lifecycle() {
    let server = Server::start().await;
    let c = server.client("acme");
    let hook = c
        .send(&req(
            "ops-hook",
            "webhook",
            "http://127.0.0.1:9/hook",
            Some(60),
        ))
        .await
        .unwrap();
    assert_eq!((hook.kind.as_str(), hook.period), ("WEBHOOK", 60));
    assert!(
        hook.links[0]
            .href
            .ends_with(&format!("/v2.0/notification-methods/{}", hook.id))
    );
    let mail = c
        .send(&req("ops-mail", "EMAIL", "ops@example.com", None))
        .await
        .unwrap();
    assert_eq!(mail.period, 0);

    let dup = c
        .send(&req("ops-hook", "EMAIL", "a@b", None))
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409));

    let page = c
        .page(&ListNotificationMethods::new().sort_by("name desc"))
        .await
        .unwrap();
    let names: Vec<_> = page.elements.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["ops-mail", "ops-hook"]);
    let first = c
        .page(&ListNotificationMethods::new().sort_by("name").limit(1))
        .await
        .unwrap();
    assert_eq!(first.elements[0].name, "ops-hook");
    assert!(first.next.as_ref().unwrap().as_str().contains("offset=1"));
    let all: Vec<_> =
        futures::TryStreamExt::try_collect(c.stream(&ListNotificationMethods::new().limit(1)))
            .await
            .unwrap();
    assert_eq!(all.len(), 2);

    let got = c
        .send(&GetNotificationMethod(mail.id.clone()))
        .await
        .unwrap();
    assert_eq!(got, mail);
    let patched = c
        .send(&UpdateNotificationMethod {
            id: mail.id.clone(),
            body: json!({"address": "oncall@example.com"}),
            partial: true,
        })
        .await
        .unwrap();
    assert_eq!(
        (patched.name.as_str(), patched.address.as_str()),
        ("ops-mail", "oncall@example.com")
    );
    let err = c
        .send(&UpdateNotificationMethod {
            id: mail.id.clone(),
            body: json!({"name": "x", "type": "EMAIL", "address": "a@b"}),
            partial: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "PUT needs every field: {err}");
    let err = c
        .send(&UpdateNotificationMethod {
            id: mail.id.clone(),
            body: json!({"name": "ops-hook"}),
            partial: true,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));

    // Another tenant sees none of it.
    let other = server.client("globex");
    assert!(
        other
            .page(&ListNotificationMethods::new())
            .await
            .unwrap()
            .elements
            .is_empty()
    );
    assert_eq!(
        other
            .send(&GetNotificationMethod(mail.id.clone()))
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    assert_eq!(
        other
            .send(&DeleteNotificationMethod(mail.id.clone()))
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    c.send(&DeleteNotificationMethod(mail.id.clone()))
        .await
        .unwrap();
    assert_eq!(
        c.send(&GetNotificationMethod(mail.id))
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    let types = c.page(&ListNotificationMethodTypes).await.unwrap();
    let types: Vec<_> = types.elements.iter().map(|t| t.kind.as_str()).collect();
    // What this server delivers (the suite's servers name an SMTP server; Jira is not set up).
    assert_eq!(types, ["EMAIL", "PAGERDUTY", "SLACK", "WEBHOOK"]);
    server.stop().await;
}

#[tokio::test]
async fn notification_method_validation() {
    let server = Server::start().await;
    let url = format!("{}/v2.0/notification-methods", server.url());
    let cases = [
        (
            json!({"type": "EMAIL", "address": "a@b"}),
            "required key not provided @ data['name']",
        ),
        (
            json!({"name": "n", "type": "EMAIL", "address": "nope"}),
            "Address nope is not of correct format",
        ),
        (
            json!({"name": "n", "type": "WEBHOOK", "address": "ftp://h/x"}),
            "scheme is not in ['http', 'https']",
        ),
        (
            json!({"name": "n", "type": "WEBHOOK", "address": "no-scheme"}),
            "does not have URL scheme",
        ),
        (
            json!({"name": "n", "type": "SMS", "address": "1"}),
            "Not a valid notification method type SMS ",
        ),
        (
            json!({"name": "n", "type": "EMAIL", "address": "a@b", "period": 30}),
            "30 is not in the configured list of valid periods: [0, 60]",
        ),
        (
            json!({"name": "n", "type": "EMAIL", "address": "a@b", "period": 1.5}),
            "expected int",
        ),
        (
            json!({"name": "n", "type": "EMAIL", "address": "a@b", "extra": 1}),
            "extra keys not allowed @ data['extra']",
        ),
        (
            json!({"name": "x".repeat(251), "type": "EMAIL", "address": "a@b"}),
            "length of value must be at most 250",
        ),
    ];
    for (body, needle) in cases {
        let (s, b) = raw(
            Method::POST,
            &url,
            Some("t"),
            Some("application/json"),
            body.to_string(),
        )
        .await;
        assert_eq!(s, 400, "{body}: {b}");
        assert!(
            b["description"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{body}: {b}"
        );
    }
    let (s, _) = raw(Method::POST, &url, Some("t"), Some("text/plain"), "{}").await;
    assert_eq!(s, 400);
    let (s, b) = raw(Method::POST, &url, Some("t"), Some("application/json"), "{").await;
    assert_eq!(
        (s, b["description"].as_str()),
        (400, Some("Request body is not valid JSON"))
    );
    let (s, b) = raw(
        Method::GET,
        &format!("{url}?sort_by=colour"),
        Some("t"),
        None,
        "",
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = raw(
        Method::GET,
        &format!("{url}?sort_by=name%20up"),
        Some("t"),
        None,
        "",
    )
    .await;
    assert_eq!(
        (s, b["description"].as_str()),
        (422, Some("sort_by value up must be 'asc' or 'desc'"))
    );
    let (s, _) = raw(Method::GET, &format!("{url}?offset=x"), Some("t"), None, "").await;
    assert_eq!(s, 422);
    server.stop().await;
}
