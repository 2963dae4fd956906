//! `sdc`: Sysdig Monitor / IBM Cloud Monitoring from the command line, on the `sysdig` crate.
//! Errors are one line on stderr (`sdc: <message>`) with exit status 1, input Sysdig would
//! refuse included (checked before connecting); usage errors are clap's (status 2). Tables show
//! times as ISO-8601 in UTC (`--local`: the local zone) and spans as `1h30m`.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod check;
mod cli;
mod commands;
mod data;
mod deliveries;
mod output;
mod promql;
mod secure;
mod times;

use std::{process::ExitCode, time::Duration};

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, ConnectionOpts};
use sysdig::{Client, TlsVerify};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if matches!(cli.command, Command::Secure(_)) {
        secure::use_secure_env(&mut cli.conn, &matches, |k| std::env::var(k).ok());
    }
    let report = |e: &anyhow::Error| {
        // Several server errors arrive joined by newlines: keep them on one line.
        let msg = cli_kit::one_line(e);
        let line = msg.lines().map(str::trim).collect::<Vec<_>>().join("; ");
        eprintln!("sdc: {line}");
    };
    cli_kit::main("sdc", report, run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Man { dir } = &cli.command {
        let n = cli_kit::man_pages(Cli::command(), dir)?.len();
        return cli_kit::print(&format!("{n} man pages written to {}", dir.display()));
    }
    if let Command::Completion { shell } = cli.command {
        return cli_kit::completion(shell, &mut Cli::command(), "sdc");
    }
    check::command(&cli.command)?;
    let client = connect(&cli.conn).await?;
    let format = output::Format {
        json: cli.json,
        csv: cli.csv,
        local: cli.local,
    };
    commands::dispatch(&client, &cli.conn, format, cli.command).await
}

const USER_AGENT: &str = concat!("vigil-sdc/", env!("CARGO_PKG_VERSION"));

/// Builds the client from flags and `SDC_*` variables (flags win: clap reads the variables,
/// so the library's own env override is off).
async fn connect(c: &ConnectionOpts) -> Result<Client> {
    let tls = if c.insecure {
        TlsVerify::No
    } else if let Some(p) = &c.ca_bundle {
        TlsVerify::CaBundle(p.clone())
    } else {
        match std::env::var("SDC_SSL_VERIFY") {
            Ok(v) if !v.is_empty() => TlsVerify::parse(&v),
            _ => TlsVerify::Yes,
        }
    };
    let base = || {
        Client::builder()
            .use_env(false)
            .url(&c.url)
            .tls(tls.clone())
            .timeout(Some(Duration::from_secs(c.timeout)))
            .user_agent(USER_AGENT)
    };
    if let Some(key) = c.ibm_apikey.as_deref().filter(|k| !k.is_empty()) {
        let Some(instance) = c.ibm_instance_id.as_deref().filter(|i| !i.is_empty()) else {
            bail!("--ibm-apikey needs --ibm-instance-id (or SDC_IBM_INSTANCE_ID)");
        };
        let ibm = |team: Option<u64>| {
            let mut b = base().ibm_iam(key, instance);
            if let Some(u) = &c.ibm_iam_url {
                b = b.ibm_iam_url(u);
            }
            if let Some(t) = team {
                b = b.team_id(t);
            }
            b.build()
        };
        let team = match c.team.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => match t.parse::<u64>() {
                Ok(id) => Some(id),
                // A team name: look its id up as the instance's default team first.
                Err(_) => {
                    let probe = ibm(None)?;
                    let light = probe
                        .send(&sysdig::teams::get_light_by_name(t))
                        .await
                        .with_context(|| format!("cannot find team {t}"))?;
                    light.id
                }
            },
        };
        return Ok(ibm(team)?);
    }
    let Some(token) = c.token.as_deref().filter(|t| !t.is_empty()) else {
        bail!(
            "no credentials: set SDC_TOKEN (or --token), or SDC_IBM_APIKEY and SDC_IBM_INSTANCE_ID for IBM Cloud Monitoring"
        );
    };
    Ok(base().token(token).build()?)
}
