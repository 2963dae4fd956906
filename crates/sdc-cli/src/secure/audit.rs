//! `sdc secure audit list|trace`: activity audit.

use anyhow::Result;
use clap::Subcommand;
use sysdig::{
    Client,
    secure::audit::{AuditEvent, DataSource, ListAuditEvents},
};

use crate::{
    output::{Format, Times, print_list},
    times::Unit::EpochNs,
};

const COLUMNS: &[&str] = &[
    "id",
    "timestamp",
    "type",
    "traceable",
    "hostname",
    "cmdline",
];
const TIMES: Times = &[("timestamp", EpochNs)];

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Audit events of a time window (newest first).
    #[command(visible_alias = "ls")]
    List {
        #[command(flatten)]
        window: super::WindowArgs,
        /// A condition in Secure's filter grammar, e.g. 'hostname = "web-1"' (repeatable,
        /// joined by "and").
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// command, connection, kubernetes or fileaccess (repeatable) [default: all].
        #[arg(long = "type", value_parser = parse_source)]
        types: Vec<DataSource>,
        /// At most this many events [default: all of the window].
        #[arg(long, default_value_t = 0)]
        limit: usize,
    },
    /// The events traced from a traceable event.
    Trace {
        /// The event's type (command, connection, kubernetes, fileaccess).
        #[arg(value_parser = parse_source)]
        kind: DataSource,
        id: String,
    },
}

fn parse_source(s: &str) -> Result<DataSource, String> {
    DataSource::parse(s).map_err(|e| e.to_string())
}

pub async fn run(c: &Client, f: Format, cmd: AuditCmd) -> Result<()> {
    let audit = c.activity_audit();
    match cmd {
        AuditCmd::List {
            window,
            filters,
            types,
            limit,
        } => {
            let (from, to) = window.seconds();
            let mut op = ListAuditEvents::new()
                .window_s(from, to)
                .data_sources(types)
                .limit(limit);
            op.conditions = filters;
            print_list(f, &audit.list(&op).await?, COLUMNS, TIMES)
        }
        AuditCmd::Trace { kind, id } => {
            let event = AuditEvent {
                id,
                kind: kind.as_str().into(),
                traceable: true,
                ..AuditEvent::default()
            };
            print_list(f, &audit.trace(&event).await?, COLUMNS, TIMES)
        }
    }
}
