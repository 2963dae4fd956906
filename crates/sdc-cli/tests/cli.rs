//! Every command group of `sdc`: tables, `--json`, and one-line errors with exit codes.

use serde_json::Value;

use crate::common::{ADMIN, ADMIN_TOKEN, Env, IBM_KEY, check_failure, redact, redact_times};

fn id(v: &Value) -> String {
    v["id"].to_string().trim_matches('"').to_string()
}

#[tokio::test]
async fn users_teams_tokens_agents() {
    let env = Env::start().await;
    let me = env.json(&["user", "me"]).await;
    assert_eq!(me["username"], ADMIN);
    assert!(env.ok(&["user", "me"]).await.contains("│ username"));

    let u = env
        .json(&[
            "user",
            "add",
            "jane@example.com",
            "--first-name",
            "Jane",
            "--password",
            "pw-123456",
        ])
        .await;
    let uid = id(&u);
    env.ok(&[
        "user",
        "add",
        "joe@example.com",
        "--invite",
        "--role",
        "ROLE_USER",
    ])
    .await;
    insta::assert_snapshot!("user_list", redact(&env.ok(&["user", "list"]).await));
    assert_eq!(
        env.json(&["user", "get", "jane@example.com"]).await["id"].to_string(),
        uid
    );
    let up = env
        .json(&["user", "update", &uid, "--last-name", "Doe"])
        .await;
    assert_eq!(up["lastName"], "Doe");
    assert_eq!(up["firstName"], "Jane");
    let dup = env.fails(1, &["user", "add", "jane@example.com"]).await;
    assert!(
        dup.contains("User jane@example.com already exists"),
        "{dup}"
    );

    insta::assert_snapshot!(
        "team_list",
        redact(&env.ok(&["team", "list", "--product", "SDC"]).await)
    );
    let t = env
        .json(&[
            "team",
            "add",
            "ops",
            "--description",
            "on call",
            "--member",
            "jane@example.com:ROLE_TEAM_EDIT",
        ])
        .await;
    assert_eq!(t["name"], "ops");
    let members = env
        .json(&[
            "team",
            "add-member",
            "ops",
            "joe@example.com",
            "--role",
            "ROLE_TEAM_READ",
        ])
        .await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    let got = env.ok(&["team", "get", "ops"]).await;
    assert!(
        got.contains("jane@example.com") && got.contains("ROLE_TEAM_READ"),
        "{got}"
    );
    let up = env
        .json(&["team", "update", "ops", "--description", "changed"])
        .await;
    assert_eq!(up["description"], "changed");
    let left = env
        .json(&["team", "del-member", "ops", "joe@example.com"])
        .await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert!(
        env.ok(&["team", "list", "--filter", "op"])
            .await
            .contains("ops")
    );

    // Tokens: own, another user's in a team, reset.
    assert_eq!(env.ok(&["token", "get"]).await.trim(), ADMIN_TOKEN);
    let jane = env
        .ok(&[
            "token",
            "get",
            "--user",
            "jane@example.com",
            "--team",
            "ops",
        ])
        .await;
    let jane = jane.trim().to_string();
    assert_eq!(jane.len(), 36);
    let url = env.url();
    let as_jane = [("SDC_URL", url.as_str()), ("SDC_TOKEN", jane.as_str())];
    let o = env.run_env(&as_jane, &["token", "reset", "--json"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let new: Value = serde_json::from_str(&o.stdout).unwrap();
    let new = new["token"]["key"].as_str().unwrap().to_string();
    assert_ne!(new, jane);
    let o = env.run_env(&as_jane, &["user", "me"]).await;
    check_failure(&o, 1, &["user", "me"]);
    assert_eq!(o.stderr, "sdc: Bad credentials\n");
    let o = env
        .run_env(
            &[("SDC_URL", url.as_str()), ("SDC_TOKEN", new.as_str())],
            &["user", "me", "--json"],
        )
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);

    assert!(env.ok(&["agent", "list"]).await.contains("hostName"));
    assert_eq!(env.json(&["agent", "list"]).await, serde_json::json!([]));

    env.ok(&["team", "del", "ops"]).await;
    assert!(
        env.fails(1, &["team", "get", "ops"])
            .await
            .starts_with("sdc: ")
    );
    assert_eq!(
        env.ok(&["user", "del", "joe@example.com"]).await.trim(),
        "Deleted user joe@example.com"
    );
    assert_eq!(
        env.fails(1, &["user", "del", "joe@example.com"]).await,
        "sdc: User not found"
    );
}

#[tokio::test]
async fn channels_and_alerts() {
    let env = Env::start().await;
    let mail = env
        .json(&[
            "channel",
            "add",
            "email",
            "ops mail",
            "--email",
            "ops@example.com",
            "--email",
            "dev@example.com",
        ])
        .await;
    env.ok(&[
        "channel",
        "add",
        "webhook",
        "hook",
        "--webhook-url",
        "http://127.0.0.1:9/h",
    ])
    .await;
    env.ok(&[
        "channel",
        "add",
        "slack",
        "slack",
        "--webhook-url",
        "https://hooks.slack.invalid/x",
        "--channel",
        "#ops",
    ])
    .await;
    env.ok(&[
        "channel",
        "add",
        "pagerduty",
        "pd",
        "--account",
        "acct",
        "--service-key",
        "k",
        "--service-name",
        "svc",
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ch.json");
    std::fs::write(
        &file,
        r#"{"notificationChannel": {"type": "OPSGENIE", "name": "genie", "enabled": true, "options": {"apiKey": "og"}}}"#,
    )
    .unwrap();
    env.ok(&["channel", "add-json", file.to_str().unwrap()])
        .await;
    insta::assert_snapshot!("channel_list", env.ok(&["channel", "list"]).await);
    let mid = id(&mail);
    assert_eq!(
        env.json(&["channel", "get", &mid]).await["options"]["emailRecipients"][1],
        "dev@example.com"
    );
    let up = env
        .json(&[
            "channel",
            "update",
            &mid,
            "--name",
            "mail 2",
            "--enabled",
            "false",
        ])
        .await;
    assert_eq!(
        (up["name"].as_str(), up["enabled"].as_bool()),
        (Some("mail 2"), Some(false))
    );
    assert_eq!(
        env.fails(1, &["channel", "add", "webhook", "x"]).await,
        "sdc: a WEBHOOK channel needs --webhook-url"
    );

    let a = env
        .json(&[
            "alert",
            "add",
            "cpu busy",
            "avg(cpu.used.percent) > 80",
            "--severity",
            "2",
            "--for",
            "300",
            "--notify",
            &mid,
        ])
        .await;
    let aid = id(&a);
    assert_eq!(a["timespan"], 300_000_000);
    std::fs::write(
        &file,
        r#"{"alert": {"type": "MANUAL", "name": "from json", "condition": "avg(x) > 1", "enabled": false, "severity": 7, "timespan": 60000000, "filter": "", "description": ""}}"#,
    )
    .unwrap();
    env.ok(&["alert", "add-json", file.to_str().unwrap()]).await;
    insta::assert_snapshot!("alert_list", env.ok(&["alert", "list"]).await);
    let got = env.ok(&["alert", "get", &aid]).await;
    assert!(got.contains("avg(cpu.used.percent) > 80"), "{got}");
    let up = env
        .json(&[
            "alert",
            "update",
            &aid,
            "--enabled",
            "false",
            "--severity",
            "0",
        ])
        .await;
    assert_eq!(up["severityLabel"], "HIGH");

    // A notification recorded by the emulator, listed, resolved.
    let now_us = jiff::Timestamp::now().as_microsecond();
    let client = sysdig::Client::builder()
        .use_env(false)
        .url(env.url())
        .token(ADMIN_TOKEN)
        .build()
        .unwrap();
    let n = client
        .raw(http_post(), "/vigil/sysdig/notifications")
        .json(&serde_json::json!({"notification": {"alert": a["id"], "state": "ACTIVE", "value": 93.0, "timestamp": now_us - 5_000_000}}))
        .unwrap()
        .send()
        .await
        .unwrap();
    let nid = n["notification"]["id"].to_string();
    let listed = env
        .json(&[
            "alert",
            "notifications",
            "--from",
            "-3600",
            "--state",
            "ACTIVE",
        ])
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        env.json(&["alert", "notifications", "--resolved", "true"])
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = env.json(&["alert", "resolve", &nid]).await;
    assert_eq!(r["resolved"], true);
    assert_eq!(
        env.json(&["alert", "notifications", "--resolved", "true"])
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    env.ok(&["alert", "del", &aid]).await;
    let e = env.fails(1, &["alert", "get", &aid]).await;
    assert!(
        e.starts_with("sdc: ") && e.to_lowercase().contains("not found"),
        "{e}"
    );
    env.ok(&["channel", "del", &mid]).await;
    assert!(
        env.fails(1, &["channel", "get", &mid])
            .await
            .starts_with("sdc: ")
    );
}

fn http_post() -> http::Method {
    http::Method::POST
}

#[tokio::test]
async fn dashboards_and_events() {
    let env = Env::start().await;
    let d = env
        .json(&[
            "dashboard",
            "create",
            "web",
            "--scope",
            "host.hostName = web1",
        ])
        .await;
    let did = id(&d);
    assert_eq!(d["scopeExpressionList"][0]["operator"], "equals");
    let panels = env
        .json(&[
            "dashboard",
            "panel",
            "add",
            &did,
            "CPU",
            "avg(cpu_used_percent)",
        ])
        .await;
    assert_eq!(panels[0]["id"], 1);
    env.ok(&[
        "dashboard",
        "panel",
        "add",
        &did,
        "Mem",
        "avg(mem)",
        "--type",
        "number",
    ])
    .await;
    let left = env.json(&["dashboard", "panel", "del", &did, "1"]).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(
        env.json(&["dashboard", "fav", &did]).await["favorite"],
        true
    );
    assert_eq!(
        env.json(&["dashboard", "share", &did]).await["shared"],
        true
    );
    assert_eq!(
        env.json(&["dashboard", "unshare", &did]).await["shared"],
        false
    );
    assert_eq!(
        env.json(&["dashboard", "unfav", &did]).await["favorite"],
        false
    );
    let copy = env.json(&["dashboard", "copy", &did, "web copy"]).await;
    assert_eq!(copy["name"], "web copy");
    let templates = env.json(&["dashboard", "templates"]).await;
    let view = templates[0]["name"].as_str().unwrap().to_string();
    env.ok(&["dashboard", "create", "from view", "--from-view", &view])
        .await;
    env.ok(&[
        "dashboard",
        "create",
        "from dash",
        "--from-dashboard",
        "web",
        "--shared",
    ])
    .await;
    insta::assert_snapshot!("dashboard_list", env.ok(&["dashboard", "list"]).await);
    assert!(env.ok(&["dashboard", "get", &did]).await.contains("│ name"));
    assert!(
        env.fails(1, &["dashboard", "create", "x", "--scope", "foobarbaz"])
            .await
            .starts_with("sdc: invalid scope: foobarbaz")
    );
    env.ok(&["dashboard", "delete", &did]).await;
    assert_eq!(
        env.fails(1, &["dashboard", "get", &did]).await,
        "sdc: status code 404"
    );

    for i in 0..3 {
        env.ok(&[
            "event",
            "post",
            &format!("deploy {i}"),
            "--scope",
            "host.hostName='web1'",
            "--tag",
            "app=shop",
            "--severity",
            "4",
        ])
        .await;
    }
    let all = env.json(&["event", "list", "--limit", "2", "--all"]).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let one = env.json(&["event", "list", "--name", "deploy 1"]).await;
    let eid = id(&one[0]);
    assert_eq!(one[0]["scope"], "host.hostName = 'web1'");
    insta::assert_snapshot!(
        "event_list",
        redact(&redact_times(
            &env.ok(&["event", "list", "--name", "deploy 1"]).await
        ))
    );
    assert_eq!(
        env.json(&["event", "get", &eid]).await["tags"]["app"],
        "shop"
    );
    assert_eq!(
        env.fails(1, &["event", "list", "--category", "bogus"])
            .await,
        "sdc: Invalid category 'bogus'"
    );
    assert_eq!(
        env.fails(1, &["event", "list", "--from", "10"]).await,
        "sdc: only one of 'from_s' or 'to_s' has been specified, both are required when filtering by time"
    );
    env.ok(&["event", "del", &eid]).await;
    assert!(
        env.fails(1, &["event", "get", &eid])
            .await
            .starts_with("sdc: ")
    );
}

#[tokio::test]
async fn ibm_errors_usage_and_completion() {
    let env = Env::start().await;
    let url = env.url();
    let ibm = [
        ("SDC_URL", url.as_str()),
        ("SDC_IBM_APIKEY", IBM_KEY),
        ("SDC_IBM_INSTANCE_ID", "vigil-local"),
        ("SDC_IBM_IAM_URL", url.as_str()),
    ];
    let o = env.run_env(&ibm, &["user", "me", "--json"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(ADMIN));
    let o = env
        .run_env(&ibm, &["token", "get", "--team", "Monitor Operations"])
        .await;
    assert_eq!((o.code, o.stdout.trim()), (0, ADMIN_TOKEN), "{}", o.stderr);
    // The API key never shows, even in errors.
    let bad = [
        ("SDC_URL", url.as_str()),
        ("SDC_IBM_APIKEY", "wrong-secret-key"),
        ("SDC_IBM_INSTANCE_ID", "vigil-local"),
        ("SDC_IBM_IAM_URL", url.as_str()),
    ];
    let o = env.run_env(&bad, &["user", "me"]).await;
    check_failure(&o, 1, &["user", "me"]);
    assert!(
        o.stderr.contains("Provided API key could not be found"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("wrong-secret-key"));
    let o = env
        .run_env(
            &[("SDC_URL", url.as_str()), ("SDC_IBM_APIKEY", "k")],
            &["user", "me"],
        )
        .await;
    check_failure(&o, 1, &[]);

    // No credentials, a bad token, an unreachable server: one line, exit 1.
    let o = env
        .run_env(&[("SDC_URL", url.as_str())], &["user", "me"])
        .await;
    check_failure(&o, 1, &[]);
    assert!(o.stderr.starts_with("sdc: no credentials"), "{}", o.stderr);
    let o = env
        .run_env(
            &[("SDC_URL", url.as_str()), ("SDC_TOKEN", "nope")],
            &["alert", "list"],
        )
        .await;
    assert_eq!(o.stderr, "sdc: Bad credentials\n");
    let o = env
        .run_env(
            &[("SDC_TOKEN", "x")],
            &[
                "--url",
                "http://127.0.0.1:9",
                "--timeout",
                "5",
                "user",
                "me",
            ],
        )
        .await;
    check_failure(&o, 1, &[]);
    assert!(!o.stderr.contains("\"x\""));
    // Flags win over the environment.
    let o = env
        .run_env(
            &[("SDC_URL", "http://127.0.0.1:9"), ("SDC_TOKEN", "nope")],
            &[
                "--url",
                &url,
                "--token",
                ADMIN_TOKEN,
                "user",
                "me",
                "--json",
            ],
        )
        .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Usage errors are clap's: exit 2.
    assert_eq!(env.run(&["alert", "get", "not-a-number"]).await.code, 2);
    assert_eq!(env.run(&["bogus"]).await.code, 2);
    assert_eq!(
        env.run(&["--insecure", "--ca-bundle", "/x", "user", "me"])
            .await
            .code,
        2
    );

    let bash = env.ok(&["completion", "bash"]).await;
    assert!(bash.contains("_sdc()"), "{bash}");
    let help = env.ok(&["--help"]).await;
    assert!(!help.contains(ADMIN_TOKEN));
}

#[tokio::test]
async fn channel_test_and_deliveries() {
    let env = Env::start().await;
    let hooks = vigil_testkit::receiver::Receiver::start().await;
    let url = format!("{}/hook", hooks.url);
    let ch: serde_json::Value = serde_json::from_str(
        &env.ok(&[
            "channel",
            "add",
            "webhook",
            "ops hook",
            "--webhook-url",
            &url,
            "--json",
        ])
        .await,
    )
    .unwrap();
    let id = ch["id"].to_string();
    let out = env.ok(&["channel", "test", &id]).await;
    assert!(out.trim_end().ends_with("delivered (HTTP 200 OK)"), "{out}");
    let got = hooks.wait("/hook", 1).await;
    assert_eq!(got[0].body["state"], "ACTIVE");
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["channel", "deliveries", &id, "--json"]).await).unwrap();
    assert_eq!(listed[0]["status"], "DELIVERED");
    let err = env.fails(1, &["channel", "test", "999999"]).await;
    assert!(err.to_lowercase().contains("not found"), "{err}");
}

#[tokio::test]
async fn promql_reads_what_the_monasca_api_wrote() {
    let env = Env::start_reading("promql-demo").await;
    let now = jiff::Timestamp::now().as_second();
    let body: Vec<serde_json::Value> = [("web1", 42.0), ("web2", 8.0)]
        .iter()
        .map(|(h, v)| {
            serde_json::json!({"name": "cpu.used.percent", "dimensions": {"hostname": h},
                               "timestamp": now * 1000, "value": v})
        })
        .collect();
    let (status, _) = vigil_testkit::raw(
        http::Method::POST,
        &format!("{}/v2.0/metrics", env.url()),
        Some("promql-demo"),
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let t = now.to_string();
    let out = env
        .ok(&[
            "promql",
            "query",
            "sum(cpu:used:percent)",
            "--time",
            &t,
            "--json",
        ])
        .await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["resultType"], "vector");
    assert_eq!(v["result"][0]["value"]["value"], 50.0);
    let table = env
        .ok(&["promql", "query", "cpu:used:percent", "--time", &t])
        .await;
    assert!(
        table.contains(r#"cpu:used:percent{hostname="web1"}"#),
        "{table}"
    );
    let csv = env
        .ok(&[
            "promql",
            "query",
            "sort(cpu:used:percent)",
            "--time",
            &t,
            "--csv",
        ])
        .await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "series,time,value", "{csv}");
    assert!(
        lines[1].starts_with(r#""cpu:used:percent{hostname=""web2""}","#),
        "{csv}"
    );
    assert!(lines[1].ends_with(",8.0"), "{csv}");
    let range = env
        .ok(&[
            "promql",
            "range",
            "max(cpu:used:percent)",
            "--start",
            &(now - 60).to_string(),
            "--end",
            &t,
            "--step",
            "30",
            "--json",
        ])
        .await;
    let v: serde_json::Value = serde_json::from_str(&range).unwrap();
    assert_eq!(v["resultType"], "matrix");
    // Only the last step has a sample within its lookback (the one point is at `now`).
    let values = v["result"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 1, "{values:?}");
    assert_eq!(values[0]["value"], 42.0);
    assert!(env.ok(&["promql", "labels"]).await.contains("hostname"));
    assert!(
        env.ok(&["promql", "values", "hostname"])
            .await
            .contains("web2")
    );
    assert!(
        env.ok(&["promql", "series", "cpu:used:percent"])
            .await
            .contains("web1")
    );
    let err = env.fails(1, &["promql", "query", "sum(cpu"]).await;
    assert!(err.contains("parse error"), "{err}");
}

#[tokio::test]
async fn data_query_groups_monasca_metrics() {
    let env = Env::start_reading("data-demo").await;
    let now = jiff::Timestamp::now().as_millisecond();
    let body: Vec<serde_json::Value> = [("h1", 80.0), ("h2", 20.0)]
        .iter()
        .map(|(h, v)| {
            serde_json::json!({"name": "cpu.used.percent", "dimensions": {"hostname": h},
                               "timestamp": now, "value": v})
        })
        .collect();
    let (status, _) = vigil_testkit::raw(
        http::Method::POST,
        &format!("{}/v2.0/metrics", env.url()),
        Some("data-demo"),
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let out = env
        .ok(&[
            "data",
            "query",
            "--metric",
            "cpu.used.percent:timeAvg:avg",
            "--key",
            "hostname",
            "--json",
        ])
        .await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows: Vec<&serde_json::Value> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["d"])
        .collect();
    assert_eq!(
        rows,
        vec![
            &serde_json::json!(["h1", 80.0]),
            &serde_json::json!(["h2", 20.0])
        ]
    );
    let table = env
        .ok(&["data", "query", "--metric", "cpu.used.percent:max:sum"])
        .await;
    assert!(table.contains("100"), "{table}");
    assert!(
        env.ok(&["data", "metrics"])
            .await
            .contains("cpu.used.percent")
    );
    let err = env.fails(1, &["data", "query", "--metric", "cpu:x"]).await;
    assert!(err.contains("ID:TIME:GROUP"), "{err}");
}
