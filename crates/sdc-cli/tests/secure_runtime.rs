//! `sdc secure events|audit|compliance` against a real server: Secure's own URL and token
//! variables, tables and JSON, `events tail` with a bound, and one-line errors.

use std::time::Duration;

use http::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::common::{ADMIN, ADMIN_TOKEN, Env, IBM_KEY, check_failure};

const S: i64 = 1_000_000_000;

struct Secure {
    env: Env,
    token: String,
    client: sysdig::Client,
}

impl Secure {
    async fn start() -> Self {
        let env = Env::start().await;
        let admin = sysdig::Client::builder()
            .use_env(false)
            .url(env.url())
            .token(ADMIN_TOKEN)
            .build()
            .unwrap();
        let token = admin
            .token()
            .of_user(ADMIN, "Secure Operations")
            .await
            .unwrap()
            .expose_secret()
            .to_string();
        let client = sysdig::Client::builder()
            .use_env(false)
            .url(env.url())
            .token(&token)
            .build()
            .unwrap();
        Self { env, token, client }
    }

    async fn ingest(&self, route: &str, body: Value) -> Vec<Value> {
        let v = self
            .client
            .raw(Method::POST, format!("/vigil/sysdig/secure/{route}"))
            .json(&body)
            .unwrap()
            .send()
            .await
            .unwrap();
        v["data"].as_array().unwrap().clone()
    }

    /// `sdc` with Secure's variables (and the admin's Monitor ones, which they must win over).
    async fn run(&self, args: &[&str]) -> vigil_testkit::cli::Out {
        let url = self.env.url();
        let env = [
            ("SDC_URL", "http://127.0.0.1:9"),
            ("SDC_TOKEN", ADMIN_TOKEN),
            ("SDC_SECURE_URL", url.as_str()),
            ("SDC_SECURE_TOKEN", self.token.as_str()),
        ];
        self.env.run_env(&env, args).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        self.run(args).await.ok(args)
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a).await).unwrap()
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

fn policy_event(id: &str, ts_s: i64, severity: i64) -> Value {
    json!({"id": id, "name": format!("Policy {id}"), "timestamp": ts_s * S, "severity": severity,
           "labels": {"host.hostName": "web-1"}, "content": {"output": "bash ran"}})
}

#[tokio::test]
async fn events_list_get_tail_and_credentials() {
    let s = Secure::start().await;
    let now = jiff::Timestamp::now().as_second();
    let batch: Vec<Value> = (0..5)
        .map(|i| policy_event(&format!("p{i}"), now - 100 + i, 3 + i % 3))
        .collect();
    s.ingest("policyEvents", Value::Array(batch)).await;

    let all = s.json(&["secure", "events", "list"]).await;
    assert_eq!(ids(&all), ["p4", "p3", "p2", "p1", "p0"]);

    let filtered = s
        .json(&[
            "secure",
            "events",
            "list",
            "--filter",
            r#"severity in ("5")"#,
        ])
        .await;
    assert_eq!(ids(&filtered), ["p2"]);
    let paged = s
        .json(&[
            "secure",
            "events",
            "list",
            "--limit",
            "2",
            "--all",
            "--duration",
            "3600",
        ])
        .await;
    assert_eq!(ids(&paged).len(), 5);
    let old = s
        .json(&["secure", "events", "list", "--from", "0", "--to", "1000"])
        .await;
    assert!(old.as_array().unwrap().is_empty());
    let table = s.ok(&["secure", "events", "list"]).await;
    assert!(table.contains("Policy p3"), "{table}");
    assert!(table.contains("timestamp"), "{table}");
    let one = s.json(&["secure", "events", "get", "p1"]).await;
    assert_eq!(one["name"], "Policy p1");

    // Errors: one line each.
    let o = s
        .run(&["secure", "events", "list", "--filter", "severity >> 3"])
        .await;
    check_failure(&o, 1, &[]);
    assert!(
        o.stderr.contains("invalid filter at position 10"),
        "{}",
        o.stderr
    );
    // Checked before connecting: the same one line without a server.
    let o = s
        .env
        .run_env(
            &[
                ("SDC_SECURE_URL", "http://127.0.0.1:9"),
                ("SDC_SECURE_TOKEN", "t"),
            ],
            &["secure", "audit", "list", "--filter", "type in command"],
        )
        .await;
    check_failure(&o, 1, &[]);
    assert!(
        o.stderr
            .contains("invalid filter at position 9: expected '('"),
        "{}",
        o.stderr
    );
    let o = s
        .run(&["secure", "events", "list", "--filter", "colour = red"])
        .await;
    check_failure(&o, 1, &[]);
    assert!(o.stderr.contains("unknown field 'colour'"), "{}", o.stderr);
    let o = s.run(&["secure", "events", "get", "nope"]).await;
    check_failure(&o, 1, &[]);
    assert!(o.stderr.contains("Event not found"), "{}", o.stderr);
    let o = s
        .run(&["secure", "events", "list", "--duration", "-60"])
        .await;
    check_failure(&o, 1, &[]);
    // Without Secure's variables, SDC_URL/SDC_TOKEN serve; a Monitor token is refused.
    let url = s.env.url();
    let plain = s
        .env
        .run_env(
            &[("SDC_URL", &url), ("SDC_TOKEN", &s.token)],
            &["secure", "events", "list", "--json"],
        )
        .await
        .ok(&[]);
    assert_eq!(
        serde_json::from_str::<Value>(&plain)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let o = s
        .env
        .run_env(
            &[("SDC_URL", &url), ("SDC_TOKEN", ADMIN_TOKEN)],
            &["secure", "events", "list"],
        )
        .await;
    check_failure(&o, 1, &[]);
    assert!(
        o.stderr.contains("use the API token of a Secure team"),
        "{}",
        o.stderr
    );
    // IBM Cloud: the IAM API key, and the Secure team named with --team.
    let ibm = s
        .env
        .run_env(
            &[
                ("SDC_SECURE_URL", &url),
                ("SDC_IBM_APIKEY", IBM_KEY),
                ("SDC_IBM_INSTANCE_ID", "vigil-local"),
                ("SDC_IBM_IAM_URL", &url),
            ],
            &[
                "secure",
                "events",
                "list",
                "--team",
                "Secure Operations",
                "--json",
            ],
        )
        .await
        .ok(&[]);
    assert_eq!(
        serde_json::from_str::<Value>(&ibm)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // --url on the command line wins over SDC_SECURE_URL.
    let o = s
        .run(&["secure", "events", "list", "--url", "http://127.0.0.1:9"])
        .await;
    check_failure(&o, 1, &[]);

    // tail: the last two, then new events as they arrive, until --count.
    let feeder = {
        let client = s.client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            let later = jiff::Timestamp::now().as_second();
            client
                .raw(Method::POST, "/vigil/sysdig/secure/policyEvents")
                .json(&json!([
                    policy_event("n1", later, 4),
                    policy_event("n2", later, 4)
                ]))
                .unwrap()
                .send()
                .await
                .unwrap();
        })
    };
    let out = s
        .ok(&[
            "secure",
            "events",
            "tail",
            "--last",
            "2",
            "--count",
            "4",
            "--interval",
            "0.2",
            "--for",
            "30",
        ])
        .await;
    feeder.await.unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].ends_with("[p3]") && lines[1].ends_with("[p4]"),
        "{out}"
    );
    assert!(
        lines[2].ends_with("[n1]") && lines[3].ends_with("[n2]"),
        "{out}"
    );
    assert!(
        lines[0].contains("sev 3") && lines[0].contains("web-1"),
        "{out}"
    );
    // --for bounds a quiet tail; --json prints one event per line.
    let quiet = s
        .ok(&[
            "secure",
            "events",
            "tail",
            "--last",
            "1",
            "--for",
            "0.5",
            "--interval",
            "0.1",
            "--json",
        ])
        .await;
    let v: Value = serde_json::from_str(quiet.trim()).unwrap();
    assert_eq!(v["id"], "n2");
    // An event the server stamps this very second is in the default window of a list.
    s.ingest(
        "policyEvents",
        json!({"id": "now", "name": "Just now", "severity": 1}),
    )
    .await;
    let all = s.json(&["secure", "events", "list"]).await;
    assert_eq!(ids(&all)[0], "now");
}

#[tokio::test]
async fn audit_and_compliance() {
    let s = Secure::start().await;
    let now = jiff::Timestamp::now().as_second();
    s.ingest(
        "activityAudit/events",
        json!([
            {"id": "c1", "type": "command", "timestamp": (now - 50) * S, "hostname": "web-1", "cmdline": "ls",
             "trace": [{"cmdline": "sh -c ls"}]},
            {"id": "k1", "type": "kubernetes", "timestamp": (now - 40) * S, "hostname": "web-2"},
            {"id": "f1", "type": "fileaccess", "timestamp": (now - 30) * S, "hostname": "web-1"},
        ]),
    )
    .await;
    let all = s.json(&["secure", "audit", "list"]).await;
    assert_eq!(ids(&all), ["f1", "k1", "c1"]);
    let some = s
        .json(&[
            "secure",
            "audit",
            "list",
            "--type",
            "command",
            "--type",
            "fileaccess",
            "--filter",
            r#"hostname = "web-1""#,
            "--limit",
            "1",
        ])
        .await;
    assert_eq!(ids(&some), ["f1"]);
    let table = s
        .ok(&["secure", "audit", "list", "--type", "command"])
        .await;
    assert!(table.contains("c1") && table.contains("true"), "{table}");
    let trace = s.json(&["secure", "audit", "trace", "command", "c1"]).await;
    assert_eq!(trace[0]["cmdline"], "sh -c ls");
    let o = s.run(&["secure", "audit", "trace", "command", "k1"]).await;
    check_failure(&o, 1, &[]);
    let o = s
        .run(&["secure", "audit", "list", "--type", "telepathy"])
        .await;
    check_failure(&o, 2, &[]);

    // The older command audit reads the command events, with label values asked for.
    let cmds = s
        .json(&["secure", "commands", "list", "--metric", "host.hostName"])
        .await;
    assert_eq!(ids(&cmds), ["c1"]);
    assert_eq!(cmds[0]["timestamp"], (now - 50) * 1_000_000);
    assert_eq!(cmds[0]["metrics"], json!(["web-1"]));
    let none = s
        .json(&[
            "secure",
            "commands",
            "list",
            "--filter",
            r#"command.comm = "rm""#,
        ])
        .await;
    assert_eq!(none, json!([]));
    let table = s.ok(&["secure", "commands", "ls"]).await;
    assert!(table.contains("c1") && table.contains("ls"), "{table}");
    let one = s.json(&["secure", "commands", "get", "c1"]).await;
    assert_eq!(one["cmdline"], "ls");
    let o = s.run(&["secure", "commands", "get", "k1"]).await;
    check_failure(&o, 1, &[]);
    let o = s
        .run(&[
            "secure",
            "commands",
            "list",
            "--filter",
            "command.colour = red",
        ])
        .await;
    check_failure(&o, 1, &[]);

    // Compliance tasks.
    let t = s
        .json(&[
            "secure",
            "compliance",
            "task",
            "add",
            "Docker",
            "--scope",
            "host.hostName = 'web-1'",
        ])
        .await;
    let id = t["id"].as_i64().unwrap().to_string();
    assert_eq!(t["moduleName"], "docker-bench-security");
    s.ok(&[
        "secure",
        "compliance",
        "task",
        "add",
        "Kube",
        "--module",
        "kube-bench",
        "--disabled",
    ])
    .await;
    let list = s.ok(&["secure", "compliance", "task", "list"]).await;
    assert!(
        list.contains("Docker") && list.contains("kube-bench"),
        "{list}"
    );
    let u = s
        .json(&[
            "secure",
            "compliance",
            "task",
            "update",
            &id,
            "--enabled",
            "false",
            "--schedule",
            "01:00:00Z/PT1H",
        ])
        .await;
    assert_eq!(
        (u["enabled"].as_bool(), u["name"].as_str()),
        (Some(false), Some("Docker"))
    );
    assert_eq!(
        s.json(&["secure", "compliance", "task", "get", &id]).await["schedule"],
        "01:00:00Z/PT1H"
    );
    let o = s
        .run(&["secure", "compliance", "task", "add", "Docker"])
        .await;
    check_failure(&o, 1, &[]);
    s.ok(&["secure", "compliance", "task", "delete", &id]).await;
    let o = s.run(&["secure", "compliance", "task", "get", &id]).await;
    check_failure(&o, 1, &[]);

    // Results.
    let stored = s
        .ingest(
            "complianceResults",
            json!([{"taskName": "Docker", "hostMac": "aa", "timestampNs": (now - 10) * S, "tests": [
                {"sectionId": "1", "description": "Host", "results": [
                    {"testNumber": "1.1", "status": "fail", "description": "Partition", "details": "", "items": [], "remediation": "Add one"}]}]}]),
        )
        .await;
    let rid = stored[0]["id"].as_i64().unwrap().to_string();
    let results = s
        .json(&["secure", "compliance", "result", "list", "--filter", "dock"])
        .await;
    assert_eq!(results["results"][0]["risk"], "high");
    let table = s.ok(&["secure", "compliance", "result", "list"]).await;
    assert!(table.contains("Docker"), "{table}");
    assert_eq!(
        s.json(&["secure", "compliance", "result", "get", &rid])
            .await["failCount"],
        1
    );
    let csv = s.ok(&["secure", "compliance", "result", "csv", &rid]).await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("1,Host,1.1,fail,Partition"),
        "{csv}"
    );
}
