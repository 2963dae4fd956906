//! Notification methods, alarm definitions, alarms, counts and history: every command of the
//! real binary against the real server, whose threshold engine reads a clock standing at `T0`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::Env;

/// 2026-01-01T00:00:00Z in epoch milliseconds.
const T0: i64 = 1_767_225_600_000;

/// Replaces what varies between runs with fixed text of the same width, so tables keep their
/// shape: each id with a made-up uuid ending in its label, the server's port with nines.
struct Redact(Vec<(String, String)>);

impl Redact {
    fn new(env: &Env) -> Self {
        let url = env.url();
        let (host, port) = url.rsplit_once(':').unwrap();
        let fake = format!("{host}:{}", "9".repeat(port.len()));
        Self(vec![(url, fake)])
    }

    /// `id` (a uuid) will print as `00000000-0000-0000-0000-0000000<label>`.
    fn id(&mut self, id: &str, label: &str) -> String {
        assert_eq!(id.len(), 36, "{id}");
        self.0.push((
            id.to_string(),
            format!("00000000-0000-0000-0000-{label:0>12}"),
        ));
        id.to_string()
    }

    fn apply(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn notification_commands() {
    let env = Env::start_at(T0).await;
    let mut r = Redact::new(&env);

    insta::assert_snapshot!(
        "notification_type_list",
        env.ok(&["notification-type-list"]).await
    );
    insta::assert_snapshot!(
        "notification_type_list_json",
        env.ok(&["notification-type-list", "-j"]).await
    );

    // create prints the response with indent 2; -j is accepted and changes nothing.
    let out = env
        .ok(&[
            "notification-create",
            "ops mail",
            "EMAIL",
            "ops@example.com",
            "-j",
        ])
        .await;
    let n1 = r.id(&id_of(&serde_json::from_str(&out).unwrap()), "N1");
    insta::assert_snapshot!("notification_create", r.apply(&out));
    let n2 = env
        .json(&[
            "notification-create",
            "hook",
            "WEBHOOK",
            "http://h/x",
            "--period",
            "60",
        ])
        .await;
    let n2 = r.id(&id_of(&n2), "N2");

    insta::assert_snapshot!(
        "notification_list",
        r.apply(
            &env.ok(&["notification-list", "--sort-by", "name desc"])
                .await
        )
    );
    let list = env
        .json(&["notification-list", "-j", "--sort-by", "name"])
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], n2.as_str());
    assert_eq!(list[1]["period"], 0);
    let page = env
        .json(&[
            "notification-list",
            "-j",
            "--sort-by",
            "name",
            "--limit",
            "1",
            "--offset",
            "0",
        ])
        .await;
    assert_eq!(page.as_array().unwrap().len(), 1);

    insta::assert_snapshot!(
        "notification_show",
        r.apply(&env.ok(&["notification-show", &n1]).await)
    );
    let shown = env.json(&["notification-show", &n1, "-j"]).await;
    assert_eq!(shown, serde_json::from_str::<Value>(&out).unwrap());

    // update: every field, period 0 included; non-ASCII escaped as the real CLI prints it.
    insta::assert_snapshot!(
        "notification_update",
        r.apply(
            &env.ok(&[
                "notification-update",
                &n1,
                "ops é",
                "EMAIL",
                "ops@example.org",
                "0"
            ])
            .await
        )
    );
    // patch: only what is given (the period even when 0).
    let p = env
        .json(&[
            "notification-patch",
            &n2,
            "--period",
            "0",
            "--name",
            "hook2",
        ])
        .await;
    assert_eq!(
        (&p["name"], &p["type"], &p["address"], &p["period"]),
        (
            &json!("hook2"),
            &json!("WEBHOOK"),
            &json!("http://h/x"),
            &json!(0)
        )
    );
    let p = env
        .json(&[
            "notification-patch",
            &n2,
            "--address",
            "",
            "--type",
            "webhook",
        ])
        .await;
    assert_eq!(
        (&p["name"], &p["address"]),
        (&json!("hook2"), &json!("http://h/x"))
    );

    assert_eq!(
        env.ok(&["notification-delete", &n2]).await,
        "Successfully deleted notification\n"
    );
    let err = env.fails(1, &["notification-show", &n2]).await;
    assert!(err.contains("(HTTP 404)"), "{err}");
    let err = env.fails(1, &["notification-delete", &n2]).await;
    assert!(err.contains("(HTTP 404)"), "{err}");

    // The server's own checks come back as one line.
    let err = env
        .fails(
            1,
            &["notification-create", "bad", "EMAIL", "not-an-address"],
        )
        .await;
    assert_eq!(
        err,
        "Bad Request (HTTP 400): Address not-an-address is not of correct format\n"
    );
    // Client-side checks: one line on stderr, exit 1, nothing sent.
    assert_eq!(
        env.fails(1, &["notification-list", "--sort-by", "name,foo"])
            .await,
        "Sort-by field name foo is not in [id, name, type, address, created_at, updated_at]\n"
    );
    assert_eq!(
        env.fails(1, &["notification-list", "--sort-by", "name up"])
            .await,
        "Invalid value up, must be asc or desc\n"
    );
    // Usage errors: exit 2.
    env.fails(2, &["notification-update", &n1, "n", "EMAIL", "a@b"])
        .await;
    env.fails(
        2,
        &["notification-create", "n", "EMAIL", "a@b", "--period", "x"],
    )
    .await;

    // Empty lists: a blank line, or [] with -j.
    let o = env.run_as("globex", &["notification-list"]).await;
    assert_eq!((o.code, o.stdout.as_str()), (0, "\n"));
    let o = env.run_as("globex", &["notification-list", "-j"]).await;
    assert_eq!((o.code, o.stdout.as_str()), (0, "[]\n"));
}

#[tokio::test]
async fn alarm_definition_commands() {
    let env = Env::start_at(T0).await;
    let mut r = Redact::new(&env);
    let n1 = env
        .json(&["notification-create", "ops", "EMAIL", "ops@example.com"])
        .await;
    let n1 = r.id(&id_of(&n1), "N1");
    let n2 = env
        .json(&["notification-create", "hook", "WEBHOOK", "http://h/x"])
        .await;
    let n2 = r.id(&id_of(&n2), "N2");

    let out = env
        .ok(&[
            "alarm-definition-create",
            "cpu high",
            "avg(cpu.idle_perc{hostname=web1}) > 90 times 3",
            "--description",
            "CPU is busy é",
            "--severity",
            "high",
            "--match-by",
            "hostname,service",
            "--alarm-actions",
            &n1,
            "--alarm-actions",
            &n2,
            "--undetermined-actions",
            &n2,
        ])
        .await;
    let d1 = r.id(&id_of(&serde_json::from_str(&out).unwrap()), "AD1");
    insta::assert_snapshot!("alarm_definition_create", r.apply(&out));
    // Unset and empty options are not sent: the server's defaults apply.
    let d2 = env
        .json(&[
            "alarm-definition-create",
            "disk",
            "max(disk.space_used_perc) > 90",
            "--description",
            "",
            "--match-by",
            "",
        ])
        .await;
    assert_eq!(
        (&d2["severity"], &d2["match_by"], &d2["description"]),
        (&json!("LOW"), &json!([]), &json!(""))
    );
    let d2 = r.id(&id_of(&d2), "AD2");

    insta::assert_snapshot!(
        "alarm_definition_list",
        r.apply(
            &env.ok(&["alarm-definition-list", "--sort-by", "name"])
                .await
        )
    );
    let l = env
        .json(&["alarm-definition-list", "-j", "--severity", "HIGH"])
        .await;
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(l[0]["id"], d1.as_str());
    let l = env
        .json(&["alarm-definition-list", "-j", "--name", "disk"])
        .await;
    assert_eq!(l[0]["id"], d2.as_str());
    let l = env
        .json(&[
            "alarm-definition-list",
            "-j",
            "--dimensions",
            "hostname=web1",
        ])
        .await;
    assert_eq!(l.as_array().unwrap().len(), 1, "{l}");
    assert_eq!(l[0]["id"], d1.as_str());
    let l = env
        .json(&[
            "alarm-definition-list",
            "-j",
            "--sort-by",
            "name desc",
            "--limit",
            "1",
        ])
        .await;
    assert_eq!(
        l.as_array().unwrap().iter().map(id_of).collect::<Vec<_>>(),
        [d2.as_str()]
    );

    insta::assert_snapshot!(
        "alarm_definition_show",
        r.apply(&env.ok(&["alarm-definition-show", &d1]).await)
    );
    let shown = env.json(&["alarm-definition-show", "-j", &d1]).await;
    assert_eq!(shown, serde_json::from_str::<Value>(&out).unwrap());

    // update: every positional; '[]' and '' are empty lists.
    let actions = format!("{n1},{n2}");
    // match_by never changes, as upstream refuses: the positional goes out as a list.
    let err = env
        .fails(
            1,
            &[
                "alarm-definition-update",
                &d2,
                "disk full",
                "Disk is full",
                "max(disk.space_used_perc) > 95",
                &actions,
                "[]",
                "",
                "false",
                "hostname",
                "critical",
            ],
        )
        .await;
    assert_eq!(
        err,
        "InvalidUpdateException (HTTP 422): match_by must not change\n"
    );
    insta::assert_snapshot!(
        "alarm_definition_update",
        r.apply(
            &env.ok(&[
                "alarm-definition-update",
                &d2,
                "disk full",
                "Disk is full",
                "max(disk.space_used_perc) > 95",
                &actions,
                "[]",
                "",
                "false",
                "",
                "critical",
            ])
            .await
        )
    );
    // patch: only what is given; repeated action options and commas combine.
    let p = env
        .json(&[
            "alarm-definition-patch",
            &d2,
            "--ok-actions",
            &n1,
            "--ok-actions",
            &n2,
            "--alarm-actions",
            "[]",
            "--actions-enabled",
            "True",
            "--severity",
            "medium",
            "--name",
            "",
        ])
        .await;
    assert_eq!(
        (
            &p["name"],
            &p["ok_actions"],
            &p["alarm_actions"],
            &p["actions_enabled"],
            &p["severity"],
            &p["match_by"]
        ),
        (
            &json!("disk full"),
            &json!([n1, n2]),
            &json!([]),
            &json!(true),
            &json!("MEDIUM"),
            &json!([])
        )
    );
    let p = env
        .json(&[
            "alarm-definition-patch",
            &d2,
            "--undetermined-actions",
            &format!("{n2},{n1}"),
        ])
        .await;
    assert_eq!(p["undetermined_actions"], json!([n2, n1]));
    assert_eq!(p["ok_actions"], json!([n1, n2]));
    // --match-by is not a patch option.
    env.fails(2, &["alarm-definition-patch", &d2, "--match-by", "x"])
        .await;

    // Client-side checks: one stderr line, exit 1, nothing sent.
    for (args, msg) in [
        (
            vec![
                "alarm-definition-create",
                "x",
                "max(a) > 1",
                "--severity",
                "urgent",
            ],
            "Invalid severity, not one of [LOW, MEDIUM, HIGH, CRITICAL]",
        ),
        (
            vec![
                "alarm-definition-update",
                &d2,
                "n",
                "d",
                "max(a) > 1",
                "",
                "",
                "",
                "yes",
                "",
                "LOW",
            ],
            "Invalid value, not one of [True, true, False, false]",
        ),
        (
            vec![
                "alarm-definition-update",
                &d2,
                "n",
                "d",
                "max(a) > 1",
                "",
                "",
                "",
                "TRUE",
                "",
                "LOW",
            ],
            "Invalid value, not one of [True, true, False, false]",
        ),
        (
            vec![
                "alarm-definition-update",
                &d2,
                "n",
                "d",
                "max(a) > 1",
                "",
                "",
                "",
                "true",
                "",
                "x",
            ],
            "Invalid severity, not one of [LOW, MEDIUM, HIGH, CRITICAL]",
        ),
        (
            vec!["alarm-definition-patch", &d2, "--actions-enabled", "no"],
            "Invalid value, not one of [True, true, False, false]",
        ),
        (
            vec!["alarm-definition-list", "--severity", "severe"],
            "Invalid severity, not one of [LOW, MEDIUM, HIGH, CRITICAL]",
        ),
        // alarm-definition-list does not lower-case the field, as the real CLI.
        (
            vec!["alarm-definition-list", "--sort-by", "Name"],
            "Sort-by field name Name is not in [id, name, severity, updated_at, created_at]",
        ),
        (
            vec!["alarm-definition-list", "--sort-by", "name asc now"],
            "Invalid sort_by value name asc now",
        ),
    ] {
        assert_eq!(env.fails(1, &args).await, format!("{msg}\n"), "{args:?}");
    }
    let def = env.json(&["alarm-definition-show", "-j", &d2]).await;
    assert_eq!(def["name"], "disk full", "nothing was sent");
    // The server's checks: one line.
    let err = env
        .fails(1, &["alarm-definition-create", "bad", "max(cpu) >"])
        .await;
    assert!(
        err.starts_with("Invalid alarm expression (HTTP 422): "),
        "{err}"
    );
    let err = env
        .fails(1, &["alarm-definition-create", "disk full", "max(x) > 1"])
        .await;
    assert!(err.contains("(HTTP 409)"), "{err}");

    assert_eq!(
        env.ok(&["alarm-definition-delete", &d2, "-j"]).await,
        "Successfully deleted alarm definition\n"
    );
    let err = env.fails(1, &["alarm-definition-show", &d2]).await;
    assert!(err.contains("(HTTP 404)"), "{err}");
    let l = env.json(&["alarm-definition-list", "-j"]).await;
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(
        env.ok(&["alarm-definition-list", "--name", "nothing"])
            .await,
        "\n"
    );
    assert_eq!(
        env.ok(&["alarm-definition-list", "--name", "nothing", "-j"])
            .await,
        "[]\n"
    );
}

/// Polls `alarm-list -j` until its alarms watch `metrics` metrics in all and, if given, are in
/// these states (sorted), or fails after 5 s.
async fn wait_alarms(env: &Env, want: Option<&[&str]>, metrics: usize) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = env.json(&["alarm-list", "-j"]).await;
        let alarms = last.as_array().unwrap();
        let mut states: Vec<&str> = alarms
            .iter()
            .map(|a| a["state"].as_str().unwrap())
            .collect();
        states.sort_unstable();
        let n_metrics: usize = alarms
            .iter()
            .map(|a| a["metrics"].as_array().unwrap().len())
            .sum();
        if want.is_none_or(|w| states == w) && n_metrics == metrics {
            return alarms.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wanted alarms in states {want:?} over {metrics} metrics, have {last}");
}

#[tokio::test]
async fn alarm_commands() {
    let env = Env::start_at(T0).await;
    let mut r = Redact::new(&env);
    let cpu = env
        .json(&[
            "alarm-definition-create",
            "cpu high",
            "max(cpu.idle_perc) > 90",
            "--match-by",
            "hostname",
            "--severity",
            "HIGH",
        ])
        .await;
    let cpu = r.id(&id_of(&cpu), "AD1");
    // No match_by: one alarm watches both metrics, the first without dimensions.
    let storage = env
        .json(&[
            "alarm-definition-create",
            "storage",
            "max(disk.space_used_perc) > 90 or max(mem.used_perc) > 95",
        ])
        .await;
    let storage = r.id(&id_of(&storage), "AD2");

    let t = |s: i64| (T0 + s * 1000).to_string();
    for (name, value, dims, secs) in [
        ("cpu.idle_perc", "95", "hostname=web1,service=compute", 5),
        ("cpu.idle_perc", "50", "hostname=web2", 6),
        ("disk.space_used_perc", "99", "", 7),
        ("mem.used_perc", "99", "hostname=db1,service=sql", 8),
    ] {
        let ts = t(secs);
        let mut args = vec!["metric-create", name, value, "--time", &ts];
        if !dims.is_empty() {
            args.extend(["--dimensions", dims]);
        }
        env.ok(&args).await;
    }
    // The storage alarm appears once both of its metrics exist, and both are high.
    let alarms = wait_alarms(&env, Some(&["ALARM", "ALARM", "UNDETERMINED"]), 4).await;
    let find = |pred: &dyn Fn(&Value) -> bool| id_of(alarms.iter().find(|a| pred(a)).unwrap());
    let web1 = r.id(
        &find(&|a| a["metrics"][0]["dimensions"]["hostname"] == "web1"),
        "A1",
    );
    let web2 = r.id(
        &find(&|a| a["metrics"][0]["dimensions"]["hostname"] == "web2"),
        "A2",
    );
    let store = r.id(
        &find(&|a| a["alarm_definition"]["id"] == storage.as_str()),
        "A3",
    );

    let sort = "alarm_definition_name desc,state";
    insta::assert_snapshot!(
        "alarm_list",
        r.apply(&env.ok(&["alarm-list", "--sort-by", sort]).await)
    );
    insta::assert_snapshot!(
        "alarm_list_json",
        r.apply(
            &env.ok(&["alarm-list", "-j", "--metric-dimensions", "hostname=web2"])
                .await
        )
    );
    let ids = |v: Value| -> Vec<String> { v.as_array().unwrap().iter().map(id_of).collect() };
    // The server ranks states OK < UNDETERMINED < ALARM.
    let q = |args: &'static [&'static str]| {
        let env = &env;
        async move {
            let mut a = vec![
                "alarm-list",
                "-j",
                "--sort-by",
                "state,alarm_definition_name",
            ];
            a.extend(args);
            ids(env.json(&a).await)
        }
    };
    assert_eq!(
        q(&["--state", "alarm"]).await,
        [web1.as_str(), store.as_str()]
    );
    assert_eq!(q(&["--state", "undetermined"]).await, [web2.as_str()]);
    assert_eq!(
        q(&["--severity", "high"]).await,
        [web2.as_str(), web1.as_str()]
    );
    assert_eq!(
        q(&["--metric-name", "mem.used_perc"]).await,
        [store.as_str()]
    );
    assert_eq!(
        q(&["--metric-dimensions", "hostname=web1,service"]).await,
        [web1.as_str()]
    );
    assert_eq!(
        q(&["--metric-dimensions", "service"]).await,
        [web1.as_str(), store.as_str()]
    );
    assert_eq!(q(&["--limit", "1", "--offset", "1"]).await, [web1.as_str()]);
    let by_def = env
        .json(&["alarm-list", "-j", "--alarm-definition-id", &storage])
        .await;
    assert_eq!(ids(by_def), [store.as_str()]);
    assert_eq!(
        q(&["--state-updated-start-time", "2026-01-02T00:00:00Z"]).await,
        Vec::<String>::new()
    );
    assert_eq!(
        env.ok(&["alarm-list", "--metric-name", "nothing"]).await,
        "\n"
    );

    insta::assert_snapshot!(
        "alarm_show",
        r.apply(&env.ok(&["alarm-show", &store]).await)
    );
    let shown = env.json(&["alarm-show", &store, "-j"]).await;
    assert_eq!(
        &shown,
        alarms.iter().find(|a| a["id"] == store.as_str()).unwrap()
    );

    insta::assert_snapshot!("alarm_count", env.ok(&["alarm-count"]).await);
    insta::assert_snapshot!(
        "alarm_count_group_by",
        env.ok(&["alarm-count", "--group-by", "state,severity"])
            .await
    );
    insta::assert_snapshot!(
        "alarm_count_json",
        r.apply(
            &env.ok(&[
                "alarm-count",
                "-j",
                "--metric-name",
                "cpu.idle_perc",
                "--group-by",
                "state"
            ])
            .await
        )
    );
    let c = env
        .json(&[
            "alarm-count",
            "-j",
            "--alarm-definition-id",
            &cpu,
            "--state",
            "ALARM",
            "--severity",
            "high",
        ])
        .await;
    assert_eq!(c["counts"], json!([[1]]));

    insta::assert_snapshot!(
        "alarm_history",
        r.apply(&env.ok(&["alarm-history", &web1]).await)
    );
    let h = env.json(&["alarm-history", &web1, "-j"]).await;
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(
        (&h[0]["alarm_id"], &h[0]["old_state"], &h[0]["new_state"]),
        (&json!(web1), &json!("UNDETERMINED"), &json!("ALARM"))
    );
    assert_eq!(h[0]["sub_alarms"][0]["current_values"], json!([95.0]));
    insta::assert_snapshot!(
        "alarm_history_list",
        r.apply(
            &env.ok(&[
                "alarm-history-list",
                "--dimensions",
                "service=sql",
                "--starttime",
                "2025-12-31T00:00:00Z",
                "--endtime",
                "2026-01-02T00:00:00Z",
            ])
            .await
        )
    );
    let all = env.json(&["alarm-history-list", "-j"]).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let page = env
        .json(&["alarm-history-list", "-j", "--limit", "1"])
        .await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    // -60 is an hour before the real clock; these alarms changed at T0, long before.
    assert_eq!(
        env.ok(&["alarm-history-list", "--starttime", "-60"]).await,
        "\n"
    );
    assert_eq!(
        env.ok(&["alarm-history", &web2, "-j"]).await,
        "[]\n",
        "no transition yet"
    );

    // update: state (as typed), lifecycle state and link, all three sent.
    insta::assert_snapshot!(
        "alarm_update",
        r.apply(
            &env.ok(&["alarm-update", &web1, "OK", "OPEN", "http://runbook/cpu"])
                .await
        )
    );
    let p = env
        .json(&[
            "alarm-patch",
            &web1,
            "--lifecycle-state",
            "CLOSED",
            "--link",
            "",
        ])
        .await;
    assert_eq!(
        (&p["state"], &p["lifecycle_state"], &p["link"]),
        (&json!("OK"), &json!("CLOSED"), &json!("http://runbook/cpu"))
    );
    let p = env.json(&["alarm-patch", &web1, "--state", "ALARM"]).await;
    assert_eq!(p["state"], "ALARM");
    let p2 = env.json(&["alarm-patch", &web1]).await;
    assert_eq!(p2["state"], "ALARM", "an empty patch changes nothing");
    let h = env.json(&["alarm-history", &web1, "-j"]).await;
    assert_eq!(h.as_array().unwrap().len(), 3, "{h}");

    // Client-side checks: one stderr line, exit 1, nothing sent.
    for (args, msg) in [
        (
            vec!["alarm-list", "--state", "FIRING"],
            "Invalid state, not one of [UNDETERMINED, ALARM, OK]",
        ),
        (
            vec!["alarm-list", "--severity", "x"],
            "Invalid severity, not one of [LOW, MEDIUM, HIGH, CRITICAL]",
        ),
        (
            vec!["alarm-list", "--sort-by", "state sideways"],
            "Invalid value sideways, must be asc or desc",
        ),
        (
            vec!["alarm-list", "--sort-by", "id"],
            "Sort-by field name id is not in [alarm_id, alarm_definition_id, \
             alarm_definition_name, state, severity, lifecycle_state, link, \
             state_updated_timestamp, updated_timestamp, created_timestamp]",
        ),
        (
            vec!["alarm-count", "--group-by", "state, severity"],
            "Invalid group-by, one or more values not in [alarm_definition_id,name,state,\
             severity,link,lifecycle_state,metric_name,dimension_name,dimension_value]",
        ),
        (
            vec!["alarm-count", "--state", "bad"],
            "Invalid state, not one of [UNDETERMINED, ALARM, OK]",
        ),
        (
            vec!["alarm-update", &web2, "FIRING", "OPEN", "l"],
            "Invalid state, not one of [UNDETERMINED, ALARM, OK]",
        ),
        (
            vec!["alarm-patch", &web2, "--state", "x"],
            "Invalid state, not one of [UNDETERMINED, ALARM, OK]",
        ),
        (
            vec!["alarm-history-list", "--dimensions", "hostname"],
            "Malformed parameter(hostname). Use the key=value format.",
        ),
    ] {
        assert_eq!(env.fails(1, &args).await, format!("{msg}\n"), "{args:?}");
    }
    let a2 = env.json(&["alarm-show", "-j", &web2]).await;
    assert_eq!(a2["state"], "UNDETERMINED", "nothing was sent");
    env.fails(2, &["alarm-update", &web2, "OK", "OPEN"]).await;
    env.fails(2, &["alarm-history", &web2, "--limit", "x"])
        .await;

    assert_eq!(
        env.ok(&["alarm-delete", &web2]).await,
        "Successfully deleted alarm\n"
    );
    let err = env.fails(1, &["alarm-show", &web2]).await;
    assert!(err.contains("(HTTP 404)"), "{err}");
    let err = env.fails(1, &["alarm-delete", &web2]).await;
    assert!(err.contains("(HTTP 404)"), "{err}");
    assert_eq!(ids(env.json(&["alarm-list", "-j"]).await).len(), 2);
    // Another tenant sees nothing.
    let o = env.run_as("globex", &["alarm-list"]).await;
    assert_eq!((o.code, o.stdout.as_str()), (0, "\n"));
    let o = env.run_as("globex", &["alarm-history-list", "-j"]).await;
    assert_eq!((o.code, o.stdout.as_str()), (0, "[]\n"));
}

#[tokio::test]
async fn notification_test_and_deliveries_commands() {
    let env = Env::start().await;
    let hooks = vigil_testkit::receiver::Receiver::start().await;
    let hook = env
        .ok(&[
            "notification-create",
            "hook",
            "WEBHOOK",
            &format!("{}/hook", hooks.url),
        ])
        .await;
    let hook = id_of(&serde_json::from_str(&hook).unwrap());
    let out = env.ok(&["notification-test", &hook]).await;
    assert!(
        out.starts_with("Test notification ")
            && out.trim_end().ends_with("delivered (HTTP 200 OK)"),
        "{out}"
    );
    let got = hooks.wait("/hook", 1).await;
    assert_eq!(got[0].body["alarm_name"], "Test notification through hook");
    let listed: Value =
        serde_json::from_str(&env.ok(&["notification-deliveries", &hook, "-j"]).await).unwrap();
    assert_eq!(listed[0]["status"], "DELIVERED");
    assert_eq!(listed[0]["test"], true);

    // Nobody listens on the discard port: the wait ends with the last answer, one line.
    let dead = env
        .ok(&[
            "notification-create",
            "dead",
            "WEBHOOK",
            "http://127.0.0.1:9/hook",
        ])
        .await;
    let dead = id_of(&serde_json::from_str(&dead).unwrap());
    let err = env
        .fails(1, &["notification-test", &dead, "--wait", "2"])
        .await;
    assert!(
        err.contains("not delivered after 2 s") && err.contains("refused"),
        "{err}"
    );
    let err = env.fails(1, &["notification-test", "no-such-id"]).await;
    assert!(err.contains("not found"), "{err}");
}
