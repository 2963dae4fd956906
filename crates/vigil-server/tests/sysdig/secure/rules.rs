//! Rules, Falco macros and Falco lists through the `sysdig` client, and bad input over raw
//! HTTP.

use reqwest::Method;
use sysdig::secure::{
    policies::Policy,
    rules::{FalcoList, FalcoMacro, Rule},
};

use super::secure_team::{Secure, message};
use crate::sysdig::client_env::err;

#[tokio::test]
async fn rules_through_the_client() {
    let s = Secure::start().await;
    let c = s.client();
    let rules = c.rules();
    // The seeded defaults are there from the first call.
    let summaries = rules.summaries().await.unwrap();
    let etc = summaries
        .iter()
        .find(|x| x.name == "Write below etc")
        .unwrap();
    assert_eq!(etc.ids.len(), 1);
    let seeded = rules.get(etc.ids[0]).await.unwrap();
    assert_eq!(seeded.extra["origin"], "Sysdig");

    let made = rules
        .create(
            &Rule::falco(
                "My rule",
                "evt.type = open and fd.name = /tmp/x",
                "opened",
                "WARNING",
            )
            .description("mine")
            .tags(vec!["files".into()]),
        )
        .await
        .unwrap();
    let id = made.id.unwrap();
    assert_eq!(made.version, Some(1));
    assert_eq!(rules.get(id).await.unwrap(), made);
    assert_eq!(rules.group("My rule").await.unwrap(), vec![made.clone()]);
    // update_rule: the whole object goes back with its version.
    let changed = rules
        .modify(id, |r| r.description = Some("changed".into()))
        .await
        .unwrap();
    assert_eq!(changed.version, Some(2));
    assert_eq!(changed.description.as_deref(), Some("changed"));
    let (status, _) = err(rules.update(&made).await);
    assert_eq!(status, Some(409));

    // A second rule of the name must append; then the group has both.
    let (status, e) = err(rules
        .create(&Rule::falco("My rule", "x", "o", "INFO"))
        .await);
    assert_eq!(status, Some(409), "{e}");
    let mut append = Rule::falco("My rule", "and proc.name = cat", "", "INFO");
    append
        .details
        .as_mut()
        .unwrap()
        .insert("append".into(), true.into());
    let appended = rules.create(&append).await.unwrap();
    assert_eq!(rules.group("My rule").await.unwrap().len(), 2);

    // A rule a policy names stays while it is the last of its name.
    let p = c
        .policies()
        .create(&Policy::new("uses it", vec!["My rule".into()]))
        .await
        .unwrap();
    rules.delete(appended.id.unwrap()).await.unwrap();
    let (status, e) = err(rules.delete(id).await);
    assert_eq!(
        (status, e.as_str()),
        (
            Some(409),
            "Rule 'My rule' is used by policy 'uses it': Conflict"
        )
    );
    c.policies().delete(p.id.unwrap()).await.unwrap();
    let gone = rules.delete(id).await.unwrap();
    assert_eq!(gone.name, "My rule");
    let (status, _) = err(rules.get(id).await);
    assert_eq!(status, Some(404));
    assert!(rules.group("My rule").await.unwrap().is_empty());
}

#[tokio::test]
async fn macros_and_lists_through_the_client() {
    let s = Secure::start().await;
    let c = s.client();
    let macros = c.falco_macros();
    let m = macros
        .create(&FalcoMacro::new("my_macro", "evt.type = open"))
        .await
        .unwrap();
    let id = m.id.unwrap();
    assert!(!m.append);
    assert_eq!(macros.group("my_macro").await.unwrap(), vec![m.clone()]);
    let m2 = macros
        .modify(id, |m| m.condition.condition = "evt.type = close".into())
        .await
        .unwrap();
    assert_eq!(m2.condition.condition, "evt.type = close");
    let app = macros
        .create(&FalcoMacro::new("my_macro", "or evt.type = openat").append(true))
        .await
        .unwrap();
    assert!(app.append);
    let sums = macros.summaries().await.unwrap();
    let mine = sums.iter().find(|x| x.name == "my_macro").unwrap();
    assert_eq!(mine.ids.len(), 2);
    assert!(sums.iter().any(|x| x.name == "spawned_process"));
    assert_eq!(macros.delete(id).await.unwrap().name, "my_macro");

    let lists = c.falco_lists();
    let l = lists
        .create(&FalcoList::new("my_list", vec!["a".into(), "b".into()]))
        .await
        .unwrap();
    let l2 = lists
        .modify(l.id.unwrap(), |l| l.items.items.push("c".into()))
        .await
        .unwrap();
    assert_eq!(l2.items.items, vec!["a", "b", "c"]);
    let (status, _) = err(lists.create(&FalcoList::new("my_list", vec![])).await);
    assert_eq!(status, Some(409));
    assert!(
        lists
            .group("shell_binaries")
            .await
            .unwrap()
            .iter()
            .any(|l| l.items.items.contains(&"bash".to_string()))
    );
    lists.delete(l.id.unwrap()).await.unwrap();
    let (status, _) = err(lists.get(l.id.unwrap()).await);
    assert_eq!(status, Some(404));

    // Another Secure team sees none of it.
    let other = s.env.client(&s.other_team("Secure B").await);
    assert!(
        other
            .falco_macros()
            .group("my_macro")
            .await
            .unwrap()
            .is_empty()
    );
    let (status, _) = err(other.falco_macros().get(app.id.unwrap()).await);
    assert_eq!(status, Some(404));
}

#[tokio::test]
async fn bad_rules_macros_and_lists_are_refused() {
    let s = Secure::start().await;
    for (path, body, want) in [
        ("/api/secure/rules", "{", "Malformed JSON request"),
        (
            "/api/secure/rules",
            r#"{"details":{}}"#,
            "Field 'name' is required",
        ),
        (
            "/api/secure/rules",
            r#"{"name":"r","details":{}}"#,
            "Field 'details.condition' is required",
        ),
        (
            "/api/secure/rules",
            r#"{"name":"r","details":{"condition":{"condition":"a"},"output":"o","priority":"LOUD"}}"#,
            "Invalid priority 'LOUD'",
        ),
        (
            "/api/secure/rules",
            r#"{"name":"r","tags":[1]}"#,
            "Field 'tags' must be an array of strings",
        ),
        (
            "/api/secure/falco/macros",
            r#"{"name":"m"}"#,
            "Field 'condition' is required",
        ),
        (
            "/api/secure/falco/macros",
            r#"{"name":"m","condition":{"condition":""}}"#,
            "Field 'condition.condition'",
        ),
        (
            "/api/secure/falco/macros",
            r#"{"name":"m","condition":{"condition":"a","components":"x"}}"#,
            "Field 'condition.components' must be an array",
        ),
        (
            "/api/secure/falco/macros",
            r#"{"name":"m","condition":"evt.type = open"}"#,
            "Field 'condition' must be an object",
        ),
        (
            "/api/secure/falco/lists",
            r#"{"name":"l","items":["a"]}"#,
            "Field 'items' must be an object",
        ),
        (
            "/api/secure/falco/lists",
            r#"{"name":"l","items":{"items":[1]}}"#,
            "Field 'items' must be an object",
        ),
    ] {
        let (status, v) = s.raw(Method::POST, path, Some(body)).await;
        assert_eq!(status, 400, "{path} {body}: {v}");
        assert!(message(&v).starts_with(want), "{path} {body}: {v}");
    }
    for path in [
        "/api/secure/rules/424242",
        "/api/secure/falco/macros/x",
        "/api/secure/falco/lists/424242",
    ] {
        assert_eq!(s.raw(Method::GET, path, None).await.0, 404, "{path}");
        assert_eq!(s.raw(Method::DELETE, path, None).await.0, 404, "{path}");
    }
    // Rules of other types carry their own details, without a Falco condition.
    let body = r#"{"name":"c","details":{"ruleType":"CONTAINER","containers":{"items":["nginx"],"matchItems":true}}}"#;
    let (status, v) = s.raw(Method::POST, "/api/secure/rules", Some(body)).await;
    assert_eq!(status, 200, "{v}");
    let path = "/api/secure/rules/groups?name=c&type=CONTAINER";
    assert_eq!(
        s.raw(Method::GET, path, None).await.1[0]["details"]["containers"]["items"][0],
        "nginx"
    );
    // terraform's `type=` keeps rules of that type.
    let path = "/api/secure/rules/groups?name=Write%20below%20etc&type=FALCO";
    assert_eq!(
        s.raw(Method::GET, path, None)
            .await
            .1
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let path = "/api/secure/rules/groups?name=Write%20below%20etc&type=SYSCALL";
    assert_eq!(
        s.raw(Method::GET, path, None).await.1,
        serde_json::json!([])
    );
    let (status, v) = s.raw(Method::GET, "/api/secure/rules/groups", None).await;
    assert_eq!((status, message(&v)), (400, "Parameter 'name' is required"));
    // A version is needed to update.
    let (_, l) = s
        .raw(
            Method::POST,
            "/api/secure/falco/lists",
            Some(r#"{"name":"l","items":{"items":[]}}"#),
        )
        .await;
    let path = format!("/api/secure/falco/lists/{}", l["id"]);
    let (status, v) = s
        .raw(
            Method::PUT,
            &path,
            Some(r#"{"name":"l","items":{"items":["x"]}}"#),
        )
        .await;
    assert_eq!((status, message(&v)), (400, "List version is required"));
}
