//! `monasca`: a drop-in replacement for python-monascaclient's command-line tool.

mod args;
mod auth;
mod cli;
mod commands;
mod observer;
mod output;

use std::{process::ExitCode, time::Duration};

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser};
use cli::{Cli, Command, ConnectionOpts};
use commands::{alarm_definitions, alarms, metrics, notifications};
use keystone_auth::AuthKind;
use monasca::Client;
use secrecy::ExposeSecret;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One line: the error and its causes.
    let report = |e: &anyhow::Error| eprintln!("{}", cli_kit::one_line(e).replace('\n', " "));
    cli_kit::main("monasca", report, run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Complete { shell } => {
            return cli_kit::completion(*shell, &mut Cli::command(), "monasca");
        }
        Command::Man { dir } => {
            let n = cli_kit::man_pages(Cli::command(), dir)?.len();
            return output::print(&format!("{n} man pages written to {}", dir.display()));
        }
        _ => {}
    }
    let observer = std::sync::Arc::new(observer::CliObserver::new(
        cli.conn.timing,
        cli.conn.debug || cli.conn.verbose > 0,
        cli.conn.log_file.as_deref(),
    )?);
    output::set_quiet(cli.conn.quiet);
    let client = connect(&cli.conn, observer.clone()).await?;
    let target = cli.command.target();
    let result = dispatch(&client, cli.command)
        .await
        .map_err(|e| name_what_was_not_found(e, target, client.endpoint().as_str()));
    observer.print_timing()?;
    result
}

/// A 404 says what was not found: the resource a command names (`alarm nope not found`), or,
/// for a collection, the API URL that does not serve it.
fn name_what_was_not_found(
    e: anyhow::Error,
    target: Option<(&'static str, String)>,
    endpoint: &str,
) -> anyhow::Error {
    let Some(monasca::Error::Api {
        status: 404,
        method,
        url,
        ..
    }) = e.downcast_ref::<monasca::Error>()
    else {
        return e;
    };
    match target {
        Some((what, id)) if url.contains(id.as_str()) => {
            anyhow::anyhow!("{what} {id} not found (HTTP 404)")
        }
        _ => anyhow::anyhow!(
            "{method} {url} answered 404 Not Found: is {endpoint} a Monasca v2.0 API?"
        ),
    }
}

async fn dispatch(client: &Client, command: Command) -> Result<()> {
    let client = client.clone();
    match command {
        Command::MetricCreate(a) => metrics::create(&client, a).await,
        Command::MetricCreateRaw(a) => metrics::create_raw(&client, a).await,
        Command::MetricList(a) => metrics::list(&client, a).await,
        Command::MetricNameList(a) => metrics::name_list(&client, a).await,
        Command::MeasurementList(a) => metrics::measurement_list(&client, a).await,
        Command::MetricStatistics(a) => metrics::statistics(&client, a).await,
        Command::DimensionNameList(a) => metrics::dimension_name_list(&client, a).await,
        Command::DimensionValueList(a) => metrics::dimension_value_list(&client, a).await,
        Command::NotificationCreate(a) => notifications::create(&client, a).await,
        Command::NotificationList(a) => notifications::list(&client, a).await,
        Command::NotificationShow(a) => notifications::show_one(&client, a).await,
        Command::NotificationUpdate(a) => notifications::update(&client, a).await,
        Command::NotificationPatch(a) => notifications::patch(&client, a).await,
        Command::NotificationDelete(a) => notifications::delete(&client, a).await,
        Command::NotificationTypeList(a) => notifications::type_list(&client, a).await,
        Command::NotificationTest(a) => notifications::send_test(&client, a).await,
        Command::NotificationDeliveries(a) => notifications::deliveries(&client, a).await,
        Command::AlarmDefinitionCreate(a) => alarm_definitions::create(&client, a).await,
        Command::AlarmDefinitionList(a) => alarm_definitions::list(&client, a).await,
        Command::AlarmDefinitionShow(a) => alarm_definitions::show_one(&client, a).await,
        Command::AlarmDefinitionUpdate(a) => alarm_definitions::update(&client, a).await,
        Command::AlarmDefinitionPatch(a) => alarm_definitions::patch(&client, a).await,
        Command::AlarmDefinitionDelete(a) => alarm_definitions::delete(&client, a).await,
        Command::AlarmList(a) => alarms::list(&client, a).await,
        Command::AlarmShow(a) => alarms::show_one(&client, a).await,
        Command::AlarmUpdate(a) => alarms::update(&client, a).await,
        Command::AlarmPatch(a) => alarms::patch(&client, a).await,
        Command::AlarmDelete(a) => alarms::delete(&client, a).await,
        Command::AlarmCount(a) => alarms::count(&client, a).await,
        Command::AlarmHistory(a) => alarms::history(&client, a).await,
        Command::AlarmHistoryList(a) => alarms::history_list(&client, a).await,
        Command::Complete { .. } | Command::Man { .. } => Ok(()),
    }
}

/// Resolves the endpoint and the token source.
///
/// With an auth URL (or a Keystone `--os-auth-type`), the CLI logs in to Keystone (password,
/// token or application credential) and takes the `monitoring` endpoint from the catalog
/// unless `--monasca-api-url` names one. Without Keystone the token is sent as given:
/// `--os-token`, `OS_TOKEN` or `OS_AUTH_TOKEN`, and the endpoint comes from
/// `--monasca-api-url`/`MONASCA_API_URL` or `--os-endpoint`/`OS_ENDPOINT`.
async fn connect(
    c: &ConnectionOpts,
    observer: std::sync::Arc<observer::CliObserver>,
) -> Result<Client> {
    if !matches!(c.monasca_api_version.as_str(), "2_0" | "2.0") {
        bail!(
            "unsupported Monasca API version {}: only 2_0 is available",
            c.monasca_api_version
        );
    }
    let opts = auth::resolve(c)?;
    let kind = auth::kind(&opts)?;
    let tls = opts.tls();
    let (endpoint, builder) = match kind {
        Some(kind) if kind.is_keystone() => {
            let session = auth::login(&opts, c.timeout, USER_AGENT, observer.clone()).await?;
            let endpoint = match c.monasca_api_url.clone().or(opts.endpoint_override.clone()) {
                Some(e) if !e.is_empty() => e,
                _ => session
                    .endpoint(&opts.endpoint_filter("monitoring")?)
                    .await?
                    .to_string(),
            };
            let b = Client::builder(with_version(&endpoint)).token_source(session);
            (endpoint, b)
        }
        _ => {
            let token = match kind {
                // What the real CLI sends in `none` mode.
                Some(AuthKind::None) => Some("notused".to_string()),
                _ => opts.token.as_ref().map(|t| t.expose_secret().to_string()),
            };
            let Some(token) = token else {
                bail!(
                    "no token: set OS_AUTH_TOKEN (or pass --os-token), or log in to Keystone with \
                     --os-auth-url, --os-username and --os-password"
                );
            };
            let Some(endpoint) = c
                .monasca_api_url
                .clone()
                .or_else(|| c.os_endpoint.clone())
                .or(opts.endpoint_override.clone())
                .filter(|e| !e.is_empty())
            else {
                bail!(
                    "no Monasca endpoint: set MONASCA_API_URL (or pass --monasca-api-url), e.g. http://127.0.0.1:8070/v2.0"
                );
            };
            let b = Client::builder(with_version(&endpoint)).token(token);
            (endpoint, b)
        }
    };
    let mut builder = builder
        .observer(observer)
        .timeout(Duration::from_secs(c.timeout))
        .insecure(tls.insecure)
        .user_agent(USER_AGENT);
    if let Some(pem) = tls.ca_pem()? {
        builder = builder.ca_pem(pem);
    }
    if let Some(pem) = tls.identity_pem()? {
        builder = builder.identity_pem(pem);
    }
    builder
        .build()
        .with_context(|| format!("invalid Monasca endpoint {endpoint:?}"))
}

const USER_AGENT: &str = concat!(
    "python-monascaclient-compatible vigil-monasca/",
    env!("CARGO_PKG_VERSION")
);

/// An endpoint given as a bare server URL gets `/v2.0`; one with a path is used as is.
fn with_version(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(u) if u.path() == "/" || u.path().is_empty() => {
            format!("{}/v2.0", endpoint.trim_end_matches('/'))
        }
        _ => endpoint.to_string(),
    }
}
