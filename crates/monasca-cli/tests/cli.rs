use std::process::Command;

use crate::common::Env;

/// 2026-01-01T00:00:00Z in epoch milliseconds.
const T0: i64 = 1_767_225_600_000;

async fn seed(env: &Env) {
    for (i, host) in ["web1", "web2"].iter().enumerate() {
        for p in 0..3i64 {
            let ts = (T0 + p * 60_000).to_string();
            let value = format!("{}", 10.5 * (p + 1) as f64 + i as f64);
            let dims = format!("hostname={host},service=compute");
            let mut args = vec![
                "metric-create",
                "cpu.idle_perc",
                &value,
                "--dimensions",
                &dims,
                "--time",
                &ts,
            ];
            if p == 1 {
                args.extend(["--value-meta", "msg=ok,code=3"]);
            }
            assert_eq!(env.ok(&args).await, "Successfully created metric\n");
        }
    }
    let raw = format!(
        r#"{{"name":"mem.free_mb","value":512,"timestamp":{T0},"dimensions":{{"hostname":"db1"}}}}"#
    );
    assert_eq!(
        env.ok(&["metric-create-raw", &raw]).await,
        "Successfully created metric\n"
    );
}

#[tokio::test]
async fn list_commands_print_tables_and_json() {
    let env = Env::start().await;
    seed(&env).await;
    insta::assert_snapshot!("metric_list", env.ok(&["metric-list"]).await);
    insta::assert_snapshot!(
        "metric_list_json",
        env.ok(&["metric-list", "-j", "--name", "mem.free_mb"])
            .await
    );
    insta::assert_snapshot!("metric_name_list", env.ok(&["metric-name-list"]).await);
    insta::assert_snapshot!(
        "measurement_list",
        env.ok(&[
            "measurement-list",
            "cpu.idle_perc",
            "2026-01-01T00:00:00Z",
            "--dimensions",
            "hostname=web1"
        ])
        .await
    );
    insta::assert_snapshot!(
        "measurement_list_json",
        env.ok(&[
            "measurement-list",
            "cpu.idle_perc",
            "2026-01-01T00:00:00Z",
            "--dimensions",
            "hostname=web2",
            "--json"
        ])
        .await
    );
    insta::assert_snapshot!(
        "measurement_list_group_by",
        env.ok(&[
            "measurement-list",
            "cpu.idle_perc",
            "2026-01-01T00:00:00Z",
            "--group_by",
            "*",
            "--limit",
            "4"
        ])
        .await
    );
    insta::assert_snapshot!(
        "metric_statistics",
        env.ok(&[
            "metric-statistics",
            "cpu.idle_perc",
            "avg,min,max,count,sum",
            "2026-01-01T00:00:00Z",
            "--merge_metrics",
            "--period",
            "60"
        ])
        .await
    );
    insta::assert_snapshot!(
        "metric_statistics_json",
        env.ok(&[
            "metric-statistics",
            "-j",
            "cpu.idle_perc",
            "AVG,count",
            "2026-01-01T00:00:00Z",
            "--dimensions",
            "hostname=web1"
        ])
        .await
    );
    insta::assert_snapshot!(
        "dimension_name_list",
        env.ok(&["dimension-name-list", "--metric-name", "cpu.idle_perc"])
            .await
    );
    insta::assert_snapshot!(
        "dimension_value_list",
        env.ok(&["dimension-value-list", "hostname"]).await
    );
    insta::assert_snapshot!(
        "dimension_value_list_json",
        env.ok(&["dimension-value-list", "hostname", "-j", "--limit", "2"])
            .await
    );

    // Empty results: a blank line in table mode, [] in JSON mode.
    assert_eq!(env.ok(&["metric-list", "--name", "nothing"]).await, "\n");
    assert_eq!(
        env.ok(&["metric-list", "--name", "nothing", "-j"]).await,
        "[]\n"
    );
    // Another tenant sees nothing.
    let o = env.run_as("globex", &["metric-name-list", "-j"]).await;
    assert_eq!((o.code, o.stdout.as_str()), (0, "[]\n"));
}

#[tokio::test]
async fn relative_start_times_and_default_timestamps() {
    let env = Env::start().await;
    // No --time: the CLI stamps the metric with the current time.
    env.ok(&["metric-create", "recent", "1", "--dimensions", "a=b"])
        .await;
    let out = env.ok(&["measurement-list", "recent", "-5", "-j"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["measurements"].as_array().unwrap().len(), 1);
    let out = env.ok(&["metric-list", "--starttime", "-5", "-j"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    // A start time after the point finds nothing.
    let out = env
        .ok(&["metric-list", "--starttime", "2999-01-01T00:00:00Z", "-j"])
        .await;
    assert_eq!(out, "[]\n");
}

// Multi-threaded: the blocking `cmd` calls below must not stall the in-process server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_one_line_and_non_zero() {
    let env = Env::start().await;
    seed(&env).await;
    let o = env.run(&["metric-create", "bad name", "1"]).await;
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Unprocessable Entity (HTTP 422): invalid characters in metric name: bad name\n"
    );
    let o = env
        .run(&["measurement-list", "cpu.idle_perc", "2026-01-01T00:00:00Z"])
        .await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("MultipleMetrics (HTTP 409): Found multiple metrics"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.lines().count(), 1);
    let o = env
        .run(&["metric-statistics", "cpu.idle_perc", "avg,median", "-5"])
        .await;
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "Invalid type, not one of [AVG, MIN, MAX, COUNT, SUM]\n")
    );
    let o = env
        .run(&["metric-create", "m", "1", "--dimensions", "novalue"])
        .await;
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            "Malformed parameter(novalue). Use the key=value format.\n"
        )
    );
    let o = env.run(&["metric-create", "m", "abc"]).await;
    assert_eq!(o.code, 2, "usage errors exit 2 as argparse does");
    let o = env
        .run(&["measurement-list", "cpu.idle_perc", "-1.5"])
        .await;
    assert_eq!(o.code, 1);
    let o = env.run(&["metric-list", "--limit", "x"]).await;
    assert_eq!(o.code, 2);

    // No endpoint, no token, unreachable server: one line each.
    let cmd = |envs: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_monasca"));
        c.env_clear().arg("metric-list");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let o = cmd(&[("OS_AUTH_TOKEN", "t")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("no Monasca endpoint"));
    let o = cmd(&[("MONASCA_API_URL", "http://127.0.0.1:1/v2.0")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("no token"));
    let o = cmd(&[
        ("MONASCA_API_URL", "http://127.0.0.1:1/v2.0"),
        ("OS_AUTH_TOKEN", "t"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("unable to establish connection to http://127.0.0.1:1/v2.0/metrics"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    // help and bash completion need no connection settings.
    let o = cmd(&[]);
    assert_eq!(o.status.code(), Some(1));
    let help = Command::new(env!("CARGO_BIN_EXE_monasca"))
        .args(["help", "measurement-list"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--merge_metrics"));
    let comp = Command::new(env!("CARGO_BIN_EXE_monasca"))
        .arg("complete")
        .env_clear()
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&comp.stdout).contains("metric-statistics"));
    // Admin-token style variables work as the real CLI's do.
    let url = format!("{}/v2.0", env.server.url());
    let o = cmd(&[
        ("OS_AUTH_TYPE", "admin_token"),
        ("OS_TOKEN", "acme"),
        ("OS_ENDPOINT", &url),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("cpu.idle_perc"));
}

#[test]
fn client_certificate_problems_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("cert.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    for (cert, needle) in [
        ("/nonexistent/cert.pem", "client certificate"),
        (bad.to_str().unwrap(), "invalid client certificate"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_monasca"))
            .arg("metric-list")
            .env_clear()
            .env("MONASCA_API_URL", "http://127.0.0.1:1/v2.0")
            .env("OS_AUTH_TOKEN", "t")
            .env("OS_CERT", cert)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(needle), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timing_verbose_and_log_file() {
    let env = Env::start().await;
    // The timing table goes to stderr: stdout stays the JSON (`-j | jq` works).
    let o = env.run(&["--timing", "metric-name-list", "-j"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "[]\n");
    assert!(o.stderr.contains("| URL "), "{}", o.stderr);
    assert!(o.stderr.contains("| GET http://127.0.0.1:"), "{}", o.stderr);
    assert!(o.stderr.contains("| Total "), "{}", o.stderr);
    let o = env.run(&["-v", "metric-name-list"]).await;
    assert_eq!(o.code, 0);
    assert!(
        o.stderr.contains("GET http://") && o.stderr.contains("/v2.0/metrics/names -> 200 in "),
        "{}",
        o.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("monasca.log");
    let o = env
        .run(&["--log-file", log.to_str().unwrap(), "metric-name-list"])
        .await;
    assert_eq!(o.code, 0);
    assert!(o.stderr.is_empty(), "{}", o.stderr);
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("/v2.0/metrics/names -> 200"), "{written}");
}

#[tokio::test]
async fn output_formatters_select_columns_and_formats() {
    let env = Env::start().await;
    seed(&env).await;
    let args = ["metric-list", "--name", "mem.free_mb"];
    let with = |extra: &[&'static str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        a
    };
    assert_eq!(
        env.ok(&with(&["-f", "csv"])).await,
        "\"name\",\"dimensions\"\n\"mem.free_mb\",\"hostname: db1\"\n"
    );
    assert_eq!(
        env.ok(&with(&["-f", "value", "-c", "name"])).await,
        "mem.free_mb\n"
    );
    assert_eq!(
        env.ok(&with(&["-f", "json", "--noindent"])).await,
        "[{\"name\":\"mem.free_mb\",\"dimensions\":\"hostname: db1\"}]\n"
    );
    assert_eq!(
        env.ok(&with(&["-f", "yaml", "-c", "dimensions"])).await,
        "- dimensions: \"hostname: db1\"\n"
    );
    let err = env.fails(1, &with(&["-c", "nope"])).await;
    assert!(
        err.starts_with("no recognized column names in [\"nope\"]"),
        "{err}"
    );
    // A narrow table wraps its cells.
    let narrow = env.ok(&["metric-list", "--max-width", "20"]).await;
    assert!(narrow.lines().all(|l| l.chars().count() <= 20), "{narrow}");
    // Show commands: one object.
    let created = env
        .json(&["notification-create", "ops", "EMAIL", "ops@example.com"])
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        env.ok(&[
            "notification-show",
            id,
            "-f",
            "value",
            "-c",
            "address",
            "-c",
            "name"
        ])
        .await,
        "\"ops@example.com\"\n\"ops\"\n"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&env.ok(&["notification-show", id, "-f", "json"]).await).unwrap();
    assert_eq!(shown["type"], "EMAIL");
    assert_eq!(shown["period"], 0);
}

#[tokio::test]
async fn first_use_defects_stay_fixed() {
    let env = Env::start().await;
    // Non-finite values are refused before anything is sent.
    for v in ["NaN", "inf", "1e400"] {
        let err = env.fails(1, &["metric-create", "m1", v]).await;
        assert!(err.contains("is not a finite number"), "{v}: {err}");
    }
    assert_eq!(env.ok(&["metric-name-list", "-j"]).await, "[]\n");
    // -q keeps confirmations out.
    assert_eq!(env.ok(&["-q", "metric-create", "m1", "1"]).await, "");
    // A "not found" names what was not found.
    for (args, what) in [
        (vec!["alarm-history", "nope"], "alarm nope not found"),
        (vec!["alarm-show", "nope"], "alarm nope not found"),
        (
            vec!["notification-delete", "nope"],
            "notification nope not found",
        ),
        (
            vec!["alarm-definition-show", "nope"],
            "alarm definition nope not found",
        ),
    ] {
        assert_eq!(
            env.fails(1, &args).await,
            format!("{what} (HTTP 404)\n"),
            "{args:?}"
        );
    }
    // A wrong API base URL is named.
    let url = format!("{}/v3.0", env.url());
    let o = vigil_testkit::cli::run(
        env!("CARGO_BIN_EXE_monasca"),
        &[("MONASCA_API_URL", &url), ("OS_AUTH_TOKEN", "acme")],
        &["metric-list"],
    )
    .await;
    o.failed(1, &["metric-list"]);
    assert!(
        o.stderr.contains(&format!("is {url} a Monasca v2.0 API?")),
        "{}",
        o.stderr
    );
    // The tool's description opens --help; a command's own options come before the globals.
    let help = env.ok(&["--help"]).await;
    assert!(
        help.starts_with("Command-line interface to the Monasca v2.0 API"),
        "{help}"
    );
    let help = env.ok(&["help", "metric-list"]).await;
    let own = help.find("--name").unwrap();
    let global = help.find("Global options:").unwrap();
    let conn = help.find("Connection options:").unwrap();
    assert!(own < global && global < conn, "{help}");
}

/// `monasca complete | head -1`: a closed pipe ends the tool quietly, with status 0.
#[test]
fn a_closed_pipe_is_not_a_crash() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_monasca"))
        .arg("complete")
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the tool writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `monasca man DIR` writes a page for the tool and one per command, from the clap definitions.
#[test]
fn man_pages_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_monasca"))
        .arg("man")
        .arg(dir.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let page = std::fs::read_to_string(dir.path().join("monasca-metric-list.1")).unwrap();
    assert!(page.contains("List metrics for this tenant"), "{page}");
    assert!(dir.path().join("monasca.1").is_file());
}
