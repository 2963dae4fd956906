//! First-hour polish of `sdc`: input Sysdig would refuse stops before any request, tables show
//! times and spans readably while `--json` stays raw, every command is described and named
//! alike, and output into a closed pipe (`| head`) is no error.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use crate::common::{ADMIN_TOKEN, Env, row};

fn id(v: &Value) -> String {
    v["id"].to_string().trim_matches('"').to_string()
}

#[tokio::test]
async fn input_sysdig_refuses_is_one_line_and_status_1() {
    let env = Env::start().await;
    assert_eq!(
        env.fails(1, &["alert", "add", "cpu", "avg(x) >>> 80"])
            .await,
        "sdc: invalid condition \"avg(x) >>> 80\": expected a number after '>', found '>'"
    );
    let e = env.fails(1, &["alert", "add", "cpu", "p99(x) > 1"]).await;
    assert!(e.contains("unknown aggregation 'p99'"), "{e}");
    assert_eq!(
        env.fails(
            1,
            &[
                "channel",
                "add",
                "email",
                "mail",
                "--email",
                "ops@example.com",
                "--email",
                "not-an-email"
            ]
        )
        .await,
        "sdc: \"not-an-email\" is not an e-mail address"
    );
    assert_eq!(
        env.fails(1, &["user", "add", "not-an-email"]).await,
        "sdc: \"not-an-email\" is not an e-mail address"
    );
    // Nothing was created.
    assert_eq!(env.json(&["alert", "list"]).await, json!([]));
    assert_eq!(env.json(&["channel", "list"]).await, json!([]));
    assert_eq!(
        env.json(&["user", "list"]).await.as_array().unwrap().len(),
        1
    );

    let a = env
        .json(&["alert", "add", "cpu", "sum(timeAvg(cpu.used.percent)) > 80"])
        .await;
    let aid = id(&a);
    let e = env
        .fails(1, &["alert", "update", &aid, "--condition", "avg(x) >"])
        .await;
    assert!(e.ends_with("expected a number after '>'"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alert.json");
    std::fs::write(
        &file,
        r#"{"alert": {"type": "MANUAL", "name": "j", "condition": "cpu > 1", "timespan": 60000000}}"#,
    )
    .unwrap();
    let e = env
        .fails(1, &["alert", "add-json", file.to_str().unwrap()])
        .await;
    assert!(e.contains("expected an aggregation"), "{e}");
    std::fs::write(
        &file,
        r#"{"type": "EMAIL", "name": "m", "options": {"emailRecipients": ["a@b"]}}"#,
    )
    .unwrap();
    assert_eq!(
        env.fails(1, &["channel", "add-json", file.to_str().unwrap()])
            .await,
        "sdc: \"a@b\" is not an e-mail address"
    );
    // A severity outside 0..=7 is a usage error (clap's, status 2).
    let o = env
        .run(&["alert", "add", "x", "avg(x) > 1", "--severity", "8"])
        .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[tokio::test]
async fn tables_show_instants_and_spans_json_stays_raw() {
    let env = Env::start().await;
    let a = env
        .json(&[
            "alert",
            "add",
            "slow",
            "timeAvg(cpu.used.percent) >= 90",
            "--for",
            "5400",
        ])
        .await;
    assert_eq!(a["timespan"], 5_400_000_000_u64);
    let aid = id(&a);
    let shown = env.ok(&["alert", "get", &aid]).await;
    assert_eq!(row(&shown, "timespan").as_deref(), Some("1h30m"), "{shown}");
    let created = jiff::Timestamp::from_millisecond(a["createdOn"].as_i64().unwrap()).unwrap();
    let utc = created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(row(&shown, "createdOn"), Some(utc), "{shown}");
    assert!(env.ok(&["alert", "ls"]).await.contains("┆ 1h30m "));

    // A notification at a known microsecond: UTC by default, the local zone with --local.
    let client = sysdig::Client::builder()
        .use_env(false)
        .url(env.url())
        .token(ADMIN_TOKEN)
        .build()
        .unwrap();
    client
        .raw(http::Method::POST, "/vigil/sysdig/notifications")
        .json(&json!({"notification": {"alert": a["id"], "state": "ACTIVE", "timestamp": 1_704_164_645_123_456_i64}}))
        .unwrap()
        .send()
        .await
        .unwrap();
    let window = [
        "alert",
        "notifications",
        "--from",
        "1704160000",
        "--to",
        "1704170000",
    ];
    let url = env.url();
    let india = [
        ("SDC_URL", url.as_str()),
        ("SDC_TOKEN", ADMIN_TOKEN),
        ("TZ", "IST-5:30"),
    ];
    let table = env.run_env(&india, &window).await.ok(&window);
    assert!(table.contains("┆ 2024-01-02T03:04:05Z │"), "{table}");
    let local_args = [&window[..], &["--local"]].concat();
    let table = env.run_env(&india, &local_args).await.ok(&local_args);
    assert!(table.contains("┆ 2024-01-02T08:34:05+05:30 │"), "{table}");
    let raw = env.json(&window).await;
    assert_eq!(raw[0]["timestamp"], 1_704_164_645_123_456_i64);
    // A notification of a segmented alert names its segment in the table.
    client
        .raw(http::Method::POST, "/vigil/sysdig/notifications")
        .json(&json!({"notification": {"alert": a["id"], "state": "ACTIVE", "timestamp": 1_704_164_700_000_000_i64,
            "entities": [{"entity": "host.hostName = 'web-1'", "metricValues": []}]}}))
        .unwrap()
        .send()
        .await
        .unwrap();
    let table = env.ok(&window).await;
    assert!(table.contains("segment"), "{table}");
    assert!(table.contains("host.hostName = 'web-1'"), "{table}");
    assert_eq!(raw[0]["timespan"], 5_400_000_000_u64);

    // Events count milliseconds.
    let e = env.json(&["event", "post", "deploy"]).await;
    let at = jiff::Timestamp::from_millisecond(e["timestamp"].as_i64().unwrap()).unwrap();
    let shown = env.ok(&["event", "get", &id(&e)]).await;
    assert_eq!(
        row(&shown, "timestamp"),
        Some(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    );
}

#[tokio::test]
async fn names_are_alike_and_old_ones_still_work() {
    let env = Env::start().await;
    let help = env.ok(&["alert", "--help"]).await;
    assert!(
        help.contains("delete") && help.contains("[aliases: del, rm]"),
        "{help}"
    );
    assert!(help.contains("All alerts [alias: ls]"), "{help}");
    for del in ["delete", "del", "rm"] {
        let ev = env.json(&["event", "post", "e"]).await;
        env.ok(&["event", del, &id(&ev)]).await;
    }
    assert_eq!(env.json(&["event", "ls"]).await, json!([]));
    env.ok(&[
        "team",
        "add",
        "ops",
        "--member",
        &format!("{}:ROLE_TEAM_EDIT", crate::common::ADMIN),
    ])
    .await;
    let left = env
        .json(&["team", "remove-member", "ops", crate::common::ADMIN])
        .await;
    assert_eq!(left, json!([]));
}

/// Runs `sdc` into a pipe whose reading end is already closed (a `head` that stopped
/// reading): every write fails with EPIPE. The exit code and stderr.
async fn into_closed_pipe(env: &Env, args: &[&str]) -> (i32, String) {
    let url = env.url();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(env!("CARGO_BIN_EXE_sdc"))
            .args(&args)
            .env_clear()
            .envs([("SDC_URL", url.as_str()), ("SDC_TOKEN", ADMIN_TOKEN)])
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8(o.stderr).unwrap(),
        )
    })
    .await
    .unwrap()
}

/// `sdc <args> | head -1`: reads one line, then closes the pipe while `sdc` still writes.
async fn into_head(env: &Env, args: &[&str]) -> (String, i32, String) {
    let url = env.url();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sdc"))
            .args(&args)
            .env_clear()
            .envs([("SDC_URL", url.as_str()), ("SDC_TOKEN", ADMIN_TOKEN)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let o = child.wait_with_output().unwrap();
        (
            first,
            o.status.code().unwrap_or(-1),
            String::from_utf8(o.stderr).unwrap(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_closed_pipe_is_no_error() {
    let env = Env::start().await;
    // Far more than a pipe holds, so `sdc` is still writing when the reader goes away.
    let client = sysdig::Client::builder()
        .use_env(false)
        .url(env.url())
        .token(ADMIN_TOKEN)
        .build()
        .unwrap();
    for i in 0..400 {
        let e = sysdig::events::NewEvent::new(format!("event number {i}"));
        client.events().post(&e).await.unwrap();
    }
    let long_json = ["event", "list", "--all", "--limit", "1000", "--json"];
    for args in [&["completion", "bash"][..], &long_json] {
        let (first, code, stderr) = into_head(&env, args).await;
        assert!(!first.is_empty(), "{args:?}");
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
    for args in [
        &["completion", "bash"][..],
        &["--help"],
        &["alert", "--help"],
        &["event", "list", "--limit", "1000"],
        &long_json,
        &["user", "me"],
    ] {
        let (code, stderr) = into_closed_pipe(&env, args).await;
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
}
