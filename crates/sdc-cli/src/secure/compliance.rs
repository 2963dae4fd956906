//! `sdc secure compliance task ...` and `sdc secure compliance result ...`.

use anyhow::Result;
use clap::Subcommand;
use sysdig::{
    Client,
    secure::compliance::{
        DEFAULT_MODULE, DEFAULT_SCHEDULE, ListResults, NewComplianceTask, TaskUpdate,
    },
};

use crate::{
    output::{Format, Times, print, print_list, print_one},
    times::Unit::EpochNs,
};

const TASK_COLUMNS: &[&str] = &["id", "name", "moduleName", "schedule", "scope", "enabled"];
const RESULT_COLUMNS: &[&str] = &[
    "id",
    "timestampNs",
    "taskName",
    "risk",
    "hostMac",
    "passCount",
    "failCount",
    "warnCount",
    "testsRun",
];
const TIMES: Times = &[("timestampNs", EpochNs)];

#[derive(Debug, Subcommand)]
pub enum ComplianceCmd {
    /// Compliance tasks (benchmarks run on a schedule).
    #[command(subcommand)]
    Task(TaskCmd),
    /// Results of compliance runs.
    #[command(subcommand)]
    Result(ResultCmd),
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Add a task.
    Add {
        name: String,
        /// docker-bench-security or kube-bench.
        #[arg(long, default_value = DEFAULT_MODULE)]
        module: String,
        /// ISO 8601 start/period.
        #[arg(long, default_value = DEFAULT_SCHEDULE)]
        schedule: String,
        /// Only hosts (or containers' hosts) matching this scope.
        #[arg(long)]
        scope: Option<String>,
        /// Add it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// All tasks.
    #[command(visible_alias = "ls")]
    List,
    /// A task by id.
    Get { id: i64 },
    /// Change the given fields of a task (the others are kept).
    Update {
        id: i64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        module: Option<String>,
        #[arg(long)]
        schedule: Option<String>,
        #[arg(long)]
        scope: Option<String>,
        /// true or false.
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete a task.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum ResultCmd {
    /// Results, newest first.
    #[command(visible_alias = "ls")]
    List {
        /// Only results whose task name contains this (ignoring case).
        #[arg(long, default_value = "")]
        filter: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue from this result id.
        #[arg(long)]
        cursor: Option<i64>,
        /// NEXT (older than the cursor) or PREV (newer).
        #[arg(long, value_parser = ["NEXT", "PREV"])]
        direction: Option<String>,
    },
    /// A result with its tests.
    Get { id: i64 },
    /// A result as CSV.
    Csv { id: i64 },
}

pub async fn run(c: &Client, f: Format, cmd: ComplianceCmd) -> Result<()> {
    let api = c.compliance();
    match cmd {
        ComplianceCmd::Task(t) => match t {
            TaskCmd::Add {
                name,
                module,
                schedule,
                scope,
                disabled,
            } => {
                let mut t = NewComplianceTask::new(name)
                    .module(module)
                    .schedule(schedule)
                    .enabled(!disabled);
                t.scope = scope;
                print_one(f, &api.add_task(&t).await?, &[])
            }
            TaskCmd::List => print_list(f, &api.tasks().await?, TASK_COLUMNS, &[]),
            TaskCmd::Get { id } => print_one(f, &api.task(id).await?, &[]),
            TaskCmd::Update {
                id,
                name,
                module,
                schedule,
                scope,
                enabled,
            } => {
                let u = TaskUpdate {
                    name,
                    module_name: module,
                    schedule,
                    scope,
                    enabled,
                };
                print_one(f, &api.update_task(id, &u).await?, &[])
            }
            TaskCmd::Delete { id } => {
                api.delete_task(id).await?;
                print(&format!("deleted compliance task {id}"))
            }
        },
        ComplianceCmd::Result(r) => match r {
            ResultCmd::List {
                filter,
                limit,
                cursor,
                direction,
            } => {
                let op = ListResults {
                    limit,
                    direction,
                    cursor,
                    filter,
                };
                let page = api.results(&op).await?;
                if f.json {
                    print(&crate::output::json(&page)?)
                } else {
                    print_list(f, &page.results, RESULT_COLUMNS, TIMES)
                }
            }
            ResultCmd::Get { id } => print_one(f, &api.result(id).await?, TIMES),
            ResultCmd::Csv { id } => print(api.result_csv(id).await?.trim_end()),
        },
    }
}
