//! `sdc secure …` against the real server: policies, rules, macros, lists, rules files, and
//! how the Secure URL and token are chosen.

use serde_json::Value;
use vigil_testkit::cli::Out;

use crate::common::{ADMIN, ADMIN_TOKEN, Env, check_failure};

/// A server, and the admin's token in "Secure Operations".
async fn start() -> (Env, String) {
    let env = Env::start().await;
    let token = env
        .ok(&[
            "token",
            "get",
            "--user",
            ADMIN,
            "--team",
            "Secure Operations",
        ])
        .await
        .trim()
        .to_string();
    (env, token)
}

/// `sdc` with the Secure variables set and the Monitor ones pointing at the Monitor team.
async fn sec(env: &Env, token: &str, args: &[&str]) -> Out {
    let url = env.url();
    env.run_env(
        &[
            ("SDC_URL", &url),
            ("SDC_TOKEN", ADMIN_TOKEN),
            ("SDC_SECURE_URL", &url),
            ("SDC_SECURE_TOKEN", token),
        ],
        args,
    )
    .await
}

async fn ok(env: &Env, token: &str, args: &[&str]) -> String {
    sec(env, token, args).await.ok(args)
}

async fn json(env: &Env, token: &str, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok(env, token, &a).await).unwrap()
}

async fn fails(env: &Env, token: &str, args: &[&str]) -> String {
    let o = sec(env, token, args).await;
    check_failure(&o, 1, args);
    o.stderr.trim_end().to_string()
}

#[tokio::test]
async fn policies_from_options_and_files() {
    let (env, t) = start().await;
    assert_eq!(
        json(&env, &t, &["secure", "policy", "list"]).await,
        Value::Array(vec![])
    );
    let p = json(
        &env,
        &t,
        &[
            "secure",
            "policy",
            "add",
            "shells",
            "--rule",
            "Terminal shell in container",
            "--severity",
            "2",
            "--action",
            "stop",
            "--capture",
            "cap",
        ],
    )
    .await;
    assert_eq!(p["severity"], 2);
    assert_eq!(p["actions"][0]["type"], "POLICY_ACTION_STOP");
    assert_eq!(p["actions"][1]["type"], "POLICY_ACTION_CAPTURE");
    let table = ok(&env, &t, &["secure", "policy", "list"]).await;
    assert!(
        table.contains("shells") && table.contains("Terminal shell in container"),
        "{table}"
    );

    // A policy read back, without id, under another name, from a file.
    let dir = tempfile::tempdir().unwrap();
    let mut copy = json(&env, &t, &["secure", "policy", "get", "shells"]).await;
    copy.as_object_mut().unwrap().remove("id");
    copy["name"] = "shells 2".into();
    let file = dir.path().join("p.json");
    std::fs::write(&file, copy.to_string()).unwrap();
    let file_arg = file.to_str().unwrap();
    let made = json(
        &env,
        &t,
        &["secure", "policy", "add", "--from-file", file_arg],
    )
    .await;
    assert_eq!(made["name"], "shells 2");
    let up = json(
        &env,
        &t,
        &[
            "secure",
            "policy",
            "update",
            &made["id"].to_string(),
            "--description",
            "new",
        ],
    )
    .await;
    assert_eq!(
        (up["description"].as_str(), up["version"].as_i64()),
        (Some("new"), Some(2))
    );

    // One clear line for what the server refuses.
    let dup = fails(&env, &t, &["secure", "policy", "add", "shells"]).await;
    assert_eq!(dup, "sdc: A policy named 'shells' already exists: Conflict");
    let unknown = fails(
        &env,
        &t,
        &["secure", "policy", "add", "x", "--rule", "nope"],
    )
    .await;
    assert_eq!(unknown, "sdc: Rule 'nope' does not exist: Bad Request");
    std::fs::write(&file, "{").unwrap();
    let bad = fails(
        &env,
        &t,
        &["secure", "policy", "add", "--from-file", file_arg],
    )
    .await;
    assert!(
        bad.starts_with("sdc: policy json is not valid json: "),
        "{bad}"
    );

    let gone = json(&env, &t, &["secure", "policy", "delete", "shells 2"]).await;
    assert_eq!(gone["name"], "shells 2");
    let made = json(&env, &t, &["secure", "policy", "create-defaults"]).await;
    assert!(
        made.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Suspicious Filesystem Changes")
    );
    let n = made.as_array().unwrap().len() + 1;
    assert_eq!(
        ok(&env, &t, &["secure", "policy", "delete-all"])
            .await
            .trim(),
        format!("{n} policies deleted")
    );
}

#[tokio::test]
async fn rules_macros_lists_and_files() {
    let (env, t) = start().await;
    let r = json(
        &env,
        &t,
        &[
            "secure",
            "rule",
            "add",
            "My rule",
            "--condition",
            "evt.type = open",
            "--output",
            "o",
            "--tag",
            "files",
        ],
    )
    .await;
    let rid = r["id"].to_string();
    let r2 = json(
        &env,
        &t,
        &["secure", "rule", "update", &rid, "--priority", "ERROR"],
    )
    .await;
    assert_eq!(r2["details"]["priority"], "ERROR");
    let group = ok(&env, &t, &["secure", "rule", "group", "My rule"]).await;
    assert!(
        group.contains("evt.type = open") && group.contains("ERROR"),
        "{group}"
    );
    assert!(
        ok(&env, &t, &["secure", "rule", "list"])
            .await
            .contains("Write below etc")
    );
    assert_eq!(
        json(&env, &t, &["secure", "rule", "delete", &rid]).await["name"],
        "My rule"
    );

    let m = json(
        &env,
        &t,
        &["secure", "macro", "add", "my_macro", "evt.type = open"],
    )
    .await;
    let m2 = json(
        &env,
        &t,
        &[
            "secure",
            "macro",
            "update",
            &m["id"].to_string(),
            "evt.type = close",
        ],
    )
    .await;
    assert_eq!(m2["condition"]["condition"], "evt.type = close");
    let l = json(&env, &t, &["secure", "list", "add", "my_list", "a", "b"]).await;
    let shown = ok(&env, &t, &["secure", "list", "group", "my_list"]).await;
    assert!(shown.contains("a, b"), "{shown}");
    let l2 = json(
        &env,
        &t,
        &["secure", "list", "update", &l["id"].to_string(), "c"],
    )
    .await;
    assert_eq!(l2["items"]["items"], serde_json::json!(["c"]));
    let missing = fails(&env, &t, &["secure", "macro", "get", "999999"]).await;
    assert_eq!(missing, "sdc: Macro not found: Not Found");

    // The user rules file to and from files.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, "- list: from_file\n  items: [x]\n").unwrap();
    let rules_arg = rules.to_str().unwrap();
    let stored = ok(&env, &t, &["secure", "falco-rules", "set", rules_arg]).await;
    assert!(
        stored.starts_with("####################\n# Your custom rules!"),
        "{stored}"
    );
    let out = dir.path().join("out.yaml");
    ok(
        &env,
        &t,
        &["secure", "falco-rules", "get", "-o", out.to_str().unwrap()],
    )
    .await;
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .ends_with("- list: from_file\n  items: [x]\n")
    );
    std::fs::write(&rules, "- list: [\n").unwrap();
    let bad = fails(&env, &t, &["secure", "falco-rules", "set", rules_arg]).await;
    assert!(
        bad.starts_with("sdc: Invalid Falco rules in falco_rules_local.yaml: line 1"),
        "{bad}"
    );
    let system = fails(
        &env,
        &t,
        &[
            "secure",
            "falco-rules",
            "set",
            "--file",
            "system",
            rules_arg,
        ],
    )
    .await;
    assert_eq!(system, "sdc: status code 405");
    assert!(
        ok(
            &env,
            &t,
            &["secure", "falco-rules", "get", "--file", "system"]
        )
        .await
        .contains("- rule:")
    );

    // The default files through a directory tree.
    let tree = dir.path().join("defaults");
    let tree_arg = tree.to_str().unwrap();
    let saved = ok(
        &env,
        &t,
        &["secure", "falco-rules", "save-defaults", tree_arg],
    )
    .await;
    assert!(saved.contains("saved under"), "{saved}");
    assert!(tree.join("default_policies.yaml").is_file());
    let loaded = ok(
        &env,
        &t,
        &["secure", "falco-rules", "load-defaults", tree_arg],
    )
    .await;
    assert!(loaded.contains("loaded, 4 default policies"), "{loaded}");
}

#[tokio::test]
async fn secure_url_and_token_choice() {
    let (env, t) = start().await;
    let url = env.url();
    // The Monitor token alone: Secure refuses it, in one line.
    let o = env
        .run_env(
            &[("SDC_URL", &url), ("SDC_TOKEN", ADMIN_TOKEN)],
            &["secure", "policy", "list"],
        )
        .await;
    check_failure(&o, 1, &["secure", "policy", "list"]);
    assert!(
        o.stderr.contains("use the API token of a Secure team"),
        "{}",
        o.stderr
    );
    // SDC_TOKEN alone with a Secure token works too (no SDC_SECURE_*).
    let o = env
        .run_env(
            &[("SDC_URL", &url), ("SDC_TOKEN", &t)],
            &["--json", "secure", "policy", "list"],
        )
        .await;
    assert_eq!(o.ok(&["secure", "policy", "list"]).trim(), "[]");
    // An explicit --token wins over SDC_SECURE_TOKEN.
    let o = env
        .run_env(
            &[("SDC_SECURE_URL", &url), ("SDC_SECURE_TOKEN", "wrong")],
            &["secure", "policy", "list", "--token", &t],
        )
        .await;
    o.ok(&["secure", "policy", "list"]);
    let o = env
        .run_env(
            &[("SDC_SECURE_URL", &url), ("SDC_SECURE_TOKEN", "wrong")],
            &["secure", "policy", "list"],
        )
        .await;
    check_failure(&o, 1, &["secure", "policy", "list"]);
    assert!(o.stderr.contains("Bad credentials"), "{}", o.stderr);
}
