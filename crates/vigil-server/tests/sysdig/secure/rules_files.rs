//! Falco rules files through the `sysdig` client: the system file (405 on SaaS), the user
//! file and its header, the default files and their directory tree, YAML refused with its
//! line, and rules defined in files that groups and policies find.

use reqwest::Method;
use serde_json::json;
use sysdig::secure::{
    policies::Policy,
    rules_files::{load_defaults, save_defaults},
};

use super::secure_team::{Secure, message};
use crate::sysdig::client_env::err;

const HEADER: &str = "####################\n# Your custom rules!\n####################\n";

#[tokio::test]
async fn user_rules_get_the_header_and_define_rules() {
    let s = Secure::start().await;
    let c = s.client();
    let files = c.falco_rules_files();
    assert!(files.user_rules().await.unwrap().starts_with(HEADER));

    let mine = "- rule: My file rule\n  desc: d\n  condition: evt.type = open and fd.name = /tmp/f\n  output: opened\n  priority: INFO\n";
    let stored = files.set_user_rules(mine).await.unwrap();
    assert_eq!(stored, format!("{HEADER}\n{mine}"));
    assert_eq!(files.user_rules().await.unwrap(), stored);
    // Content that has the header is kept as it is.
    assert_eq!(files.set_user_rules(&stored).await.unwrap(), stored);

    // The file's rule is in its group and policies may use it.
    let group = c.rules().group("My file rule").await.unwrap();
    assert_eq!(group.len(), 1);
    assert_eq!(group[0].id, None);
    assert_eq!(
        group[0].condition(),
        Some("evt.type = open and fd.name = /tmp/f")
    );
    assert_eq!(group[0].extra["filename"], "falco_rules_local.yaml");
    c.policies()
        .create(&Policy::new("from file", vec!["My file rule".into()]))
        .await
        .unwrap();

    // Malformed YAML and items of the wrong shape are refused with their line; nothing changes.
    let (status, e) = err(files.set_user_rules("- rule: x\n  desc: [\n").await);
    assert_eq!(status, Some(400));
    assert!(
        e.starts_with("Invalid Falco rules in falco_rules_local.yaml: line "),
        "{e}"
    );
    let (status, e) = err(files
        .set_user_rules("- list: a\n  items: []\n- macro: m\n")
        .await);
    assert_eq!(status, Some(400));
    assert!(e.contains("line 3: macro 'm' needs a 'condition'"), "{e}");
    assert_eq!(files.user_rules().await.unwrap(), stored);

    // A stale version of the files is refused.
    let mut custom = files.custom().await.unwrap();
    custom.extra.insert("version".into(), json!(1));
    let (status, _) = err(s
        .client()
        .send(&sysdig::secure::rules_files::put_custom(&custom).unwrap())
        .await);
    assert_eq!(status, Some(409));
}

#[tokio::test]
async fn the_system_file_is_read_only_unless_on_prem() {
    let s = Secure::start().await;
    let files = s.client();
    let files = files.falco_rules_files();
    let system = files.system().await.unwrap();
    assert!(
        system
            .content
            .contains("- rule: Terminal shell in container")
    );
    let (status, e) = err(files.set_system("- list: a\n  items: []\n").await);
    assert_eq!((status, e.as_str()), (Some(405), "status code 405"));

    let s = Secure::start_with(|st| st.sysdig.secure_on_prem = true).await;
    let files = s.client();
    let files = files.falco_rules_files();
    let set = files
        .set_system("- list: only_mine\n  items: [a]\n")
        .await
        .unwrap();
    assert_eq!(set.content, "- list: only_mine\n  items: [a]\n");
    assert_eq!(files.system().await.unwrap().content, set.content);
    let (status, _) = err(files.set_system("- list: [\n").await);
    assert_eq!(status, Some(400));
    assert!(
        !s.client()
            .falco_lists()
            .group("only_mine")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn default_files_round_trip_through_a_directory() {
    let s = Secure::start().await;
    let c = s.client();
    let files = c.falco_rules_files();
    let defaults = files.defaults().await.unwrap();
    assert!(!defaults.tag.is_empty());
    assert!(
        defaults
            .default_policies
            .iter()
            .any(|p| p["name"] == "Suspicious Filesystem Changes")
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rules");
    save_defaults(&defaults, &root).unwrap();
    let name = &defaults.files[0].name;
    let engine = defaults.files[0].variants[0].required_engine_version;
    assert!(
        root.join(&defaults.tag)
            .join(name)
            .join(engine.to_string())
            .join("content")
            .is_file()
    );

    // Change the tree: a new tag, a rule of our own, a default policy that uses it.
    let mut loaded = load_defaults(&root).unwrap();
    assert_eq!(loaded.files, defaults.files);
    loaded.tag = "v2".into();
    loaded.files[0].variants[0].content.push_str(
        "\n- rule: Default extra\n  desc: d\n  condition: evt.type = close\n  output: o\n  priority: DEBUG\n",
    );
    loaded
        .default_policies
        .push(json!({"name": "Extra default", "ruleNames": ["Default extra"]}));
    let set = files.set_defaults(&loaded).await.unwrap();
    assert_eq!(set.tag, "v2");
    let made = c.policies().create_defaults().await.unwrap();
    assert!(made.iter().any(|p| p.name == "Extra default"));
    assert_eq!(c.rules().group("Default extra").await.unwrap().len(), 1);

    // Bad trees and bad bodies.
    let mut bad = loaded.clone();
    bad.files[0].variants[0].content = "- rule: [\n".into();
    let (status, e) = err(files.set_defaults(&bad).await);
    assert_eq!(status, Some(400), "{e}");
    let (status, v) = s
        .raw(
            Method::PUT,
            "/api/settings/falco/defaultRulesFiles",
            Some(r#"{"defaultFalcoRulesFiles":{"tag":"","files":[]}}"#),
        )
        .await;
    assert_eq!((status, message(&v)), (400, "Field 'tag' is required"));
    let (status, _) = s
        .raw(
            Method::PUT,
            "/api/settings/falco/customRulesFiles",
            Some(r#"{"files":[]}"#),
        )
        .await;
    assert_eq!(status, 400);
}
