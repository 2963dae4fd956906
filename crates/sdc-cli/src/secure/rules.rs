//! `sdc secure rule|macro|list …`: rules, Falco macros and Falco lists.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use serde_json::{Value, json};
use sysdig::{
    Client,
    secure::rules::{FalcoList, FalcoMacro, Rule, Summary},
};

use super::joined;
use crate::output::{Format, Times, print_list, print_one};

const NO_TIMES: Times = &[];
const SUMMARY_COLUMNS: &[&str] = &["name", "ids"];
const RULE_COLUMNS: &[&str] = &["id", "name", "priority", "condition", "filename"];
const MACRO_COLUMNS: &[&str] = &["id", "name", "append", "condition", "filename"];
const LIST_COLUMNS: &[&str] = &["id", "name", "append", "items", "filename"];

#[derive(Debug, Subcommand)]
pub enum RuleCmd {
    /// Every rule name with the ids of the rules that have it.
    #[command(visible_alias = "ls")]
    List,
    /// The rules called NAME, rules files' included.
    Group { name: String },
    /// A rule by id.
    Get { id: u64 },
    /// Create a Falco rule.
    Add {
        name: String,
        #[arg(long)]
        condition: String,
        #[arg(long)]
        output: String,
        /// EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG.
        #[arg(long, default_value = "WARNING")]
        priority: String,
        #[arg(long, default_value = "")]
        description: String,
        /// A tag (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Change a rule's given fields.
    Update {
        id: u64,
        #[arg(long)]
        condition: Option<String>,
        #[arg(long)]
        output: Option<String>,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Replaces the tags (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Delete a rule by id; prints it.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum MacroCmd {
    /// Every macro name with the ids of the macros that have it.
    #[command(visible_alias = "ls")]
    List,
    /// The macros called NAME, rules files' included.
    Group { name: String },
    /// A macro by id.
    Get { id: u64 },
    /// Create a macro (--append: extend the macro of that name).
    Add {
        name: String,
        condition: String,
        #[arg(long)]
        append: bool,
    },
    /// Replace a macro's condition.
    Update { id: u64, condition: String },
    /// Delete a macro by id; prints it.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum ListCmd {
    /// Every list name with the ids of the lists that have it.
    #[command(visible_alias = "ls")]
    List,
    /// The lists called NAME, rules files' included.
    Group { name: String },
    /// A list by id.
    Get { id: u64 },
    /// Create a list (--append: extend the list of that name).
    Add {
        name: String,
        items: Vec<String>,
        #[arg(long)]
        append: bool,
    },
    /// Replace a list's items.
    Update { id: u64, items: Vec<String> },
    /// Delete a list by id; prints it.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64 },
}

fn summaries(f: Format, s: &[Summary]) -> Result<()> {
    if f.json {
        return print_list(f, s, SUMMARY_COLUMNS, NO_TIMES);
    }
    let rows: Vec<Value> = s
        .iter()
        .map(|s| json!({"name": s.name, "ids": joined(&json!(s.ids))}))
        .collect();
    print_list(f, &rows, SUMMARY_COLUMNS, NO_TIMES)
}

/// Table rows with the nested fields brought up: a rule's condition and priority, a macro's
/// condition, a list's items.
fn rows<T: Serialize>(f: Format, items: &[T], columns: &[&str]) -> Result<()> {
    if f.json {
        return print_list(f, items, columns, NO_TIMES);
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut v = serde_json::to_value(item)?;
        let cond = v["details"]["condition"]["condition"]
            .as_str()
            .or(v["condition"]["condition"].as_str())
            .map(str::to_string);
        if let Some(c) = cond {
            v["condition"] = c.into();
        }
        if let Some(p) = v["details"]["priority"].as_str().map(str::to_string) {
            v["priority"] = p.into();
        }
        if v["items"]["items"].is_array() {
            v["items"] = joined(&v["items"]["items"]).into();
        }
        out.push(v);
    }
    print_list(f, &out, columns, NO_TIMES)
}

pub async fn rule(c: &Client, f: Format, cmd: RuleCmd) -> Result<()> {
    let rules = c.rules();
    match cmd {
        RuleCmd::List => summaries(f, &rules.summaries().await?),
        RuleCmd::Group { name } => rows(f, &rules.group(&name).await?, RULE_COLUMNS),
        RuleCmd::Get { id } => print_one(f, &rules.get(id).await?, NO_TIMES),
        RuleCmd::Add {
            name,
            condition,
            output,
            priority,
            description,
            tags,
        } => {
            let r = Rule::falco(name, &condition, &output, &priority)
                .description(description)
                .tags(tags);
            print_one(f, &rules.create(&r).await?, NO_TIMES)
        }
        RuleCmd::Update {
            id,
            condition,
            output,
            priority,
            description,
            tags,
        } => {
            let r = rules
                .modify(id, |r| {
                    let d = r.details.get_or_insert_with(Default::default);
                    if let Some(c) = condition {
                        d.insert(
                            "condition".into(),
                            json!({"condition": c, "components": []}),
                        );
                    }
                    if let Some(o) = output {
                        d.insert("output".into(), o.into());
                    }
                    if let Some(p) = priority {
                        d.insert("priority".into(), p.into());
                    }
                    if description.is_some() {
                        r.description = description;
                    }
                    if !tags.is_empty() {
                        r.tags = Some(tags);
                    }
                })
                .await?;
            print_one(f, &r, NO_TIMES)
        }
        RuleCmd::Delete { id } => print_one(f, &rules.delete(id).await?, NO_TIMES),
    }
}

pub async fn falco_macro(c: &Client, f: Format, cmd: MacroCmd) -> Result<()> {
    let macros = c.falco_macros();
    match cmd {
        MacroCmd::List => summaries(f, &macros.summaries().await?),
        MacroCmd::Group { name } => rows(f, &macros.group(&name).await?, MACRO_COLUMNS),
        MacroCmd::Get { id } => print_one(f, &macros.get(id).await?, NO_TIMES),
        MacroCmd::Add {
            name,
            condition,
            append,
        } => {
            let m = FalcoMacro::new(name, condition).append(append);
            print_one(f, &macros.create(&m).await?, NO_TIMES)
        }
        MacroCmd::Update { id, condition } => {
            let m = macros
                .modify(id, |m| m.condition.condition = condition)
                .await?;
            print_one(f, &m, NO_TIMES)
        }
        MacroCmd::Delete { id } => print_one(f, &macros.delete(id).await?, NO_TIMES),
    }
}

pub async fn falco_list(c: &Client, f: Format, cmd: ListCmd) -> Result<()> {
    let lists = c.falco_lists();
    match cmd {
        ListCmd::List => summaries(f, &lists.summaries().await?),
        ListCmd::Group { name } => rows(f, &lists.group(&name).await?, LIST_COLUMNS),
        ListCmd::Get { id } => print_one(f, &lists.get(id).await?, NO_TIMES),
        ListCmd::Add {
            name,
            items,
            append,
        } => {
            let l = FalcoList::new(name, items).append(append);
            print_one(f, &lists.create(&l).await?, NO_TIMES)
        }
        ListCmd::Update { id, items } => {
            let l = lists.modify(id, |l| l.items.items = items).await?;
            print_one(f, &l, NO_TIMES)
        }
        ListCmd::Delete { id } => print_one(f, &lists.delete(id).await?, NO_TIMES),
    }
}
