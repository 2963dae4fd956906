//! Server settings: flags win over environment variables, which win over the config file,
//! which wins over the defaults.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::Deserialize;

use crate::identity::{AuthMode, UserConfig, keystone::KeystoneConfig};

pub const DEFAULT_BIND: &str = "127.0.0.1:8070";
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// Everything `vigil serve` needs, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Threshold engine tuning.
    pub engine: alarm_engine::EngineConfig,
    /// How requests are authenticated.
    pub auth: AuthMode,
    /// Where the built-in identity service answers (`/identity` gives `/identity/v3/...`).
    pub identity_prefix: String,
    /// Users of the built-in identity; empty means the Monasca docs' example users.
    pub users: Vec<UserConfig>,
    /// Lifetime of issued tokens.
    pub token_ttl: std::time::Duration,
    /// The Keystone of `--auth keystone`.
    pub keystone: Option<KeystoneConfig>,
    /// The Sysdig Monitor / IBM IAM emulation (`[sysdig]`).
    pub sysdig: sysdig_api::settings::SysdigSettings,
    /// Measurements older than this are dropped (by whole blocks); `None` keeps everything.
    pub retention: Option<std::time::Duration>,
    /// Notification delivery (`[notifications]`): SMTP, retries, URL policy.
    pub notifications: notification_engine::NotifySettings,
    /// For tests of a separate `vigil` process: the threshold engine's clock stands still at
    /// this instant (epoch ms) instead of reading the system clock.
    pub frozen_clock_ms: Option<i64>,
    /// The PromQL engine's limits (`[promql]`).
    pub promql: promql_engine::EngineOptions,
    /// Where measurements live.
    pub metric_store: MetricStoreKind,
    /// `[clickhouse]`: used when `metric_store` is [`MetricStoreKind::ClickHouse`].
    pub clickhouse: metric_store_clickhouse::ClickHouseOptions,
    /// Where definitions, alarms, history, notification methods and their outbox, and the
    /// Sysdig objects live (`--config-db`).
    pub config_db: ConfigDb,
    /// With a shared config database: the URL other nodes reach this one at, to send it the
    /// samples of the alarm definitions it evaluates (`--advertise-url`); by default
    /// `http://` + the bound address, or this host's name when bound to every interface.
    pub advertise_url: Option<String>,
}

/// The measurement backend (`--metric-store`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricStoreKind {
    /// The embedded engine in `data_dir`.
    #[default]
    Embedded,
    /// A ClickHouse server or cluster (`[clickhouse]`).
    #[serde(rename = "clickhouse")]
    ClickHouse,
}

impl std::str::FromStr for MetricStoreKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "embedded" => Ok(Self::Embedded),
            "clickhouse" => Ok(Self::ClickHouse),
            _ => anyhow::bail!("invalid metric store {s:?}: expected embedded or clickhouse"),
        }
    }
}

/// The configuration database: SQLite files in the data directory (one node), or a
/// PostgreSQL database several nodes share. `Debug` never shows a password.
#[derive(Clone, Debug, Default)]
pub enum ConfigDb {
    #[default]
    Sqlite,
    Postgres(Box<config_repo_postgres::PgSettings>),
}

impl ConfigDb {
    /// `sqlite`, or a `postgres://` / `postgresql://` URL. The error never repeats the text
    /// (it may hold a password).
    ///
    /// # Errors
    /// Anything else, or a URL that does not parse.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("sqlite") {
            return Ok(Self::Sqlite);
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return config_repo_postgres::PgSettings::parse(text)
                .map(|pg| Self::Postgres(Box::new(pg)))
                .map_err(|e| anyhow::anyhow!("invalid config_db: {e}"));
        }
        anyhow::bail!("invalid config_db: expected `sqlite` or a postgres:// URL")
    }
}

pub const DEFAULT_IDENTITY_PREFIX: &str = "/identity";
pub const DEFAULT_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

impl Settings {
    /// Defaults with the data in `data_dir`: what tests and embedders start from.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: DEFAULT_BIND
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8070))),
            data_dir: data_dir.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            engine: Default::default(),
            auth: AuthMode::None,
            identity_prefix: DEFAULT_IDENTITY_PREFIX.into(),
            users: Vec::new(),
            token_ttl: DEFAULT_TOKEN_TTL,
            keystone: None,
            sysdig: Default::default(),
            retention: None,
            notifications: Default::default(),
            frozen_clock_ms: None,
            promql: Default::default(),
            metric_store: MetricStoreKind::Embedded,
            clickhouse: Default::default(),
            config_db: ConfigDb::Sqlite,
            advertise_url: None,
        }
    }
}

/// The TOML config file (`vigil serve --config FILE`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    /// With a shared `config_db`: the URL other nodes reach this one at.
    pub advertise_url: Option<String>,
    /// `sqlite` or a `postgres://` URL (a secret: it may hold the password).
    pub config_db: Option<secrecy::SecretString>,
    pub data_dir: Option<PathBuf>,
    pub max_body_bytes: Option<usize>,
    /// `none` or `identity`.
    pub auth: Option<AuthMode>,
    pub identity_prefix: Option<String>,
    /// Seconds.
    pub token_ttl: Option<u64>,
    /// `[[users]]` tables: `name`, `password`, `project`, `roles`.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// `[keystone]`: `url`, `username`, `password` (or `VIGIL_KEYSTONE_PASSWORD`), `project`,
    /// `user_domain`, `project_domain`, `cache_ttl`, `cache_size`.
    pub keystone: Option<KeystoneConfig>,
    /// `[sysdig]`: `admin_user`, `admin_token`, `instance_id`, `iam_api_keys`, `iam_token_ttl`.
    pub sysdig: Option<sysdig_api::settings::SysdigFileConfig>,
    /// How long measurements are kept, e.g. `"90d"` (see [`parse_retention`]).
    pub retention: Option<String>,
    /// `[promql]`: `lookback_delta_s`, `max_samples`, `timeout_s`.
    pub promql: Option<prometheus_api::settings::PromqlFileConfig>,
    /// `[notifications]`: delivery timeouts and retries, `[notifications.email]` (SMTP),
    /// PagerDuty/OpsGenie/VictorOps URLs, `[notifications.jira]`, webhook allow/deny lists.
    pub notifications: Option<notification_engine::NotifySettings>,
    /// `[engine]`: the threshold engine's tuning.
    pub engine: Option<EngineFileConfig>,
    /// `embedded` (the default) or `clickhouse`.
    pub metric_store: Option<MetricStoreKind>,
    /// `[clickhouse]`: `urls`, `database`, `cluster`, `replicated`, `insert_quorum`, `user`,
    /// `password` (or `VIGIL_CLICKHOUSE_PASSWORD`), `ca_file`, `connect_timeout_s`,
    /// `timeout_s`, `max_batch_rows`.
    pub clickhouse: Option<metric_store_clickhouse::ClickHouseOptions>,
}

/// `[engine]` of the config file; unset fields keep [`alarm_engine::EngineConfig`]'s defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineFileConfig {
    /// How long after a period ends late data is still waited for (monasca-thresh's
    /// `alarmDelay`), seconds.
    pub delay_s: Option<i64>,
    /// Seconds between evaluations on the clock.
    pub tick_s: Option<u64>,
    /// Decide on each batch before answering its POST (slower ingest; tests use it).
    pub inline: Option<bool>,
    /// For tests: the engine's clock stands still at this instant (epoch ms).
    pub frozen_clock_ms: Option<i64>,
}

impl EngineFileConfig {
    /// The engine tuning this section asks for.
    pub fn tuning(&self) -> alarm_engine::EngineConfig {
        let defaults = alarm_engine::EngineConfig::default();
        alarm_engine::EngineConfig {
            delay_s: self.delay_s.unwrap_or(defaults.delay_s),
            tick: self
                .tick_s
                .map_or(defaults.tick, std::time::Duration::from_secs),
            inline: self.inline.unwrap_or(defaults.inline),
        }
    }
}

impl FileConfig {
    /// # Errors
    /// The file cannot be read or is not valid TOML for this schema.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Default)]
pub struct Overrides {
    pub bind: Option<String>,
    pub advertise_url: Option<String>,
    pub config_db: Option<secrecy::SecretString>,
    pub data_dir: Option<PathBuf>,
    pub max_body_bytes: Option<usize>,
    pub auth: Option<AuthMode>,
    pub identity_prefix: Option<String>,
    pub retention: Option<String>,
    pub sysdig: sysdig_api::settings::SysdigOverrides,
    pub metric_store: Option<MetricStoreKind>,
    /// `--clickhouse-url` (repeatable) / `VIGIL_CLICKHOUSE_URLS` (comma-separated).
    pub clickhouse_urls: Vec<String>,
    pub clickhouse_database: Option<String>,
    pub clickhouse_cluster: Option<String>,
    pub clickhouse_user: Option<String>,
}

/// Layers overrides over the file over the defaults.
///
/// # Errors
/// A bind address that does not parse.
pub fn resolve(over: Overrides, file: FileConfig) -> anyhow::Result<Settings> {
    let bind = over
        .bind
        .or(file.bind)
        .unwrap_or_else(|| DEFAULT_BIND.to_string());
    let bind: SocketAddr = bind.parse().with_context(|| {
        format!("invalid bind address {bind:?}: expected HOST:PORT, e.g. 127.0.0.1:8070")
    })?;
    let data_dir = over
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(default_data_dir);
    let max_body_bytes = over
        .max_body_bytes
        .or(file.max_body_bytes)
        .unwrap_or(DEFAULT_MAX_BODY_BYTES);
    let identity_prefix = over
        .identity_prefix
        .or(file.identity_prefix)
        .unwrap_or_else(|| DEFAULT_IDENTITY_PREFIX.into());
    if !identity_prefix.starts_with('/') || identity_prefix.starts_with("/v2.0") {
        anyhow::bail!(
            "invalid identity prefix {identity_prefix:?}: it must start with / and not with /v2.0"
        );
    }
    let auth = over.auth.or(file.auth).unwrap_or_default();
    let mut keystone = file.keystone;
    if let (Some(k), Ok(p)) = (keystone.as_mut(), std::env::var("VIGIL_KEYSTONE_PASSWORD")) {
        k.password = p;
    }
    if auth == AuthMode::Keystone && keystone.is_none() {
        anyhow::bail!(
            "--auth keystone needs a [keystone] section (url, username, password, project) in the config file"
        );
    }
    let sysdig = sysdig_api::settings::resolve(over.sysdig, file.sysdig)?;
    let retention = over
        .retention
        .or(file.retention)
        .map(|r| parse_retention(&r))
        .transpose()?;
    let mut notifications = file.notifications.unwrap_or_default();
    // Secrets may stay out of the file.
    if let (Some(e), Ok(p)) = (
        notifications.email.as_mut(),
        std::env::var("VIGIL_SMTP_PASSWORD"),
    ) {
        e.password = Some(secrecy::SecretString::from(p));
    }
    if let (Some(j), Ok(p)) = (
        notifications.jira.as_mut(),
        std::env::var("VIGIL_JIRA_PASSWORD"),
    ) {
        j.password = secrecy::SecretString::from(p);
    }
    let metric_store = over.metric_store.or(file.metric_store).unwrap_or_default();
    let mut clickhouse = file.clickhouse.unwrap_or_default();
    if !over.clickhouse_urls.is_empty() {
        clickhouse.urls = over.clickhouse_urls;
    }
    if let Some(d) = over.clickhouse_database {
        clickhouse.database = d;
    }
    if let Some(c) = over.clickhouse_cluster {
        clickhouse.cluster = Some(c);
    }
    if let Some(u) = over.clickhouse_user {
        clickhouse.user = Some(u);
    }
    if let Ok(p) = std::env::var("VIGIL_CLICKHOUSE_PASSWORD") {
        clickhouse.password = Some(secrecy::SecretString::from(p));
    }
    clickhouse.retention = retention;
    let mut config_db = match over.config_db.or(file.config_db) {
        Some(text) => ConfigDb::parse(secrecy::ExposeSecret::expose_secret(&text))?,
        None => ConfigDb::Sqlite,
    };
    // The database password may stay out of the URL.
    if let (ConfigDb::Postgres(pg), Ok(p)) =
        (&mut config_db, std::env::var("VIGIL_CONFIG_DB_PASSWORD"))
    {
        **pg = pg.as_ref().clone().with_password(&p);
    }
    let engine = file.engine.unwrap_or_default();
    if engine.tick_s == Some(0) {
        anyhow::bail!("invalid [engine] tick_s 0: it must be at least 1 second");
    }
    Ok(Settings {
        advertise_url: over.advertise_url.or(file.advertise_url),
        metric_store,
        clickhouse,
        config_db,
        promql: file.promql.unwrap_or_default().options(),
        sysdig,
        retention,
        notifications,
        frozen_clock_ms: engine.frozen_clock_ms,
        bind,
        data_dir,
        max_body_bytes,
        engine: engine.tuning(),
        keystone,
        auth,
        identity_prefix,
        users: file.users,
        token_ttl: file
            .token_ttl
            .map(std::time::Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_TTL),
    })
}

/// A retention period: a positive whole number and a unit, `s`, `m`, `h`, `d`, `w` or `y`
/// (365 days), e.g. `90d`.
///
/// # Errors
/// Anything else, with the accepted forms in the message.
pub fn parse_retention(text: &str) -> anyhow::Result<std::time::Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let unit_s: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => 0,
    };
    let secs = n
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && unit_s > 0)
        .and_then(|n| n.checked_mul(unit_s));
    secs.map(std::time::Duration::from_secs).with_context(|| {
        format!("invalid retention {text:?}: expected a positive number and a unit (s, m, h, d, w, y), e.g. 90d")
    })
}

/// `$XDG_DATA_HOME/vigil`, else `~/.local/share/vigil`, else `./vigil-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("vigil");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(h).join(".local/share/vigil");
    }
    PathBuf::from("vigil-data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_parses_and_flags_win() {
        use std::time::Duration;
        assert_eq!(
            parse_retention("90d").ok(),
            Some(Duration::from_secs(90 * 86_400))
        );
        assert_eq!(
            parse_retention(" 1y").ok(),
            Some(Duration::from_secs(365 * 86_400))
        );
        assert_eq!(
            parse_retention("36h").ok(),
            Some(Duration::from_secs(36 * 3600))
        );
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "1.5d",
            "10",
            "10 days",
            "99999999999999999999y",
        ] {
            let e = parse_retention(bad).err().map(|e| e.to_string());
            assert!(e.is_some_and(|e| e.contains("e.g. 90d")), "{bad:?}");
        }
        let file = FileConfig {
            retention: Some("30d".into()),
            ..Default::default()
        };
        let s = resolve(Overrides::default(), file).ok();
        assert_eq!(
            s.and_then(|s| s.retention),
            Some(Duration::from_secs(30 * 86_400))
        );
        let file = FileConfig {
            retention: Some("30d".into()),
            ..Default::default()
        };
        let over = Overrides {
            retention: Some("2w".into()),
            ..Default::default()
        };
        let s = resolve(over, file).ok();
        assert_eq!(
            s.and_then(|s| s.retention),
            Some(Duration::from_secs(14 * 86_400))
        );
        assert!(
            resolve(Overrides::default(), FileConfig::default())
                .is_ok_and(|s| s.retention.is_none())
        );
    }

    #[test]
    fn the_promql_section_sets_the_query_limits() {
        let file: FileConfig =
            toml::from_str("[promql]\nlookback_delta_s = 60\nmax_samples = 1000\ntimeout_s = 5\n")
                .unwrap_or_default();
        let p = resolve(Overrides::default(), file).ok().map(|s| s.promql);
        let secs = std::time::Duration::from_secs;
        assert_eq!(p.as_ref().map(|p| p.lookback_delta), Some(secs(60)));
        assert_eq!(p.as_ref().map(|p| p.max_samples), Some(1000));
        assert_eq!(p.map(|p| p.timeout), Some(secs(5)));
        let p = resolve(Overrides::default(), FileConfig::default())
            .ok()
            .map(|s| s.promql);
        assert_eq!(p.map(|p| p.lookback_delta), Some(secs(300)));
        assert!(toml::from_str::<FileConfig>("[promql]\nlookback = 1\n").is_err());
    }

    #[test]
    fn the_engine_section_tunes_the_engine_and_may_freeze_its_clock() {
        let file: FileConfig = toml::from_str(
            "[engine]\ndelay_s = 5\ntick_s = 3600\ninline = true\nfrozen_clock_ms = 1767225600000\n",
        )
        .unwrap_or_default();
        let s = resolve(Overrides::default(), file).ok();
        let e = s.as_ref().map(|s| s.engine.clone());
        assert_eq!(e.as_ref().map(|e| e.delay_s), Some(5));
        assert_eq!(
            e.as_ref().map(|e| e.tick),
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(e.map(|e| e.inline), Some(true));
        assert_eq!(s.and_then(|s| s.frozen_clock_ms), Some(1_767_225_600_000));
        let s = resolve(Overrides::default(), FileConfig::default()).ok();
        assert_eq!(s.as_ref().map(|s| s.engine.inline), Some(false));
        assert_eq!(s.and_then(|s| s.frozen_clock_ms), None);
        let zero: FileConfig = toml::from_str("[engine]\ntick_s = 0\n").unwrap_or_default();
        assert!(resolve(Overrides::default(), zero).is_err());
        assert!(toml::from_str::<FileConfig>("[engine]\nclock = 1\n").is_err());
    }

    #[test]
    fn the_clickhouse_section_and_flags_choose_the_metric_store() {
        let file: FileConfig = toml::from_str(
            "metric_store = \"clickhouse\"\nretention = \"30d\"\n[clickhouse]\n\
             urls = [\"http://10.0.0.1:8123\", \"http://10.0.0.2:8123\"]\n\
             database = \"metrics\"\nuser = \"vigil\"\npassword = \"pw-in-file\"\n",
        )
        .unwrap_or_default();
        let s = resolve(
            Overrides {
                clickhouse_database: Some("other".into()),
                ..Default::default()
            },
            file,
        )
        .ok();
        assert_eq!(
            s.as_ref().map(|s| s.metric_store),
            Some(MetricStoreKind::ClickHouse)
        );
        let ch = s.map(|s| s.clickhouse).unwrap_or_default();
        assert_eq!(ch.urls.len(), 2);
        assert_eq!(ch.database, "other");
        assert_eq!(ch.user.as_deref(), Some("vigil"));
        assert_eq!(
            ch.retention,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        assert!(!format!("{ch:?}").contains("pw-in-file"));
        let s = resolve(Overrides::default(), FileConfig::default()).ok();
        assert_eq!(s.map(|s| s.metric_store), Some(MetricStoreKind::Embedded));
        assert!("clickhouse".parse::<MetricStoreKind>().is_ok());
        assert!("influx".parse::<MetricStoreKind>().is_err());
        assert!(toml::from_str::<FileConfig>("[clickhouse]\nurl = \"x\"\n").is_err());
    }

    #[test]
    fn the_config_db_is_sqlite_or_postgres_and_its_password_is_never_shown() {
        let url = "postgres://vigil:pw-s3cret@127.0.0.1:5432/vigil";
        let file: FileConfig =
            toml::from_str(&format!("config_db = \"{url}\"\n")).unwrap_or_default();
        assert!(!format!("{file:?}").contains("pw-s3cret"));
        let s = resolve(Overrides::default(), file).ok();
        assert!(matches!(
            s.as_ref().map(|s| &s.config_db),
            Some(ConfigDb::Postgres(_))
        ));
        let shown = format!("{s:?}");
        assert!(
            shown.contains("127.0.0.1") && !shown.contains("pw-s3cret"),
            "{shown}"
        );
        // The flag (or VIGIL_CONFIG_DB) wins over the file.
        let over = Overrides {
            config_db: Some("sqlite".into()),
            ..Default::default()
        };
        assert!(!format!("{over:?}").contains("sqlite"));
        let file: FileConfig =
            toml::from_str(&format!("config_db = \"{url}\"\n")).unwrap_or_default();
        let s = resolve(over, file).ok();
        assert!(matches!(s.map(|s| s.config_db), Some(ConfigDb::Sqlite)));
        for bad in [
            "mysql://x",
            "postgres://vigil:pw-s3cret@127.0.0.1:notaport/vigil",
        ] {
            let over = Overrides {
                config_db: Some(bad.into()),
                ..Default::default()
            };
            let e = resolve(over, FileConfig::default())
                .err()
                .map(|e| format!("{e:#}"));
            assert!(
                e.as_ref()
                    .is_some_and(|e| e.contains("config_db") && !e.contains("pw-s3cret")),
                "{e:?}"
            );
        }
        assert!(matches!(
            resolve(Overrides::default(), FileConfig::default()).map(|s| s.config_db),
            Ok(ConfigDb::Sqlite)
        ));
    }

    #[test]
    fn flags_win_over_file_over_defaults() {
        let file = FileConfig {
            bind: Some("127.0.0.1:9000".into()),
            data_dir: Some("/f".into()),
            ..Default::default()
        };
        let s = resolve(
            Overrides {
                bind: Some("127.0.0.1:9100".into()),
                ..Default::default()
            },
            file,
        );
        let s = s.ok();
        assert_eq!(s.as_ref().map(|s| s.bind.port()), Some(9100));
        assert_eq!(
            s.as_ref().map(|s| s.data_dir.clone()),
            Some(PathBuf::from("/f"))
        );
        assert_eq!(s.map(|s| s.max_body_bytes), Some(DEFAULT_MAX_BODY_BYTES));
        assert!(
            resolve(
                Overrides {
                    bind: Some("nope".into()),
                    ..Default::default()
                },
                FileConfig::default()
            )
            .is_err()
        );
    }
}
