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
        /// Window start, seconds since the epoch.
        #[arg(long, allow_hyphen_values = true)]
        from: Option<i64>,
        /// Window end, seconds since the epoch [default: now].
        #[arg(long, allow_hyphen_values = true)]
        to: Option<i64>,
        /// Without --from: the last so many seconds [default: 86400].
        #[arg(long, conflicts_with = "from", allow_hyphen_values = true)]
        duration: Option<i64>,
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
            from,
            to,
            duration,
            filters,
            types,
            limit,
        } => {
            let (from, to) = super::window(from, to, duration);
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
