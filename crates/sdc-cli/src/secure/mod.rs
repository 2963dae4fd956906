//! `sdc secure ...`: Sysdig Secure. Its commands connect with `SDC_SECURE_URL` and
//! `SDC_SECURE_TOKEN` when they are set (falling back to `SDC_URL`/`SDC_TOKEN`, and to Secure's
//! own default URL); `--url`/`--token` given on the command line win over all of them.

pub mod audit;
pub mod compliance;
pub mod events;

use anyhow::Result;
use clap::{ArgMatches, Subcommand, parser::ValueSource};
use sysdig::Client;

use crate::{cli::ConnectionOpts, output::Format};

#[derive(Debug, Subcommand)]
pub enum SecureCmd {
    /// Runtime policy events.
    #[command(subcommand)]
    Events(events::EventsCmd),
    /// Activity audit (commands, connections, kubectl exec, file access).
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Compliance tasks and their results.
    #[command(subcommand)]
    Compliance(compliance::ComplianceCmd),
}

pub async fn run(c: &Client, f: Format, cmd: SecureCmd) -> Result<()> {
    match cmd {
        SecureCmd::Events(e) => events::run(c, f, e).await,
        SecureCmd::Audit(a) => audit::run(c, f, a).await,
        SecureCmd::Compliance(k) => compliance::run(c, f, k).await,
    }
}

/// Filters checked before connecting, with the server's grammar and messages (the server
/// also knows which fields exist).
pub fn check(cmd: &SecureCmd) -> Result<()> {
    let filters: Vec<&String> = match cmd {
        SecureCmd::Events(events::EventsCmd::List { filter, .. }) => filter.iter().collect(),
        SecureCmd::Events(events::EventsCmd::Tail(t)) => t.filter.iter().collect(),
        SecureCmd::Audit(audit::AuditCmd::List { filters, .. }) => filters.iter().collect(),
        _ => Vec::new(),
    };
    for f in filters {
        sysdig::secure::filter::parse(f)?;
    }
    Ok(())
}

/// Points `conn` at Sysdig Secure: `SDC_SECURE_URL`/`SDC_SECURE_TOKEN` (from `env`) replace
/// what did not come from the command line, and the URL defaults to Secure's.
pub fn use_secure_env(
    conn: &mut ConnectionOpts,
    matches: &ArgMatches,
    env: impl Fn(&str) -> Option<String>,
) {
    let from_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if !from_line("url") {
        if let Some(u) = set("SDC_SECURE_URL") {
            conn.url = u;
        } else if matches.value_source("url") == Some(ValueSource::DefaultValue) {
            conn.url = sysdig::DEFAULT_SECURE_URL.into();
        }
    }
    if !from_line("token")
        && let Some(t) = set("SDC_SECURE_TOKEN")
    {
        conn.token = Some(t);
    }
}

/// A window in seconds from `--from`/`--to` or `--duration` (the last so many seconds).
pub fn window(from: Option<i64>, to: Option<i64>, duration: Option<i64>) -> (i64, i64) {
    let now = jiff::Timestamp::now().as_second();
    match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, now),
        (None, t) => {
            let to = t.unwrap_or(now);
            (to.saturating_sub(duration.unwrap_or(86_400)), to)
        }
    }
}
