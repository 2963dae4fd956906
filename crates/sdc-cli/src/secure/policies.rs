//! `sdc secure policy …`: runtime policies (v2).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use serde_json::Value;
use sysdig::{
    Client,
    secure::policies::{Policy, PolicyAction, PolicyPatch},
};

use super::{joined, read_text};
use crate::{
    output::{Format, Times, print, print_list, print_one},
    times::Unit::EpochMs,
};

const COLUMNS: &[&str] = &[
    "id",
    "name",
    "type",
    "severity",
    "enabled",
    "origin",
    "ruleNames",
];
const TIMES: Times = &[("createdOn", EpochMs), ("modifiedOn", EpochMs)];

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Action {
    Stop,
    Pause,
    Kill,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// All policies of the team.
    #[command(visible_alias = "ls")]
    List,
    /// A policy by id or name.
    Get { policy: String },
    /// Create a policy from options, or from a JSON file (`-` for stdin) with --from-file
    /// (its `origin` is dropped, as sdcclient's add_policy_json does).
    Add {
        #[arg(required_unless_present = "from_file")]
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        from_file: Option<PathBuf>,
        /// A rule the policy applies (repeat for several).
        #[arg(long = "rule")]
        rules: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// 0 (highest) to 7.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=7))]
        severity: u8,
        /// Where it applies (`container.image.repository = nginx`); everywhere when absent.
        #[arg(long)]
        scope: Option<String>,
        /// falco, list_matching, k8s_audit, ...
        #[arg(long = "type", default_value = "falco")]
        kind: String,
        #[arg(long)]
        disabled: bool,
        /// stop, pause or kill the container (repeat for several).
        #[arg(long = "action", value_enum)]
        actions: Vec<Action>,
        /// Take a capture of this name around each event (5 s before, 15 s after).
        #[arg(long, value_name = "FILE_NAME")]
        capture: Option<String>,
        /// A notification channel id (repeat for several).
        #[arg(long = "notify")]
        notify: Vec<u64>,
    },
    /// Change the given fields of a policy (by id), or replace one with a JSON file that has
    /// its `id` (--from-file).
    Update {
        #[arg(required_unless_present = "from_file")]
        id: Option<u64>,
        #[arg(long, conflicts_with = "id")]
        from_file: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Replaces the rules (repeat for several).
        #[arg(long = "rule")]
        rules: Vec<String>,
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=7))]
        severity: Option<u8>,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete a policy by id or name; prints it.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { policy: String },
    /// Delete every policy of the team.
    DeleteAll,
    /// Create the default policies the team lacks; prints them.
    CreateDefaults,
}

async fn find(c: &Client, policy: &str) -> Result<Policy> {
    Ok(match policy.parse::<u64>() {
        Ok(id) => c.policies().get(id).await?,
        Err(_) => c.policies().by_name(policy).await?,
    })
}

/// Rules as one cell.
fn row(p: &Policy) -> Result<Value> {
    let mut v = serde_json::to_value(p)?;
    let rules = joined(&v["ruleNames"]);
    v["ruleNames"] = rules.into();
    Ok(v)
}

pub async fn run(c: &Client, f: Format, cmd: PolicyCmd) -> Result<()> {
    let p = c.policies();
    match cmd {
        PolicyCmd::List => {
            let all = p.list().await?;
            if f.json {
                return print_list(f, &all, COLUMNS, TIMES);
            }
            let rows = all.iter().map(row).collect::<Result<Vec<_>>>()?;
            print_list(f, &rows, COLUMNS, TIMES)
        }
        PolicyCmd::Get { policy } => print_one(f, &find(c, &policy).await?, TIMES),
        PolicyCmd::Add {
            from_file: Some(file),
            ..
        } => print_one(f, &p.create_json(&read_text(&file)?).await?, TIMES),
        PolicyCmd::Add {
            name,
            rules,
            description,
            severity,
            scope,
            kind,
            disabled,
            actions,
            capture,
            notify,
            ..
        } => {
            let mut all: Vec<PolicyAction> = actions
                .iter()
                .map(|a| match a {
                    Action::Stop => PolicyAction::stop(),
                    Action::Pause => PolicyAction::pause(),
                    Action::Kill => PolicyAction::kill(),
                })
                .collect();
            if let Some(name) = capture {
                all.push(PolicyAction::capture(&name, 5, 15, ""));
            }
            let mut new = Policy::new(name.unwrap_or_default(), rules)
                .description(description)
                .severity(severity)
                .kind(kind)
                .enabled(!disabled)
                .actions(all)
                .notify(notify);
            if let Some(s) = scope {
                new = new.scope(s);
            }
            print_one(f, &p.create(&new).await?, TIMES)
        }
        PolicyCmd::Update {
            from_file: Some(file),
            ..
        } => print_one(f, &p.update_json(&read_text(&file)?).await?, TIMES),
        PolicyCmd::Update {
            id,
            name,
            description,
            rules,
            severity,
            scope,
            enabled,
            ..
        } => {
            let patch = PolicyPatch {
                name,
                description,
                rule_names: (!rules.is_empty()).then_some(rules),
                scope,
                severity,
                enabled,
                ..PolicyPatch::default()
            };
            print_one(f, &p.patch(id.unwrap_or_default(), &patch).await?, TIMES)
        }
        PolicyCmd::Delete { policy } => {
            let gone = match policy.parse::<u64>() {
                Ok(id) => p.delete(id).await?,
                Err(_) => p.delete_by_name(&policy).await?,
            };
            print_one(f, &gone, TIMES)
        }
        PolicyCmd::DeleteAll => {
            let n = p.delete_all().await?;
            print(&format!("{n} policies deleted"))
        }
        PolicyCmd::CreateDefaults => {
            let made = p.create_defaults().await?;
            if f.json {
                return print_list(f, &made, COLUMNS, TIMES);
            }
            let rows = made.iter().map(row).collect::<Result<Vec<_>>>()?;
            print_list(f, &rows, COLUMNS, TIMES)
        }
    }
}
