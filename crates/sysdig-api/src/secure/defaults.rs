//! What every Secure team starts with, seeded on its first Secure request: a few Falco lists,
//! macros and rules of our own (the names are the usual Falco ones, the conditions are ours),
//! the system rules file and the default rules files that define them, an empty user rules
//! file, and the default policies `POST /api/v2/policies/default` creates from the default
//! files.

use config_repo::sysdig::{SysdigTx, kinds};
use serde_json::{Map, Value, json};

use crate::error::SdcResult;

/// The header the server puts first in the user rules file.
pub const USER_HEADER: &str = "####################\n# Your custom rules!\n####################\n";
/// The user rules file.
pub const USER_FILE: &str = "falco_rules_local.yaml";
/// The default rules file.
pub const DEFAULT_FILE: &str = "falco_rules.yaml";
/// The tag of the default files a team starts with.
pub const DEFAULT_TAG: &str = "vigil-1";
/// The engine version the default files require.
pub const ENGINE_VERSION: u64 = 8;
/// Who made the seeded objects (`origin`).
pub const ORIGIN_SYSDIG: &str = "Sysdig";
/// Who made objects created through the API.
pub const ORIGIN_API: &str = "Secure UI";

const LISTS: &[(&str, &[&str])] = &[
    (
        "shell_binaries",
        &["bash", "sh", "zsh", "ksh", "dash", "csh", "tcsh", "fish"],
    ),
    ("bin_dirs", &["/bin", "/sbin", "/usr/bin", "/usr/sbin"]),
    (
        "sensitive_file_names",
        &["/etc/shadow", "/etc/sudoers", "/etc/pam.conf"],
    ),
];

const MACROS: &[(&str, &str)] = &[
    (
        "spawned_process",
        "evt.type in (execve, execveat) and evt.dir = <",
    ),
    ("container", "container.id != host"),
    (
        "open_write",
        "evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.typechar = f",
    ),
    (
        "open_read",
        "evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.typechar = f",
    ),
    (
        "container_started",
        "evt.type = container and container.id != host",
    ),
];

/// (name, description, condition, output, priority, tags)
type RuleSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const RULES: &[RuleSeed] = &[
    (
        "Terminal shell in container",
        "An interactive shell was started in a container.",
        "spawned_process and container and proc.name in (shell_binaries) and proc.tty != 0",
        "Shell in a container (user=%user.name container=%container.name cmd=%proc.cmdline)",
        "NOTICE",
        &["container", "shell"],
    ),
    (
        "Write below etc",
        "A file below /etc was opened for writing.",
        "open_write and fd.name startswith /etc/",
        "File below /etc opened for writing (user=%user.name file=%fd.name cmd=%proc.cmdline)",
        "ERROR",
        &["filesystem"],
    ),
    (
        "Write below binary dir",
        "A file in a directory of binaries was opened for writing.",
        "open_write and fd.directory in (bin_dirs)",
        "File below a binary directory opened for writing (user=%user.name file=%fd.name)",
        "ERROR",
        &["filesystem"],
    ),
    (
        "Read sensitive file untrusted",
        "A file holding credentials was read.",
        "open_read and fd.name in (sensitive_file_names)",
        "Sensitive file opened for reading (user=%user.name file=%fd.name cmd=%proc.cmdline)",
        "WARNING",
        &["filesystem"],
    ),
    (
        "Launch Privileged Container",
        "A privileged container was started.",
        "container_started and container.privileged = true",
        "Privileged container started (image=%container.image.repository)",
        "INFO",
        &["container"],
    ),
];

/// (name, description, rule names, severity)
const POLICIES: &[(&str, &str, &[&str], u8)] = &[
    (
        "Suspicious Filesystem Changes",
        "Writes below /etc and the binary directories.",
        &["Write below etc", "Write below binary dir"],
        0,
    ),
    (
        "Terminal shell in container",
        "Interactive shells in containers.",
        &["Terminal shell in container"],
        4,
    ),
    (
        "Access Sensitive Files",
        "Reads of files holding credentials.",
        &["Read sensitive file untrusted"],
        0,
    ),
    (
        "Privileged Container Launched",
        "Containers started privileged.",
        &["Launch Privileged Container"],
        4,
    ),
];

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The Falco rules file that defines the seeded lists, macros and rules.
pub fn system_rules() -> String {
    let mut y = String::from("# Vigil's default Falco rules.\n\n");
    y.push_str(&format!("- required_engine_version: {ENGINE_VERSION}\n\n"));
    for (name, items) in LISTS {
        y.push_str(&format!(
            "- list: {name}\n  items: [{}]\n\n",
            items.join(", ")
        ));
    }
    for (name, cond) in MACROS {
        y.push_str(&format!(
            "- macro: {name}\n  condition: {}\n\n",
            quoted(cond)
        ));
    }
    for (name, desc, cond, output, prio, tags) in RULES {
        y.push_str(&format!(
            "- rule: {name}\n  desc: {}\n  condition: {}\n  output: {}\n  priority: {prio}\n  tags: [{}]\n\n",
            quoted(desc),
            quoted(cond),
            quoted(output),
            tags.join(", ")
        ));
    }
    y
}

/// The default policies as the default files list them.
pub fn default_policies() -> Vec<Value> {
    POLICIES
        .iter()
        .map(|(name, desc, rules, sev)| {
            json!({"name": name, "description": desc, "ruleNames": rules, "severity": sev,
                   "type": "falco", "enabled": true, "scope": "", "actions": []})
        })
        .collect()
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Seeds `team` on its first Secure request; later calls only look.
///
/// # Errors
/// Storage failures.
pub fn ensure_seeded(c: &dyn SysdigTx, team: i64) -> SdcResult<()> {
    if !c.obj_list(kinds::FALCO_RULES_FILES, team)?.is_empty() {
        return Ok(());
    }
    let system = system_rules();
    c.obj_insert(
        kinds::FALCO_RULES_FILES,
        team,
        obj(json!({"file": "system", "content": system})),
    )?;
    c.obj_insert(
        kinds::FALCO_RULES_FILES,
        team,
        obj(
            json!({"file": "custom", "files": [{"name": USER_FILE, "variants": [
            {"requiredEngineVersion": 0, "content": format!("{USER_HEADER}\n")}]}]}),
        ),
    )?;
    c.obj_insert(
        kinds::FALCO_RULES_FILES,
        team,
        obj(json!({"file": "default", "tag": DEFAULT_TAG, "files": [{"name": DEFAULT_FILE, "variants": [
            {"requiredEngineVersion": ENGINE_VERSION, "content": system}]}],
            "defaultPolicies": default_policies()})),
    )?;
    for (name, items) in LISTS {
        c.obj_insert(
            kinds::FALCO_LIST,
            team,
            obj(json!({"name": name, "items": {"items": items}, "append": false, "origin": ORIGIN_SYSDIG})),
        )?;
    }
    for (name, cond) in MACROS {
        c.obj_insert(
            kinds::FALCO_MACRO,
            team,
            obj(
                json!({"name": name, "condition": {"condition": cond, "components": []},
                       "append": false, "origin": ORIGIN_SYSDIG}),
            ),
        )?;
    }
    for (name, desc, cond, output, prio, tags) in RULES {
        c.obj_insert(
            kinds::SECURE_RULE,
            team,
            obj(json!({"name": name, "description": desc, "tags": tags, "origin": ORIGIN_SYSDIG,
                       "details": {"ruleType": "FALCO", "condition": {"condition": cond, "components": []},
                                   "output": output, "priority": prio, "source": "syscall", "append": false}})),
        )?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_system_file_defines_every_seeded_name() {
        let d = super::super::falco_yaml::parse(&system_rules()).unwrap();
        let names: Vec<_> = d.iter().map(|d| d.name.as_str()).collect();
        for (n, _) in LISTS {
            assert!(names.contains(n));
        }
        for (n, _) in MACROS {
            assert!(names.contains(n));
        }
        for r in RULES {
            assert!(names.contains(&r.0));
        }
        for (_, _, rules, _) in POLICIES {
            assert!(rules.iter().all(|r| names.contains(r)));
        }
    }
}
