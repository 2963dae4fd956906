//! Every area of the typed client with a Sysdig token: users, teams, memberships, channels,
//! alerts and notifications, dashboards, events, raw calls, and bad input.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use http::Method;
use secrecy::ExposeSecret;
use serde_json::json;
use sysdig::{
    alerts::Alert,
    channels::Channel,
    dashboards::{Dashboard, PanelKind},
    events::{ListEvents, NewEvent},
    teams::Team,
    users::NewUser,
};

use super::client_env::{ADMIN, ADMIN_TOKEN, Env, err};

#[tokio::test]
async fn current_user_token_agents_and_raw() {
    let env = Env::start().await;
    let c = env.admin();
    let me = c.me().await.unwrap();
    assert_eq!(me.username, ADMIN);
    assert_eq!(me.system_role.as_deref(), Some("ROLE_CUSTOMER"));
    assert_eq!(c.token().get().await.unwrap().expose_secret(), ADMIN_TOKEN);
    let agents = c.connected_agents().await.unwrap();
    assert_eq!(agents.total, 0);
    let raw = c.raw(Method::GET, "/api/users/me").send().await.unwrap();
    assert_eq!(raw["user"]["username"], ADMIN);
    // Secrets stay out of Debug.
    assert!(!format!("{c:?}").contains(ADMIN_TOKEN));
    let t = c.token().get().await.unwrap();
    assert!(!format!("{t:?}").contains(ADMIN_TOKEN));
}

#[tokio::test]
async fn users() {
    let env = Env::start().await;
    let c = env.admin();
    let u = c
        .users()
        .create(
            &NewUser::new("jane@example.com")
                .first_name("Jane")
                .password("pw-123456"),
        )
        .await
        .unwrap();
    let id = u.id.unwrap();
    assert_eq!(u.first_name.as_deref(), Some("Jane"));
    let (s, m) = err(c.users().create(&NewUser::new("jane@example.com")).await);
    assert_eq!(s, Some(422));
    assert!(m.contains("User jane@example.com already exists"), "{m}");
    assert_eq!(
        c.users().get(id).await.unwrap().username,
        "jane@example.com"
    );
    assert_eq!(
        c.users().get_by_email("jane@example.com").await.unwrap().id,
        Some(id)
    );
    assert_eq!(
        err(c.users().get_by_email("nobody@example.com").await).1,
        "User not found"
    );

    let inv = c
        .users()
        .invite(&NewUser::new("joe@example.com").system_role("ROLE_USER"))
        .await
        .unwrap();
    assert_eq!(inv.username, "joe@example.com");
    assert_eq!(
        err(c.users().invite(&NewUser::new("joe@example.com")).await).1,
        "user joe@example.com already exists"
    );

    // Update keeps every field and bumps the version; the old version is then stale.
    let mut v1 = c.users().get(id).await.unwrap();
    let mut edited = v1.clone();
    edited.last_name = Some("Doe".into());
    let v2 = c.users().update(&edited).await.unwrap();
    assert_eq!(v2.last_name.as_deref(), Some("Doe"));
    assert_eq!(v2.first_name.as_deref(), Some("Jane"));
    assert!(v2.version > v1.version);
    v1.first_name = Some("Stale".into());
    assert_eq!(err(c.users().update(&v1).await).0, Some(409));

    assert_eq!(c.users().list().await.unwrap().len(), 3);
    c.users().delete(id).await.unwrap();
    assert_eq!(err(c.users().get(id).await).0, Some(404));
    c.users().delete_by_email("joe@example.com").await.unwrap();
    assert_eq!(
        err(c.users().delete_by_email("joe@example.com").await).1,
        "User not found"
    );
    assert_eq!(err(c.users().delete(999_999).await).0, Some(404));
}

#[tokio::test]
async fn teams_memberships_and_user_tokens() {
    let env = Env::start().await;
    let c = env.admin();
    let all = c.teams().list(None).await.unwrap();
    assert!(all.iter().any(|t| t.name == "Monitor Operations"));
    assert!(all.iter().any(|t| t.name == "Secure Operations"));
    let sds = c.teams().list(Some("SDS")).await.unwrap();
    assert!(sds.iter().all(|t| t.name != "Monitor Operations"));
    assert_eq!(
        err(c.teams().list(Some("XYZ")).await).1,
        "invalid product header, allowed only \"SDC\" or \"SDS\""
    );

    for u in ["a@example.com", "b@example.com"] {
        c.users().create(&NewUser::new(u)).await.unwrap();
    }
    let mut t = Team::new("ops");
    t.description = Some("on call".into());
    t.can_use_sysdig_capture = Some(true);
    let ops = c.teams().create(&t).await.unwrap();
    let ops_id = ops.id.unwrap();
    assert_eq!(ops.products.as_deref(), Some(&["SDC".to_string()][..]));
    let (s, m) = err(c.teams().create(&Team::new("ops")).await);
    assert_eq!(s, Some(422));
    assert!(m.contains("Team with name 'ops' already exists"), "{m}");
    assert_eq!(c.teams().get_by_name("ops").await.unwrap().id, Some(ops_id));
    assert_eq!(err(c.teams().get_by_name("nope").await).0, Some(404));
    assert_eq!(err(c.teams().get(987_654).await).0, Some(404));

    let roles = BTreeMap::from([
        ("a@example.com".to_string(), "ROLE_TEAM_EDIT".to_string()),
        ("b@example.com".to_string(), "ROLE_TEAM_READ".to_string()),
    ]);
    c.teams().save_memberships("ops", &roles).await.unwrap();
    let m = c.teams().memberships("ops").await.unwrap();
    assert_eq!(
        m.get("a@example.com").map(String::as_str),
        Some("ROLE_TEAM_EDIT")
    );
    assert_eq!(
        m.get("b@example.com").map(String::as_str),
        Some("ROLE_TEAM_READ")
    );
    // Changing one role keeps the other member.
    let one = BTreeMap::from([(
        "b@example.com".to_string(),
        "ROLE_TEAM_STANDARD".to_string(),
    )]);
    c.teams().save_memberships("ops", &one).await.unwrap();
    let m = c.teams().memberships("ops").await.unwrap();
    assert_eq!(
        m.get("a@example.com").map(String::as_str),
        Some("ROLE_TEAM_EDIT")
    );
    assert_eq!(
        m.get("b@example.com").map(String::as_str),
        Some("ROLE_TEAM_STANDARD")
    );
    assert!(
        err(c
            .teams()
            .save_memberships(
                "ops",
                &BTreeMap::from([(
                    "ghost@example.com".to_string(),
                    "ROLE_TEAM_READ".to_string()
                )])
            )
            .await)
        .1
        .starts_with("Could not convert user names to IDs")
    );

    // Another user's token in the team, and what it can do.
    let key = c.token().of_user("a@example.com", "ops").await.unwrap();
    let a = env.client(key.expose_secret());
    assert_eq!(a.me().await.unwrap().username, "a@example.com");
    assert_eq!(
        c.token()
            .of_user_in_team("a@example.com", ops_id)
            .await
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );

    // Permissions can be switched off and fields the client does not model survive.
    let mut full = c.teams().get(ops_id).await.unwrap();
    full.can_use_sysdig_capture = Some(false);
    full.description = Some("changed".into());
    let before_extra = full.extra.clone();
    let saved = c.teams().update(&full).await.unwrap();
    assert_eq!(saved.can_use_sysdig_capture, Some(false));
    assert_eq!(saved.description.as_deref(), Some("changed"));
    for k in before_extra.keys() {
        if !["version", "lastUpdated", "modifiedOn"].contains(&k.as_str()) {
            assert!(saved.extra.contains_key(k), "lost {k}");
        }
    }
    assert_eq!(err(c.teams().update(&full).await).0, Some(409));

    // A team can be emptied.
    let t = c
        .teams()
        .remove_memberships("ops", &["a@example.com".into(), "b@example.com".into()])
        .await
        .unwrap();
    assert!(
        t.user_roles
            .unwrap_or_default()
            .iter()
            .all(|r| r.user_name.as_deref() != Some("a@example.com"))
    );
    assert!(
        !c.teams()
            .memberships("ops")
            .await
            .unwrap()
            .contains_key("b@example.com")
    );

    c.teams().delete(ops_id).await.unwrap();
    assert_eq!(err(c.teams().get(ops_id).await).0, Some(404));
    let default = all.iter().find(|t| t.name == "Monitor Operations").unwrap();
    assert_eq!(
        err(c.teams().delete(default.id.unwrap()).await).0,
        Some(422)
    );
}

#[tokio::test]
async fn notification_channels() {
    let env = Env::start().await;
    let c = env.admin();
    let wanted = [
        Channel::email("mail", ["ops@example.com", "dev@example.com"]),
        Channel::webhook("hook", "http://127.0.0.1:9/hook"),
        Channel::slack(
            "slack",
            "https://hooks.slack.invalid/x",
            Some("#alerts".into()),
        ),
        Channel::pagerduty("pd", "acct", "key-1", "svc"),
        Channel::sns("sns", ["arn:aws:sns:us-east-1:1:t"]),
        Channel::opsgenie("genie", "og-key"),
        Channel::victorops("vo", "vo-key", "route"),
    ];
    let mut ids = Vec::new();
    for w in &wanted {
        let made = c.channels().create(w).await.unwrap();
        assert_eq!(made.kind, w.kind);
        assert_eq!(made.options.email_recipients, w.options.email_recipients);
        ids.push(made.id.unwrap());
    }
    assert_eq!(c.channels().list().await.unwrap().len(), wanted.len());
    assert_eq!(c.channels().ids(None).await.unwrap().len(), wanted.len());
    // sdcclient's matching rules: recipients as a set, PagerDuty by account + service.
    let probe = [
        Channel::email("other name", ["dev@example.com", "ops@example.com"]),
        Channel::pagerduty("x", "acct", "other", "svc"),
        Channel::webhook("hook", ""),
    ];
    assert_eq!(
        c.channels().ids(Some(&probe)).await.unwrap(),
        vec![ids[0], ids[3], ids[1]]
    );
    assert!(
        err(c
            .channels()
            .ids(Some(&[Channel::webhook("nope", "")]))
            .await)
        .1
        .starts_with("Channel not found: ")
    );

    let mut ch = c.channels().get(ids[1]).await.unwrap();
    let stale = ch.clone();
    ch.name = "hook 2".into();
    ch.options.url = Some("http://127.0.0.1:9/other".into());
    let saved = c.channels().update(&ch).await.unwrap();
    assert_eq!(saved.name, "hook 2");
    assert_eq!(err(c.channels().update(&stale).await).0, Some(409));
    assert_eq!(
        err(c.channels().update(&Channel::webhook("x", "y")).await).1,
        "Invalid channel format"
    );

    c.channels().delete(ids[1]).await.unwrap();
    assert_eq!(err(c.channels().get(ids[1]).await).0, Some(404));
    assert_eq!(err(c.channels().delete(ids[1]).await).0, Some(404));
}

#[tokio::test]
async fn alerts_and_notifications() {
    let env = Env::start().await;
    let c = env.admin();
    let ch = c
        .channels()
        .create(&Channel::email("mail", ["ops@example.com"]))
        .await
        .unwrap();
    let a = Alert::manual("cpu busy", "avg(cpu.used.percent) > 80")
        .description("too busy")
        .severity(2)
        .for_at_least_s(600)
        .segment_by(vec!["host.hostName".into()], "ANY")
        .notify(vec![ch.id.unwrap()]);
    let made = c.alerts().create(&a).await.unwrap();
    let id = made.id.unwrap();
    assert_eq!(made.timespan, Some(600_000_000));
    assert_eq!(made.severity_label.as_deref(), Some("MEDIUM"));
    assert_eq!(made.notification_channel_ids, Some(vec![ch.id.unwrap()]));

    let bad = Alert::manual("bad", "avg(x) > 1").notify(vec![424_242]);
    assert_eq!(err(c.alerts().create(&bad).await).0, Some(422));
    assert_eq!(
        err(c.alerts().create(&Alert::default()).await).1,
        "Must specify a full Alert object or all parameters: name, description, severity, for_atleast_s, condition"
    );

    let mut got = c.alerts().get(id).await.unwrap();
    let stale = got.clone();
    got.enabled = Some(false);
    got.name = "cpu very busy".into();
    let saved = c.alerts().update(&got).await.unwrap();
    assert_eq!(saved.enabled, Some(false));
    assert_eq!(saved.segment_by, Some(vec!["host.hostName".to_string()]));
    assert_eq!(err(c.alerts().update(&stale).await).0, Some(409));
    assert_eq!(c.alerts().list().await.unwrap().len(), 1);

    // Notifications, recorded through the emulator's injection route.
    let now_us = jiff::Timestamp::now().as_microsecond();
    for (state, back) in [("ACTIVE", 120), ("OK", 60)] {
        c.raw(Method::POST, "/vigil/sysdig/notifications")
            .json(&json!({"notification": {"alert": id, "state": state, "value": 91.5, "timestamp": now_us - back * 1_000_000}}))
            .unwrap()
            .send()
            .await
            .unwrap();
    }
    let now = jiff::Timestamp::now().as_second();
    let all = c
        .alerts()
        .notifications(now - 3600, now + 60)
        .send()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let active = c
        .alerts()
        .notifications(now - 3600, now + 60)
        .state("ACTIVE")
        .send()
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    let n = c.alerts().set_resolved(&active[0], true).await.unwrap();
    assert_eq!(n.resolved, Some(true));
    let resolved = c
        .alerts()
        .notifications(now - 3600, now + 60)
        .resolved(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resolved.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![n.id]
    );
    let back = c.alerts().resolve_id(n.id, false, 3600).await.unwrap();
    assert_eq!(back.resolved, Some(false));
    assert!(
        c.alerts()
            .notifications(now - 7200, now - 3600)
            .send()
            .await
            .unwrap()
            .is_empty()
    );

    c.alerts().delete(id).await.unwrap();
    assert_eq!(err(c.alerts().get(id).await).0, Some(404));
    assert_eq!(err(c.alerts().delete(id).await).0, Some(404));
}

#[tokio::test]
async fn dashboards() {
    let env = Env::start().await;
    let c = env.admin();
    let d = c.dashboards();
    let made = d.create(&Dashboard::new("web")).await.unwrap();
    let id = made.id.unwrap();
    // A panel on an empty dashboard (sdcclient: IndexError).
    let one = d
        .add_panel(id, "CPU", PanelKind::Timechart, "avg(cpu_used_percent)")
        .await
        .unwrap();
    assert_eq!(one.panels.as_ref().unwrap()[0].id, 1);
    let two = d
        .add_panel(id, "Mem", PanelKind::Number, "avg(memory_used_percent)")
        .await
        .unwrap();
    let panels = two.panels.unwrap();
    assert_eq!(panels.len(), 2);
    assert_eq!(panels[1].kind.as_deref(), Some("advancedNumber"));
    assert_eq!(two.layout.unwrap().len(), 2);
    let removed = d.remove_panel(id, 1).await.unwrap();
    assert_eq!(
        removed
            .panels
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(err(d.remove_panel(id, 77).await).1, "Panel 77 not found");

    assert_eq!(d.favorite(id, true).await.unwrap().favorite, Some(true));
    let shared = d.share_with_all_teams(id, false).await.unwrap();
    assert_eq!(shared.shared, Some(true));
    assert_eq!(
        shared.sharing_settings.unwrap()[0].role,
        "ROLE_RESOURCE_READ"
    );
    let team = c.teams().list(Some("SDC")).await.unwrap()[0].id.unwrap();
    let t = d.share_with_team(id, team, true).await.unwrap();
    assert!(
        t.sharing_settings
            .unwrap()
            .iter()
            .any(|s| s.member["id"] == team && s.role == "ROLE_RESOURCE_EDIT")
    );
    let un = d.unshare(id).await.unwrap();
    assert_eq!(un.shared, Some(false));
    assert!(un.sharing_settings.unwrap_or_default().is_empty());
    // The favourite survived the PUTs made for sharing.
    assert_eq!(un.favorite, Some(true));

    let templates = d.templates().await.unwrap();
    assert!(!templates.is_empty());
    let tpl = d.template(&templates[0].dashboard_id).await.unwrap();
    assert!(!tpl.name.is_empty());
    let from_view = d
        .create_from_view(
            "from view",
            &templates[0].name,
            Some("kubernetes.namespace.name in [prod, dev]"),
            false,
            false,
        )
        .await
        .unwrap();
    let scope = from_view.scope_expression_list.unwrap();
    assert_eq!(scope[0].operator, "in");
    assert_eq!(scope[0].value, vec!["prod", "dev"]);
    assert_eq!(from_view.extra["timeMode"], json!({"mode": 1}));
    assert_eq!(
        err(d
            .create_from_view("x", "no such view", None, false, false)
            .await)
        .1,
        "view no such view not found"
    );
    assert!(
        err(d
            .create_from_view("x", &templates[0].name, Some("foobarbaz"), false, false)
            .await)
        .1
        .starts_with("invalid scope: foobarbaz")
    );

    let copy = d
        .create_from_dashboard("web copy", "web", Some("host.hostName = web1"), true, false)
        .await
        .unwrap();
    assert_eq!(copy.panels.as_ref().map(Vec::len), Some(1));
    assert_eq!(copy.shared, Some(true));
    assert_eq!(
        err(d
            .create_from_dashboard("x", "missing", None, false, false)
            .await)
        .1,
        "can't find dashboard missing to use as a template"
    );
    let copy2 = d.copy(id, "web copy 2").await.unwrap();
    assert_ne!(copy2.id, Some(id));
    assert_eq!(d.find_by_name("web copy 2").await.unwrap().len(), 1);

    let light = d.list(true).await.unwrap();
    assert_eq!(light.len(), 4);
    let full = d.list(false).await.unwrap();
    assert!(full.iter().all(|x| x.panels.is_some()));

    let mut cur = d.get(id).await.unwrap();
    let stale = cur.clone();
    cur.description = Some("d".into());
    d.update(&cur).await.unwrap();
    assert_eq!(err(d.update(&stale).await).0, Some(409));

    d.delete(id).await.unwrap();
    // An unknown dashboard is a bare 404: sdcclient's "status code 404".
    assert_eq!(
        err(d.delete(id).await),
        (Some(404), "status code 404".into())
    );
    assert_eq!(err(d.get(id).await).1, "status code 404");
}

#[tokio::test]
async fn events() {
    let env = Env::start().await;
    let c = env.admin();
    let mut ids = Vec::new();
    for i in 0..5 {
        let e = c
            .events()
            .post(
                &NewEvent::new(format!("deploy-{}", i % 2))
                    .description("rollout")
                    .severity(4)
                    .scope("host.hostName='web1'")
                    .tag("app", "shop"),
            )
            .await
            .unwrap();
        ids.push(e.id.unwrap());
    }
    let got = c.events().get(&ids[0]).await.unwrap();
    assert_eq!(got.scope.as_deref(), Some("host.hostName = 'web1'"));
    assert_eq!(got.tags.unwrap()["app"], "shop");

    let page = c.events().list().send().await.unwrap();
    assert_eq!(page.events.len(), 5);
    assert_eq!(page.total, 5);
    let named = c.events().list().name("deploy-1").send().await.unwrap();
    assert_eq!(named.events.len(), 2);
    assert!(
        c.events()
            .list()
            .name("none")
            .send()
            .await
            .unwrap()
            .events
            .is_empty()
    );
    let limited = c.events().list().limit(2).send().await.unwrap();
    assert_eq!(limited.events.len(), 2);
    // The stream follows `pivot` across pages of 2 and sees each event once.
    let all: Vec<_> = c
        .events()
        .list()
        .limit(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut seen: Vec<String> = all.iter().map(|e| e.id.clone().unwrap()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "{all:?}");
    assert_eq!(all.len(), 5);
    let custom: Vec<_> = c
        .events()
        .list()
        .categories(["custom"])
        .statuses(["triggered"])
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(custom.len(), 5);
    let now = jiff::Timestamp::now().as_millisecond();
    let old = c
        .events()
        .list()
        .window_ms(Some(now - 7_200_000), Some(now - 3_600_000))
        .send()
        .await
        .unwrap();
    assert!(old.events.is_empty());

    for (op, msg) in [
        (
            ListEvents::new().categories(["nope"]),
            "Invalid category 'nope'",
        ),
        (ListEvents::new().statuses(["x"]), "Invalid status 'x'"),
        (
            ListEvents::new().direction("up"),
            "Invalid direction 'up', must be either 'before' or 'after'",
        ),
        (
            ListEvents::new().window_ms(Some(1), None),
            "only one of 'from_s' or 'to_s' has been specified, both are required when filtering by time",
        ),
        (
            ListEvents::new().window_ms(Some(2), Some(1)),
            "'from_s' must be lower than 'to_s'",
        ),
    ] {
        assert_eq!(err(c.events().list().with(op).send().await).1, msg);
    }

    c.events().delete(&ids[0]).await.unwrap();
    assert_eq!(err(c.events().get(&ids[0]).await).0, Some(404));
}

#[tokio::test]
async fn malformed_bodies_and_unknown_ids() {
    let env = Env::start().await;
    let c = env.admin();
    let (s, m) = err(c
        .raw(Method::POST, "/api/alerts")
        .json(&json!({"alert": {"name": 5}}))
        .unwrap()
        .send()
        .await);
    assert_eq!(s, Some(400), "{m}");
    assert!(!m.is_empty());
    let (s, _) = err(c
        .raw(Method::POST, "/api/alerts")
        .json(&json!([1]))
        .unwrap()
        .send()
        .await);
    assert_eq!(s, Some(400));
    let (s, _) = err(c
        .raw(Method::PUT, "/api/notificationChannels/1")
        .json(&json!("x"))
        .unwrap()
        .send()
        .await);
    assert!(matches!(s, Some(400 | 404)));
    // A body that is not JSON at all.
    let e = c
        .raw(Method::GET, "/api/alerts/not-a-number")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e.status(), Some(400 | 404)), "{e:?}");
    // Version missing on update: 400.
    let a = c
        .alerts()
        .create(&Alert::manual("a", "avg(x) > 1"))
        .await
        .unwrap();
    let mut no_version = a.clone();
    no_version.version = None;
    assert_eq!(err(c.alerts().update(&no_version).await).0, Some(400));
}
