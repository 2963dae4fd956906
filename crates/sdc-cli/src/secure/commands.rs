//! `sdc secure commands list|get`: the deprecated command audit (`/api/commands`) that older
//! on-prem backends still serve and sdcclient's `list_commands_audit` / `get_command_audit`
//! read. Newer backends answer `sdc secure audit`.

use anyhow::Result;
use clap::Subcommand;
use sysdig::{Client, secure::commands::ListCommands};

use crate::{
    output::{Format, Times, print_list, print_one},
    times::Unit::EpochUs,
};

const COLUMNS: &[&str] = &[
    "id",
    "timestamp",
    "comm",
    "pid",
    "cwd",
    "cmdline",
    "metrics",
];
const TIMES: Times = &[("timestamp", EpochUs)];

#[derive(Debug, Subcommand)]
pub enum CommandsCmd {
    /// Audited commands of a time window (newest first), a page at a time.
    #[command(visible_alias = "ls")]
    List {
        #[command(flatten)]
        window: super::WindowArgs,
        /// Where the commands ran, Monitor-style, e.g. 'container.image = ubuntu'.
        #[arg(long)]
        scope: Option<String>,
        /// A condition on the command, e.g. 'command.comm = "touch"'.
        #[arg(long)]
        filter: Option<String>,
        /// A label whose value each command carries in `metrics` (repeatable, in order).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Commands in the page.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Commands skipped before the page.
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// One audited command.
    Get {
        id: String,
        /// A label whose value the command carries in `metrics` (repeatable, in order).
        #[arg(long = "metric")]
        metrics: Vec<String>,
    },
}

pub async fn run(c: &Client, f: Format, cmd: CommandsCmd) -> Result<()> {
    let audit = c.command_audit();
    match cmd {
        CommandsCmd::List {
            window,
            scope,
            filter,
            metrics,
            limit,
            offset,
        } => {
            let (from, to) = window.seconds();
            let op = ListCommands {
                from_s: Some(from),
                to_s: Some(to),
                scope_filter: scope,
                command_filter: filter,
                limit,
                offset,
                metrics,
            };
            print_list(f, &audit.list(op).await?, COLUMNS, TIMES)
        }
        CommandsCmd::Get { id, metrics } => print_one(f, &audit.get(&id, &metrics).await?, TIMES),
    }
}
