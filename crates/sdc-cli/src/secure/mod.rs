//! `sdc secure …`: Sysdig Secure. One file per area; this one holds the command group and the
//! connection rule of Secure commands.
//!
//! Secure has its own URL and token: for `sdc secure` commands an explicit `--url` / `--token`
//! flag wins, then `SDC_SECURE_URL` / `SDC_SECURE_TOKEN`, then `SDC_URL` / `SDC_TOKEN`, and
//! the URL defaults to Secure's (`https://secure.sysdig.com`) instead of Monitor's.

pub mod audit;
mod commands;
pub mod compliance;
pub mod events;
mod falco_rules;
mod policies;
mod rules;

use anyhow::{Context, Result};
use clap::{ArgMatches, Args, Subcommand, parser::ValueSource};
use serde_json::Value;
use sysdig::Client;

use crate::{cli::ConnectionOpts, output::Format};

/// Sysdig Secure commands (token and URL: see `sdc secure --help`).
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Connection: an explicit --url/--token wins, then SDC_SECURE_URL/SDC_SECURE_TOKEN, \
then SDC_URL/SDC_TOKEN; the URL defaults to https://secure.sysdig.com. The token must be one of \
a Secure team (a Monitor team's token is refused with 403)."
)]
pub enum SecureCmd {
    /// Runtime policies (v2).
    #[command(subcommand)]
    Policy(policies::PolicyCmd),
    /// Rules (Falco conditions with output and priority).
    #[command(subcommand)]
    Rule(rules::RuleCmd),
    /// Falco macros (alias: macro).
    #[command(subcommand, name = "falco-macro", visible_alias = "macro")]
    Macro(rules::MacroCmd),
    /// Falco lists (alias: list).
    #[command(subcommand, name = "falco-list", visible_alias = "list")]
    List(rules::ListCmd),
    /// Falco rules files: the system file, the user file and the default files.
    #[command(subcommand, name = "falco-rules")]
    FalcoRules(falco_rules::FalcoRulesCmd),
    /// Runtime policy events.
    #[command(subcommand)]
    Events(events::EventsCmd),
    /// Activity audit (commands, connections, kubectl exec, file access).
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// The older command audit (/api/commands) of on-prem backends before the activity audit.
    #[command(subcommand)]
    Commands(commands::CommandsCmd),
    /// Compliance tasks and their results.
    #[command(subcommand)]
    Compliance(compliance::ComplianceCmd),
}

pub async fn run(c: &Client, f: Format, cmd: SecureCmd) -> Result<()> {
    match cmd {
        SecureCmd::Policy(p) => policies::run(c, f, p).await,
        SecureCmd::Rule(r) => rules::rule(c, f, r).await,
        SecureCmd::Macro(m) => rules::falco_macro(c, f, m).await,
        SecureCmd::List(l) => rules::falco_list(c, f, l).await,
        SecureCmd::FalcoRules(r) => falco_rules::run(c, f, r).await,
        SecureCmd::Events(e) => events::run(c, f, e).await,
        SecureCmd::Audit(a) => audit::run(c, f, a).await,
        SecureCmd::Commands(k) => commands::run(c, f, k).await,
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

/// The time window flags of Secure's list commands.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Window start, seconds since the epoch.
    #[arg(long, allow_hyphen_values = true)]
    from: Option<i64>,
    /// Window end, seconds since the epoch [default: now].
    #[arg(long, allow_hyphen_values = true)]
    to: Option<i64>,
    /// Without --from: the last so many seconds [default: 86400].
    #[arg(long, conflicts_with = "from", allow_hyphen_values = true)]
    duration: Option<i64>,
}

impl WindowArgs {
    /// `(from, to)` in seconds, as [`window`] resolves them.
    pub fn seconds(&self) -> (i64, i64) {
        window(self.from, self.to, self.duration)
    }
}

/// A window in seconds from `--from`/`--to` or `--duration` (the last so many seconds). Without
/// `--to` it ends after the current second, so an event of this very second is in it.
fn window(from: Option<i64>, to: Option<i64>, duration: Option<i64>) -> (i64, i64) {
    let now = jiff::Timestamp::now().as_second() + 1;
    match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, now),
        (None, t) => {
            let to = t.unwrap_or(now);
            (to.saturating_sub(duration.unwrap_or(86_400)), to)
        }
    }
}

/// Where `--url` and `--token` came from: a flag is the user's choice for this command; a
/// value clap took from `SDC_URL`/`SDC_TOKEN` or the default gives way to Secure's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlagSources {
    pub url_given: bool,
    pub token_given: bool,
}

impl FlagSources {
    pub fn of(m: &ArgMatches) -> Self {
        // Global flags may be given after the subcommand: look through every level.
        let given = |id: &str| {
            let mut level = Some(m);
            while let Some(l) = level {
                if l.value_source(id) == Some(ValueSource::CommandLine) {
                    return true;
                }
                level = l.subcommand().map(|(_, sub)| sub);
            }
            false
        };
        Self {
            url_given: given("url"),
            token_given: given("token"),
        }
    }
}

/// The connection options of a Secure command (see the module docs).
pub fn connection(
    conn: &mut ConnectionOpts,
    given: FlagSources,
    env: impl Fn(&str) -> Option<String>,
) {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if !given.url_given {
        if let Some(u) = set("SDC_SECURE_URL") {
            conn.url = u;
        } else if set("SDC_URL").is_none() {
            conn.url = sysdig::DEFAULT_SECURE_URL.into();
        }
    }
    if !given.token_given
        && let Some(t) = set("SDC_SECURE_TOKEN")
    {
        conn.token = Some(t);
    }
}

/// JSON text from a file, or stdin for `-`.
fn read_text(path: &std::path::Path) -> Result<String> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// A table cell for a list of strings.
fn joined(v: &Value) -> String {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        other => crate::output::cell(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(url: &str, token: Option<&str>) -> ConnectionOpts {
        use clap::Parser;
        let mut args = vec!["sdc".to_string(), "--url".into(), url.into()];
        if let Some(t) = token {
            args.extend(["--token".into(), t.into()]);
        }
        args.extend(["user".into(), "me".into()]);
        crate::cli::Cli::parse_from(args).conn
    }

    #[test]
    fn secure_variables_win_unless_a_flag_was_given() {
        let env = |k: &str| match k {
            "SDC_SECURE_URL" => Some("https://sec".to_string()),
            "SDC_SECURE_TOKEN" => Some("sec-token".to_string()),
            _ => None,
        };
        let mut c = conn("https://mon", Some("mon-token"));
        connection(&mut c, FlagSources::default(), env);
        assert_eq!(
            (c.url.as_str(), c.token.as_deref()),
            ("https://sec", Some("sec-token"))
        );
        let mut c = conn("https://mon", Some("mon-token"));
        let flags = FlagSources {
            url_given: true,
            token_given: true,
        };
        connection(&mut c, flags, env);
        assert_eq!(
            (c.url.as_str(), c.token.as_deref()),
            ("https://mon", Some("mon-token"))
        );
        // Neither SDC_SECURE_URL nor SDC_URL: Secure's own default.
        let mut c = conn(sysdig::DEFAULT_URL, Some("t"));
        connection(&mut c, FlagSources::default(), |_| None);
        assert_eq!(c.url, sysdig::DEFAULT_SECURE_URL);
        // SDC_URL without SDC_SECURE_URL: kept.
        let mut c = conn("https://from-sdc-url", Some("t"));
        connection(&mut c, FlagSources::default(), |k| {
            (k == "SDC_URL").then(|| "https://from-sdc-url".to_string())
        });
        assert_eq!(c.url, "https://from-sdc-url");
    }

    #[test]
    fn flag_sources_see_flags_after_the_subcommand() {
        use clap::CommandFactory;
        let m = crate::cli::Cli::command()
            .try_get_matches_from(["sdc", "secure", "policy", "list", "--url", "http://x"])
            .unwrap();
        let s = FlagSources::of(&m);
        assert!(s.url_given && !s.token_given);
    }
}
