//! Runtime policies v2 through the `sysdig` client, and bad input over raw HTTP.

use reqwest::Method;
use serde_json::json;
use sysdig::secure::policies::{Policy, PolicyAction, PolicyPatch};

use super::secure_team::{Secure, message};
use crate::sysdig::client_env::{ADMIN_TOKEN, err};

#[tokio::test]
async fn policies_through_the_client() {
    let s = Secure::start().await;
    let c = s.client();
    let p = c.policies();
    assert!(p.is_v2().await.unwrap());
    assert!(p.list().await.unwrap().is_empty());

    let made = p
        .create(
            &Policy::new("Test - shells", vec!["Terminal shell in container".into()])
                .description("shells")
                .scope("container.image.repository = nginx")
                .actions(vec![
                    PolicyAction::stop(),
                    PolicyAction::capture("cap", 5, 15, ""),
                ]),
        )
        .await
        .unwrap();
    let id = made.id.unwrap();
    assert_eq!(made.version, Some(1));
    assert_eq!(made.origin.as_deref(), Some("Secure UI"));
    assert_eq!(made.kind.as_deref(), Some("falco"));
    assert_eq!(made.is_default, Some(false));
    let actions = made.actions.clone().unwrap();
    assert_eq!(actions[1].extra["beforeEventNs"], 5_000_000_000u64);
    assert_eq!(p.get(id).await.unwrap(), made);
    assert_eq!(p.by_name("Test - shells").await.unwrap().id, Some(id));
    let (_, e) = err(p.by_name("nope").await);
    assert_eq!(e, "No policy with name nope");

    // update_policy: only the given fields change; the version goes up.
    let patched = p
        .patch(
            id,
            &PolicyPatch {
                description: Some("changed".into()),
                severity: Some(3),
                ..PolicyPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.version, Some(2));
    assert_eq!(patched.description.as_deref(), Some("changed"));
    assert_eq!(patched.scope, made.scope);
    assert_eq!(patched.origin.as_deref(), Some("Secure UI"));

    // add_policy_json of a policy read back, without its id, under another name.
    let mut copy = serde_json::to_value(&patched).unwrap();
    copy.as_object_mut().unwrap().remove("id");
    copy["version"] = json!(null);
    copy["name"] = json!("Test - copy");
    let copied = p.create_json(&copy.to_string()).await.unwrap();
    assert_ne!(copied.id, Some(id));
    assert_eq!(copied.rule_names, patched.rule_names);
    // update_policy_json needs the id and the current version.
    let mut again = serde_json::to_value(&copied).unwrap();
    again["description"] = json!("by json");
    let updated = p.update_json(&again.to_string()).await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("by json"));
    let (status, e) = err(p.update_json(&again.to_string()).await);
    assert_eq!(status, Some(409), "{e}");

    // Deletes answer the deleted policy.
    let gone = p.delete_by_name("Test - copy").await.unwrap();
    assert_eq!(gone.name, "Test - copy");
    let gone = p.delete(id).await.unwrap();
    assert_eq!(gone.id, Some(id));
    let (status, _) = err(p.get(id).await);
    assert_eq!(status, Some(404));

    // Default policies reference default rules that exist; a second call adds nothing.
    let defaults = p.create_defaults().await.unwrap();
    assert!(
        defaults
            .iter()
            .any(|d| d.name == "Suspicious Filesystem Changes" && d.is_default == Some(true))
    );
    for d in &defaults {
        for r in d.rule_names.clone().unwrap() {
            assert!(!c.rules().group(&r).await.unwrap().is_empty(), "{r}");
        }
    }
    assert!(p.create_defaults().await.unwrap().is_empty());
    assert_eq!(p.delete_all().await.unwrap(), defaults.len());
    assert!(p.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_policies_are_refused() {
    let s = Secure::start().await;
    let p = s.client();
    let p = p.policies();
    let ok = Policy::new("dup", vec!["Write below etc".into()]);
    let made = p.create(&ok).await.unwrap();

    let (status, e) = err(p.create(&ok).await);
    assert_eq!(status, Some(409));
    assert_eq!(e, "A policy named 'dup' already exists: Conflict");
    let (status, e) = err(p
        .create(&Policy::new("x", vec!["No such rule".into()]))
        .await);
    assert_eq!(
        (status, e.as_str()),
        (Some(400), "Rule 'No such rule' does not exist: Bad Request")
    );

    // A stale or missing version.
    let mut stale = made.clone();
    stale.version = Some(7);
    let (status, _) = err(p.update(&stale).await);
    assert_eq!(status, Some(409));
    let path = format!("/api/v2/policies/{}", made.id.unwrap());
    let (status, v) = s.raw(Method::PUT, &path, Some(r#"{"name":"dup"}"#)).await;
    assert_eq!((status, message(&v)), (400, "Policy version is required"));

    for (body, want) in [
        ("{", "Malformed JSON request"),
        ("[]", "The request body must be a JSON object"),
        (r#"{"description":"x"}"#, "Field 'name' is required"),
        (
            r#"{"name":"a","severity":9}"#,
            "Field 'severity' must be between 0 and 7",
        ),
        (
            r#"{"name":"a","type":"nope"}"#,
            "Invalid policy type 'nope'",
        ),
        (
            r#"{"name":"a","ruleNames":"x"}"#,
            "Field 'ruleNames' must be an array",
        ),
        (
            r#"{"name":"a","actions":[{"type":"BOOM"}]}"#,
            "Invalid action type 'BOOM'",
        ),
        (
            r#"{"name":"a","actions":[{"type":"POLICY_ACTION_CAPTURE","afterEventNs":-1}]}"#,
            "Field 'afterEventNs'",
        ),
    ] {
        let (status, v) = s.raw(Method::POST, "/api/v2/policies", Some(body)).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(message(&v).starts_with(want), "{body}: {v}");
    }
    let (status, v) = s
        .raw(
            Method::POST,
            "/api/v2/policies",
            Some(r#"{"name":"a","notificationChannelIds":[99999]}"#),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    // sdcclient's capture times are floats: whole ones are kept as integers.
    let (status, v) = s
        .raw(
            Method::POST,
            "/api/v2/policies",
            Some(r#"{"name":"f","actions":[{"type":"POLICY_ACTION_CAPTURE","afterEventNs":15000000000.0}]}"#),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["actions"][0]["afterEventNs"], 15_000_000_000u64);

    for path in ["/api/v2/policies/999999", "/api/v2/policies/abc"] {
        assert_eq!(s.raw(Method::GET, path, None).await.0, 404);
        assert_eq!(s.raw(Method::DELETE, path, None).await.0, 404);
    }
    // A Monitor team's token: 403 on every Secure route.
    for path in [
        "/api/v2/policies",
        "/api/v2/policies/default",
        "/api/secure/rules/summaries",
    ] {
        let (status, v) = s.send(Method::GET, path, ADMIN_TOKEN, None).await;
        assert_eq!(status, 403, "{path}: {v}");
    }
    let (status, _) = s.send(Method::GET, "/api/v2/policies", "nope", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn teams_see_their_own_policies() {
    let s = Secure::start().await;
    let other = s.other_team("Secure B").await;
    let b = s.env.client(&other);
    let made = s
        .client()
        .policies()
        .create(&Policy::new("mine", vec![]))
        .await
        .unwrap();
    assert!(b.policies().list().await.unwrap().is_empty());
    let (status, _) = err(b.policies().get(made.id.unwrap()).await);
    assert_eq!(status, Some(404));
    let (status, _) = err(b.policies().delete(made.id.unwrap()).await);
    assert_eq!(status, Some(404));
    // The same name in another team is fine.
    b.policies()
        .create(&Policy::new("mine", vec![]))
        .await
        .unwrap();
    assert_eq!(s.client().policies().list().await.unwrap(), vec![made]);
}

#[tokio::test]
async fn secure_objects_survive_a_restart() {
    use crate::kit::{TestServer, with_sysdig_creds};
    use secrecy::ExposeSecret;
    let server = TestServer::start_in(tempfile::tempdir().unwrap(), with_sysdig_creds).await;
    let token = server
        .sysdig(ADMIN_TOKEN)
        .token()
        .of_user(crate::sysdig::client_env::ADMIN, "Secure Operations")
        .await
        .unwrap()
        .expose_secret()
        .to_string();
    let c = server.sysdig(&token);
    let p = c
        .policies()
        .create(&Policy::new("kept", vec!["Write below etc".into()]))
        .await
        .unwrap();
    let m = c
        .falco_macros()
        .create(&sysdig::secure::rules::FalcoMacro::new(
            "kept_macro",
            "evt.type = open",
        ))
        .await
        .unwrap();
    let rules = c
        .falco_rules_files()
        .set_user_rules("- list: kept_list\n  items: [a]\n")
        .await
        .unwrap();
    let dir = server.stop().await;

    let server = TestServer::start_in(dir, with_sysdig_creds).await;
    let c = server.sysdig(&token);
    assert_eq!(c.policies().list().await.unwrap(), vec![p]);
    assert_eq!(c.falco_macros().group("kept_macro").await.unwrap(), vec![m]);
    assert_eq!(c.falco_rules_files().user_rules().await.unwrap(), rules);
    // The defaults were seeded once, not again at the restart.
    let etc = c.rules().group("Write below etc").await.unwrap();
    assert_eq!(etc.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn ibm_callers_pick_their_secure_team() {
    let s = Secure::start().await;
    let team = s
        .env
        .admin()
        .teams()
        .id_by_name("Secure Operations")
        .await
        .unwrap();
    let ibm = s.env.ibm(Some(team));
    let made = ibm
        .policies()
        .create(&Policy::new("over IAM", vec![]))
        .await
        .unwrap();
    assert_eq!(
        s.client().policies().by_name("over IAM").await.unwrap(),
        made
    );
    // Without SysdigTeamID the IAM caller acts in "Monitor Operations": refused.
    let (status, _) = err(s.env.ibm(None).policies().list().await);
    assert_eq!(status, Some(403));
}
