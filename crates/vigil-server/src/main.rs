//! `vigil`: the server binary. A thin wrapper over the `vigil_server` library.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand, builder::TypedValueParser};
use tokio::net::TcpListener;
use vigil_server::config::{self, FileConfig, Overrides};

// glibc's allocator spent ~15% of ingest CPU freeing the small strings and maps each sample
// is made of; mimalloc measured 15-20% less server CPU per point.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Monitoring APIs (Monasca v2.0, Sysdig Monitor) over an embedded time-series store"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the APIs.
    Serve(ServeArgs),
    /// Seal and merge the metric store's data into one block per 2-hour partition, the
    /// smallest it gets on disk (the server does this in the background over time). Runs
    /// offline: stop the server first.
    Compact(CompactArgs),
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum, default_value = "bash")]
        shell: cli_kit::Shell,
    },
    /// Write the man pages (vigil.1 and one per command) into a directory.
    #[command(hide = true)]
    Man {
        /// Where to write them.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct CompactArgs {
    /// The data directory [default: $XDG_DATA_HOME/vigil or ~/.local/share/vigil]
    #[arg(long, env = "VIGIL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8070]
    #[arg(long, env = "VIGIL_BIND", value_name = "HOST:PORT")]
    bind: Option<String>,
    /// Where metrics are stored [default: $XDG_DATA_HOME/vigil or ~/.local/share/vigil]
    #[arg(long, env = "VIGIL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Largest accepted request body in bytes [default: 16777216]
    #[arg(long, env = "VIGIL_MAX_BODY_BYTES", value_name = "BYTES")]
    max_body_bytes: Option<usize>,
    /// Authentication: `none` (the token names the project), `identity` (Vigil's built-in
    /// Keystone v3 subset) or `keystone` (a real Keystone, `[keystone]` in the config file)
    /// [default: none]
    #[arg(
        long,
        env = "VIGIL_AUTH",
        value_name = "MODE",
        value_parser = clap::builder::PossibleValuesParser::new(["none", "identity", "keystone"])
            .try_map(|s| s.parse::<vigil_server::identity::AuthMode>())
    )]
    auth: Option<vigil_server::identity::AuthMode>,
    /// Path prefix of the built-in identity service [default: /identity]
    #[arg(long, env = "VIGIL_IDENTITY_PREFIX", value_name = "PATH")]
    identity_prefix: Option<String>,
    /// Keep measurements this long, e.g. `90d`, `12w`, `1y` (units s, m, h, d, w, y); older
    /// data is dropped in whole 2-hour blocks [default: keep everything]
    #[arg(long, env = "VIGIL_RETENTION", value_name = "DURATION")]
    retention: Option<String>,
    /// TOML file with `bind`, `data_dir`, `config_db`, `max_body_bytes`, `retention`, `auth`,
    /// `identity_prefix`, `token_ttl`, `metric_store`, `[[users]]`, `[keystone]`, `[sysdig]`,
    /// `[clickhouse]` and `[engine]`; flags and env win over it
    #[arg(long, env = "VIGIL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where definitions, alarms, notification methods and Sysdig objects live: `sqlite`
    /// (files in the data directory) or a `postgres://USER:PASSWORD@HOST:PORT/DB` URL that
    /// several nodes may share [default: sqlite]
    #[arg(
        long,
        env = "VIGIL_CONFIG_DB",
        value_name = "sqlite|URL",
        hide_env_values = true
    )]
    config_db: Option<String>,
    /// With a shared --config-db: the URL other nodes reach this one at (they send it the
    /// samples of the alarm definitions it evaluates) [default: http:// + the bound address,
    /// or this host's name when bound to every interface]
    #[arg(long, env = "VIGIL_ADVERTISE_URL", value_name = "URL")]
    advertise_url: Option<String>,
    #[command(flatten)]
    sysdig: SysdigArgs,
    #[command(flatten)]
    clickhouse: ClickHouseArgs,
}

/// Where measurements live (`metric_store` and `[clickhouse]` in the config file).
#[derive(clap::Args)]
#[command(next_help_heading = "Metric store")]
struct ClickHouseArgs {
    /// `embedded` (in the data directory) or `clickhouse` (a ClickHouse server or cluster)
    /// [default: embedded]
    #[arg(
        long,
        env = "VIGIL_METRIC_STORE",
        value_name = "BACKEND",
        value_parser = clap::builder::PossibleValuesParser::new(["embedded", "clickhouse"])
            .try_map(|s| s.parse::<config::MetricStoreKind>())
    )]
    metric_store: Option<config::MetricStoreKind>,
    /// ClickHouse HTTP URL, repeatable or comma-separated (the password comes from
    /// VIGIL_CLICKHOUSE_PASSWORD or the config file) [default: http://127.0.0.1:8123]
    #[arg(
        long = "clickhouse-url",
        env = "VIGIL_CLICKHOUSE_URLS",
        value_name = "URL",
        value_delimiter = ','
    )]
    clickhouse_urls: Vec<String>,
    /// ClickHouse database [default: vigil]
    #[arg(long, env = "VIGIL_CLICKHOUSE_DATABASE", value_name = "NAME")]
    clickhouse_database: Option<String>,
    /// ClickHouse cluster (from the servers' remote_servers) for Distributed tables
    #[arg(long, env = "VIGIL_CLICKHOUSE_CLUSTER", value_name = "NAME")]
    clickhouse_cluster: Option<String>,
    /// ClickHouse user
    #[arg(long, env = "VIGIL_CLICKHOUSE_USER", value_name = "NAME")]
    clickhouse_user: Option<String>,
}

/// The Sysdig Monitor API and IBM IAM emulation (`[sysdig]` in the config file).
#[derive(clap::Args)]
#[command(next_help_heading = "Sysdig emulation")]
struct SysdigArgs {
    /// User name of the customer admin [default: admin@vigil.local]
    #[arg(long, env = "VIGIL_SYSDIG_ADMIN_USER", value_name = "EMAIL")]
    sysdig_admin_user: Option<String>,
    /// Monitor API token of the admin in "Monitor Operations" [default: generated, written
    /// to DATA_DIR/sysdig-admin-token]
    #[arg(
        long,
        env = "VIGIL_SYSDIG_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    sysdig_admin_token: Option<String>,
    /// Value the IBMInstanceID header must carry [default: vigil-local]
    #[arg(long, env = "VIGIL_SYSDIG_INSTANCE_ID", value_name = "ID")]
    sysdig_instance_id: Option<String>,
    /// An IBM IAM API key for the admin user, exchanged at POST /identity/token
    #[arg(
        long,
        env = "VIGIL_SYSDIG_IAM_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    sysdig_iam_api_key: Option<String>,
    /// Lifetime of issued IAM tokens in seconds [default: 3600]
    #[arg(long, env = "VIGIL_SYSDIG_IAM_TOKEN_TTL", value_name = "SECONDS")]
    sysdig_iam_token_ttl: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Compact(args) => compact(args),
        Command::Completion { shell } => cli_kit::completion(shell, &mut Cli::command(), "vigil"),
        Command::Man { dir } => cli_kit::man_pages(Cli::command(), &dir).and_then(|pages| {
            cli_kit::print(&format!(
                "{} man pages written to {}",
                pages.len(),
                dir.display()
            ))
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigil: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `VIGIL_LOG` (default `info`; `access=off` drops the access
/// log): plain text, coloured only on a terminal, or one JSON object a line with
/// `VIGIL_LOG_FORMAT=json` for log shippers.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("VIGIL_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let settings = config::resolve(
        Overrides {
            bind: args.bind,
            config_db: args.config_db.map(Into::into),
            advertise_url: args.advertise_url,
            data_dir: args.data_dir,
            max_body_bytes: args.max_body_bytes,
            auth: args.auth,
            identity_prefix: args.identity_prefix,
            retention: args.retention,
            sysdig: sysdig_api::settings::SysdigOverrides {
                admin_user: args.sysdig.sysdig_admin_user,
                admin_token: args.sysdig.sysdig_admin_token.map(Into::into),
                instance_id: args.sysdig.sysdig_instance_id,
                iam_api_key: args.sysdig.sysdig_iam_api_key.map(Into::into),
                iam_token_ttl: args.sysdig.sysdig_iam_token_ttl,
            },
            metric_store: args.clickhouse.metric_store,
            clickhouse_urls: args.clickhouse.clickhouse_urls,
            clickhouse_database: args.clickhouse.clickhouse_database,
            clickhouse_cluster: args.clickhouse.clickhouse_cluster,
            clickhouse_user: args.clickhouse.clickhouse_user,
        },
        file,
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = rt.block_on(async move {
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        tracing::info!(data_dir = %settings.data_dir.display(), "starting");
        vigil_server::app::serve(settings, listener, shutdown_signal()).await
    });
    // The runtime waits for blocking tasks still running: "stopped" is said once it is gone.
    drop(rt);
    if served.is_ok() {
        tracing::info!("vigil stopped");
    }
    served
}

fn compact(args: CompactArgs) -> anyhow::Result<()> {
    use metric_store::{EmbeddedStore, MetricStore};
    let dir = args.data_dir.unwrap_or_else(config::default_data_dir);
    if !dir.is_dir() {
        anyhow::bail!("no data directory at {}", dir.display());
    }
    let _lock = vigil_server::app::lock_data_dir(&dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let store = EmbeddedStore::open(&dir)
            .await
            .with_context(|| format!("cannot open the metric store in {}", dir.display()))?;
        let before = store.stats();
        store.compact().await.context("compaction failed")?;
        let after = store.stats();
        store.close().await.context("closing the metric store")?;
        let size = |s: &metric_store::StoreStats| s.block_bytes + s.wal_bytes;
        println!(
            "{}: {} points; {} blocks + log, {} bytes -> {} blocks, {} bytes ({:.2} bytes/point)",
            dir.display(),
            after.block_points,
            before.blocks,
            size(&before),
            after.blocks,
            size(&after),
            size(&after) as f64 / after.block_points.max(1) as f64
        );
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
