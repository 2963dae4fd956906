//! Command-line arguments, matching python-monascaclient 2.8's `monasca`.

use std::{fmt, path::PathBuf};

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "monasca",
    version,
    about = "Command-line interface to the Monasca v2.0 API (a drop-in for python-monascaclient)"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectionOpts,

    #[command(subcommand)]
    pub command: Command,
}

// Where the API is and how to authenticate (a plain comment: a doc comment here would become
// the whole tool's description in `--help`). Settings come from the flags, else the
// environment, else the `clouds.yaml` cloud named by `--os-cloud`/`OS_CLOUD` (with
// `secure.yaml` merged in).
#[derive(Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionOpts {
    /// Print API call timing info
    #[arg(help_heading = "Global options", long, global = true)]
    pub timing: bool,

    /// Print each HTTP request (method, URL, status, time) and full error causes
    #[arg(help_heading = "Global options", long, short = 'd', global = true)]
    pub debug: bool,

    /// Increase verbosity: -v prints each HTTP request
    #[arg(help_heading = "Global options", long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Suppress output except warnings and errors
    #[arg(help_heading = "Global options", long, short = 'q', global = true)]
    pub quiet: bool,

    /// Write the request log (-v, --debug) to this file instead of stderr
    #[arg(
        help_heading = "Global options",
        long,
        value_name = "LOG_FILE",
        global = true
    )]
    pub log_file: Option<std::path::PathBuf>,

    /// Authentication type: password (Keystone; the default with an auth URL), token
    /// (Keystone), v3applicationcredential (Keystone), admin_token (a token sent as is) or none
    #[arg(long, env = "OS_AUTH_TYPE", value_name = "TYPE", global = true)]
    pub os_auth_type: Option<String>,

    /// Named cloud in clouds.yaml
    #[arg(long, env = "OS_CLOUD", value_name = "NAME", global = true)]
    pub os_cloud: Option<String>,

    /// Keystone URL, with or without /v3, e.g. http://127.0.0.1:8070/identity
    #[arg(long, env = "OS_AUTH_URL", value_name = "URL", global = true)]
    pub os_auth_url: Option<String>,

    /// User name (Keystone password login)
    #[arg(long, env = "OS_USERNAME", value_name = "NAME", global = true)]
    pub os_username: Option<String>,

    /// User id (Keystone password login)
    #[arg(long, env = "OS_USER_ID", value_name = "ID", global = true)]
    pub os_user_id: Option<String>,

    /// User's password
    #[arg(
        long,
        env = "OS_PASSWORD",
        value_name = "PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub os_password: Option<String>,

    /// Domain name of the user
    #[arg(long, env = "OS_USER_DOMAIN_NAME", value_name = "NAME", global = true)]
    pub os_user_domain_name: Option<String>,

    /// Domain id of the user
    #[arg(long, env = "OS_USER_DOMAIN_ID", value_name = "ID", global = true)]
    pub os_user_domain_id: Option<String>,

    /// Project to scope to [env: OS_PROJECT_NAME, OS_TENANT_NAME]
    #[arg(long, alias = "os-tenant-name", value_name = "NAME", global = true)]
    pub os_project_name: Option<String>,

    /// Project id to scope to [env: OS_PROJECT_ID, OS_TENANT_ID]
    #[arg(long, alias = "os-tenant-id", value_name = "ID", global = true)]
    pub os_project_id: Option<String>,

    /// Domain name of the project
    #[arg(
        long,
        env = "OS_PROJECT_DOMAIN_NAME",
        value_name = "NAME",
        global = true
    )]
    pub os_project_domain_name: Option<String>,

    /// Domain id of the project
    #[arg(long, env = "OS_PROJECT_DOMAIN_ID", value_name = "ID", global = true)]
    pub os_project_domain_id: Option<String>,

    /// Domain name to scope to (when no project is given)
    #[arg(long, env = "OS_DOMAIN_NAME", value_name = "NAME", global = true)]
    pub os_domain_name: Option<String>,

    /// Domain id to scope to (when no project is given)
    #[arg(long, env = "OS_DOMAIN_ID", value_name = "ID", global = true)]
    pub os_domain_id: Option<String>,

    /// Domain id of the user and the project when neither has one [default: default]
    #[arg(long, env = "OS_DEFAULT_DOMAIN", value_name = "ID", global = true)]
    pub os_default_domain: Option<String>,

    /// Application credential id
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_ID",
        value_name = "ID",
        global = true
    )]
    pub os_application_credential_id: Option<String>,

    /// Application credential name (with a user)
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_NAME",
        value_name = "NAME",
        global = true
    )]
    pub os_application_credential_name: Option<String>,

    /// Application credential secret
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_SECRET",
        value_name = "SECRET",
        global = true,
        hide_env_values = true
    )]
    pub os_application_credential_secret: Option<String>,

    /// Region of the monitoring endpoint in the service catalog
    #[arg(long, env = "OS_REGION_NAME", value_name = "NAME", global = true)]
    pub os_region_name: Option<String>,

    /// Interface of the monitoring endpoint in the service catalog: public, internal or admin
    #[arg(long, env = "OS_INTERFACE", value_name = "INTERFACE", global = true)]
    pub os_interface: Option<String>,

    /// CA bundle (PEM) to verify TLS servers with
    #[arg(long, env = "OS_CACERT", value_name = "FILE", global = true)]
    pub os_cacert: Option<PathBuf>,

    /// Client certificate (PEM) for Keystone
    #[arg(long, env = "OS_CERT", value_name = "FILE", global = true)]
    pub os_cert: Option<PathBuf>,

    /// Client certificate key (PEM)
    #[arg(long, env = "OS_KEY", value_name = "FILE", global = true)]
    pub os_key: Option<PathBuf>,

    /// Do not verify TLS certificates
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Keep Keystone tokens in ~/.cache/vigil/keystone (files of mode 0600) and reuse them
    /// until they expire
    #[arg(
        long,
        env = "MONASCA_TOKEN_CACHE",
        global = true,
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub token_cache: bool,

    /// Token to send as X-Auth-Token [env: OS_TOKEN, OS_AUTH_TOKEN]
    #[arg(long, value_name = "TOKEN", global = true, hide_env_values = true)]
    pub os_token: Option<String>,

    /// Endpoint of the API for admin_token and none authentication
    #[arg(long, env = "OS_ENDPOINT", value_name = "URL", global = true)]
    pub os_endpoint: Option<String>,

    /// Monasca API URL, e.g. http://127.0.0.1:8070/v2.0; overrides the endpoint
    #[arg(
        long,
        alias = "monasca_api_url",
        env = "MONASCA_API_URL",
        value_name = "URL",
        global = true
    )]
    pub monasca_api_url: Option<String>,

    /// Monasca API version
    #[arg(
        long,
        alias = "monasca_api_version",
        env = "MONASCA_API_VERSION",
        default_value = "2_0",
        value_name = "VERSION",
        global = true
    )]
    pub monasca_api_version: String,

    /// Request timeout in seconds
    #[arg(long, default_value_t = 60, value_name = "SECONDS", global = true)]
    pub timeout: u64,
}

fn set<T>(o: &Option<T>) -> &'static str {
    if o.is_some() { "<set>" } else { "<unset>" }
}

/// Shows which secrets are set, never their values.
impl fmt::Debug for ConnectionOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionOpts")
            .field("os_auth_type", &self.os_auth_type)
            .field("os_cloud", &self.os_cloud)
            .field("os_auth_url", &self.os_auth_url)
            .field("os_username", &self.os_username)
            .field("os_user_id", &self.os_user_id)
            .field("os_password", &set(&self.os_password))
            .field("os_token", &set(&self.os_token))
            .field("os_user_domain_name", &self.os_user_domain_name)
            .field("os_user_domain_id", &self.os_user_domain_id)
            .field("os_project_name", &self.os_project_name)
            .field("os_project_id", &self.os_project_id)
            .field("os_project_domain_name", &self.os_project_domain_name)
            .field("os_project_domain_id", &self.os_project_domain_id)
            .field("os_domain_name", &self.os_domain_name)
            .field("os_domain_id", &self.os_domain_id)
            .field("os_default_domain", &self.os_default_domain)
            .field(
                "os_application_credential_id",
                &self.os_application_credential_id,
            )
            .field(
                "os_application_credential_name",
                &self.os_application_credential_name,
            )
            .field(
                "os_application_credential_secret",
                &set(&self.os_application_credential_secret),
            )
            .field("os_region_name", &self.os_region_name)
            .field("os_interface", &self.os_interface)
            .field("os_cacert", &self.os_cacert)
            .field("os_cert", &self.os_cert)
            .field("os_key", &self.os_key)
            .field("insecure", &self.insecure)
            .field("token_cache", &self.token_cache)
            .field("os_endpoint", &self.os_endpoint)
            .field("monasca_api_url", &self.monasca_api_url)
            .field("monasca_api_version", &self.monasca_api_version)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create metric.
    MetricCreate(MetricCreate),
    /// Create metric from raw json body.
    MetricCreateRaw(MetricCreateRaw),
    /// List metrics for this tenant.
    MetricList(MetricList),
    /// List names of metrics.
    MetricNameList(MetricNameList),
    /// List measurements for the specified metric.
    MeasurementList(MeasurementList),
    /// List measurement statistics for the specified metric.
    MetricStatistics(MetricStatistics),
    /// List names of metric dimensions.
    DimensionNameList(DimensionNameList),
    /// List the values of a metric dimension.
    DimensionValueList(DimensionValueList),
    /// Create notification.
    NotificationCreate(NotificationCreate),
    /// List notifications for this tenant.
    NotificationList(NotificationList),
    /// Describe the notification.
    NotificationShow(NotificationId),
    /// Update notification.
    NotificationUpdate(NotificationUpdate),
    /// Patch notification.
    NotificationPatch(NotificationPatch),
    /// Delete notification.
    NotificationDelete(NotificationId),
    /// List notification types supported by monasca.
    NotificationTypeList(NotificationTypeList),
    /// Create an alarm definition.
    AlarmDefinitionCreate(AlarmDefinitionCreate),
    /// List alarm definitions for this tenant.
    AlarmDefinitionList(AlarmDefinitionList),
    /// Describe the alarm definition.
    AlarmDefinitionShow(AlarmDefinitionId),
    /// Update the alarm definition.
    AlarmDefinitionUpdate(AlarmDefinitionUpdate),
    /// Patch the alarm definition.
    AlarmDefinitionPatch(AlarmDefinitionPatch),
    /// Delete the alarm definition.
    AlarmDefinitionDelete(AlarmDefinitionId),
    /// List alarms for this tenant.
    AlarmList(AlarmList),
    /// Describe the alarm.
    AlarmShow(AlarmId),
    /// Update the alarm state.
    AlarmUpdate(AlarmUpdate),
    /// Patch the alarm state.
    AlarmPatch(AlarmPatch),
    /// Delete the alarm.
    AlarmDelete(AlarmId),
    /// Count alarms.
    AlarmCount(AlarmCount),
    /// Alarm state transition history.
    AlarmHistory(AlarmHistory),
    /// List alarms state history.
    AlarmHistoryList(AlarmHistoryList),
    /// Print a shell completion script (bash unless another shell is named).
    #[command(alias = "completion")]
    Complete {
        #[arg(value_enum, default_value = "bash")]
        shell: cli_kit::Shell,
    },
    /// Write the man pages (monasca.1 and one per command) into a directory.
    #[command(hide = true)]
    Man {
        /// Where to write them.
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
}

impl Command {
    /// What the command addresses by id, for a "not found" that names it.
    pub fn target(&self) -> Option<(&'static str, String)> {
        let (what, id) = match self {
            Command::NotificationShow(a) | Command::NotificationDelete(a) => {
                ("notification", &a.id)
            }
            Command::NotificationUpdate(a) => ("notification", &a.id),
            Command::NotificationPatch(a) => ("notification", &a.id),
            Command::AlarmDefinitionShow(a) | Command::AlarmDefinitionDelete(a) => {
                ("alarm definition", &a.id)
            }
            Command::AlarmDefinitionUpdate(a) => ("alarm definition", &a.id),
            Command::AlarmDefinitionPatch(a) => ("alarm definition", &a.id),
            Command::AlarmShow(a) | Command::AlarmDelete(a) => ("alarm", &a.id),
            Command::AlarmUpdate(a) => ("alarm", &a.id),
            Command::AlarmPatch(a) => ("alarm", &a.id),
            Command::AlarmHistory(a) => ("alarm", &a.id),
            _ => return None,
        };
        Some((what, id.clone()))
    }
}

/// How a command prints its answer: python-monascaclient's `-j`, and the output formatters
/// of the OpenStack CLI (cliff).
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "Output formatters")]
pub struct Output {
    /// output raw json response
    #[arg(short = 'j', long = "json")]
    pub json: bool,
    /// the output format
    #[arg(
        short = 'f',
        long = "format",
        value_enum,
        default_value_t,
        value_name = "FORMATTER"
    )]
    pub format: Format,
    /// specify the column(s) to include, can be repeated to show multiple columns
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    /// whether to disable indenting the JSON
    #[arg(long)]
    pub noindent: bool,
    /// Maximum display width of a table, 0 for no limit
    #[arg(long, value_name = "INTEGER", env = "CLIFF_MAX_TERM_WIDTH")]
    pub max_width: Option<usize>,
}

/// An output formatter (`-f`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
    Value,
    Csv,
}

const DIMENSIONS_HELP: &str = "key value pair used to specify a metric dimension. This can be \
specified multiple times, or once with parameters separated by a comma. Dimensions need quoting \
when they contain special chars [&,(,),{,},>,<] that confuse the CLI parser.";

const STARTTIME_HELP: &str = "measurements >= UTC time. format: 2014-01-01T00:00:00Z. OR Format: -120 (previous 120 minutes).";

#[derive(Args, Debug)]
pub struct MetricCreate {
    /// Name of the metric to create.
    #[arg(value_name = "METRIC_NAME")]
    pub name: String,
    /// Metric value.
    #[arg(value_name = "METRIC_VALUE", allow_negative_numbers = true)]
    pub value: f64,
    #[arg(long, value_name = "KEY1=VALUE1,KEY2=VALUE2...", help = DIMENSIONS_HELP)]
    pub dimensions: Vec<String>,
    /// key value pair for extra information about a value. This can be specified multiple
    /// times, or once with parameters separated by a comma.
    #[arg(long = "value-meta", value_name = "KEY1=VALUE1,KEY2=VALUE2...")]
    pub value_meta: Vec<String>,
    /// Metric timestamp in milliseconds. Default: current timestamp.
    #[arg(long, value_name = "UNIX_TIMESTAMP", allow_negative_numbers = true)]
    pub time: Option<i64>,
    /// The Project ID to create metric on behalf of. Requires monitoring-delegate role in keystone.
    #[arg(long = "project-id", value_name = "CROSS_PROJECT_ID")]
    pub project_id: Option<String>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct MetricCreateRaw {
    /// The raw JSON body in single quotes. See api doc.
    #[arg(value_name = "JSON_BODY")]
    pub body: String,
    #[command(flatten)]
    pub out: Output,
}

/// Options shared by the list commands.
#[derive(Args, Debug)]
pub struct Paging {
    /// The offset used to paginate the return data.
    #[arg(long, value_name = "OFFSET LOCATION")]
    pub offset: Option<String>,
    /// The amount of data to be returned up to the API maximum limit.
    #[arg(long, value_name = "RETURN LIMIT")]
    pub limit: Option<usize>,
    /// Retrieve data for the specified tenant/project id instead of the tenant/project from the
    /// user's Keystone credentials.
    #[arg(long = "tenant-id", value_name = "TENANT_ID")]
    pub tenant_id: Option<String>,
}

#[derive(Args, Debug)]
pub struct MetricList {
    /// Name of the metric to list.
    #[arg(long, value_name = "METRIC_NAME")]
    pub name: Option<String>,
    #[arg(long, value_name = "KEY1=VALUE1,KEY2=VALUE2...", help = DIMENSIONS_HELP)]
    pub dimensions: Vec<String>,
    #[arg(long, value_name = "UTC_START_TIME", allow_hyphen_values = true, help = STARTTIME_HELP)]
    pub starttime: Option<String>,
    /// measurements <= UTC time. format: 2014-01-01T00:00:00Z.
    #[arg(long, value_name = "UTC_END_TIME", allow_hyphen_values = true)]
    pub endtime: Option<String>,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct MetricNameList {
    #[arg(long, value_name = "KEY1=VALUE1,KEY2=VALUE2...", help = DIMENSIONS_HELP)]
    pub dimensions: Vec<String>,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub out: Output,
}

/// Options of measurement-list and metric-statistics.
#[derive(Args, Debug)]
pub struct SeriesQuery {
    #[arg(long, value_name = "KEY1=VALUE1,KEY2=VALUE2...", help = DIMENSIONS_HELP)]
    pub dimensions: Vec<String>,
    /// measurements <= UTC time. format: 2014-01-01T00:00:00Z.
    #[arg(long, value_name = "UTC_END_TIME", allow_hyphen_values = true)]
    pub endtime: Option<String>,
    /// Merge multiple metrics into a single result.
    #[arg(long = "merge_metrics", alias = "merge-metrics")]
    pub merge_metrics: bool,
    /// Select which keys to use for grouping. A '*' groups by all keys.
    #[arg(long = "group_by", alias = "group-by", value_name = "KEY1,KEY2,...")]
    pub group_by: Option<String>,
    #[command(flatten)]
    pub paging: Paging,
}

#[derive(Args, Debug)]
pub struct MeasurementList {
    /// Name of the metric to list measurements.
    #[arg(value_name = "METRIC_NAME")]
    pub name: String,
    #[arg(value_name = "UTC_START_TIME", allow_hyphen_values = true, help = STARTTIME_HELP)]
    pub starttime: String,
    #[command(flatten)]
    pub query: SeriesQuery,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct MetricStatistics {
    /// Name of the metric to report measurement statistics.
    #[arg(value_name = "METRIC_NAME")]
    pub name: String,
    /// Statistics is one or more (separated by commas) of [AVG, MIN, MAX, COUNT, SUM].
    #[arg(value_name = "STATISTICS")]
    pub statistics: String,
    #[arg(value_name = "UTC_START_TIME", allow_hyphen_values = true, help = STARTTIME_HELP)]
    pub starttime: String,
    /// number of seconds per interval (default is 300)
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
    #[command(flatten)]
    pub query: SeriesQuery,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct DimensionNameList {
    /// Name of the metric to report dimension name list.
    #[arg(long = "metric-name", value_name = "METRIC_NAME")]
    pub metric_name: Vec<String>,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct DimensionValueList {
    /// Name of the dimension to list dimension values.
    #[arg(value_name = "DIMENSION_NAME")]
    pub dimension_name: String,
    /// Name of the metric to report dimension value list.
    #[arg(long = "metric-name", value_name = "METRIC_NAME")]
    pub metric_name: Vec<String>,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub out: Output,
}

/// `--offset` and `--limit` of the alarm and notification list commands (which have no
/// `--tenant-id`).
#[derive(Args, Debug)]
pub struct ListPaging {
    /// The offset used to paginate the return data.
    #[arg(long, value_name = "OFFSET LOCATION")]
    pub offset: Option<String>,
    /// The amount of data to be returned up to the API maximum limit.
    #[arg(long, value_name = "RETURN LIMIT")]
    pub limit: Option<usize>,
}

const ADDRESS_HELP: &str = "A valid EMAIL Address, URL, or SERVICE KEY.";
const TYPE_HELP: &str =
    "The notification type. See monasca notification-type-list for supported types.";
const PERIOD_HELP: &str = "A period for the notification method.";

#[derive(Args, Debug)]
pub struct NotificationCreate {
    /// Name of the notification to create.
    #[arg(value_name = "NOTIFICATION_NAME")]
    pub name: String,
    #[arg(value_name = "TYPE", help = TYPE_HELP)]
    pub kind: String,
    #[arg(value_name = "ADDRESS", help = ADDRESS_HELP)]
    pub address: String,
    #[arg(long, value_name = "PERIOD", default_value_t = 0, allow_negative_numbers = true, help = PERIOD_HELP)]
    pub period: i64,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct NotificationList {
    /// Fields to sort by as a comma separated list. Valid values are id, name, type, address,
    /// created_at, updated_at. Fields may be followed by "asc" or "desc", ex "address desc", to
    /// set the direction of sorting.
    #[arg(long = "sort-by", value_name = "SORT BY FIELDS")]
    pub sort_by: Option<String>,
    #[command(flatten)]
    pub paging: ListPaging,
    #[command(flatten)]
    pub out: Output,
}

/// notification-show and notification-delete.
#[derive(Args, Debug)]
pub struct NotificationId {
    /// The ID of the notification.
    #[arg(value_name = "NOTIFICATION_ID")]
    pub id: String,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct NotificationUpdate {
    /// The ID of the notification.
    #[arg(value_name = "NOTIFICATION_ID")]
    pub id: String,
    /// Name of the notification.
    #[arg(value_name = "NOTIFICATION_NAME")]
    pub name: String,
    #[arg(value_name = "TYPE", help = TYPE_HELP)]
    pub kind: String,
    #[arg(value_name = "ADDRESS", help = ADDRESS_HELP)]
    pub address: String,
    #[arg(value_name = "PERIOD", allow_negative_numbers = true, help = PERIOD_HELP)]
    pub period: i64,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct NotificationPatch {
    /// The ID of the notification.
    #[arg(value_name = "NOTIFICATION_ID")]
    pub id: String,
    /// Name of the notification.
    #[arg(long, value_name = "NOTIFICATION_NAME")]
    pub name: Option<String>,
    #[arg(long = "type", value_name = "TYPE", help = TYPE_HELP)]
    pub kind: Option<String>,
    #[arg(long, value_name = "ADDRESS", help = ADDRESS_HELP)]
    pub address: Option<String>,
    #[arg(long, value_name = "PERIOD", allow_negative_numbers = true, help = PERIOD_HELP)]
    pub period: Option<i64>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct NotificationTypeList {
    #[command(flatten)]
    pub out: Output,
}

const SEVERITY_HELP: &str = "Severity is one of [LOW, MEDIUM, HIGH, CRITICAL].";
const SEVERITY_FILTER_HELP: &str = r#"Severity is one of ["LOW", "MEDIUM", "HIGH", "CRITICAL"]."#;
const EXPRESSION_HELP: &str = "The alarm expression to evaluate. Quoted.";
const MATCH_BY_VALUE: &str = "MATCH_BY_DIMENSION_KEY1,MATCH_BY_DIMENSION_KEY2,...";
const MATCH_BY_HELP: &str = "The metric dimensions to use to create unique alarms. One or more \
dimension key names separated by a comma. Key names need quoting when they contain special chars \
[&,(,),{,},>,<] that confuse the CLI parser.";
const ALARM_ACTIONS_HELP: &str = "The notification method to use when an alarm state is ALARM. \
This param may be specified multiple times.";
const OK_ACTIONS_HELP: &str = "The notification method to use when an alarm state is OK. This \
param may be specified multiple times.";
const UNDETERMINED_ACTIONS_HELP: &str = "The notification method to use when an alarm state is \
UNDETERMINED. This param may be specified multiple times.";

#[derive(Args, Debug)]
pub struct AlarmDefinitionCreate {
    /// Name of the alarm definition to create.
    #[arg(value_name = "ALARM_DEFINITION_NAME")]
    pub name: String,
    #[arg(value_name = "EXPRESSION", help = EXPRESSION_HELP)]
    pub expression: String,
    /// Description of the alarm.
    #[arg(long, value_name = "DESCRIPTION")]
    pub description: Option<String>,
    #[arg(long, value_name = "SEVERITY", help = SEVERITY_HELP)]
    pub severity: Option<String>,
    #[arg(long = "match-by", value_name = MATCH_BY_VALUE, help = MATCH_BY_HELP)]
    pub match_by: Option<String>,
    #[arg(long = "alarm-actions", value_name = "NOTIFICATION-ID", help = ALARM_ACTIONS_HELP)]
    pub alarm_actions: Vec<String>,
    #[arg(long = "ok-actions", value_name = "NOTIFICATION-ID", help = OK_ACTIONS_HELP)]
    pub ok_actions: Vec<String>,
    #[arg(long = "undetermined-actions", value_name = "NOTIFICATION-ID", help = UNDETERMINED_ACTIONS_HELP)]
    pub undetermined_actions: Vec<String>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmDefinitionList {
    /// Name of the alarm definition.
    #[arg(long, value_name = "ALARM_DEFINITION_NAME")]
    pub name: Option<String>,
    #[arg(long, value_name = "KEY1=VALUE1,KEY2=VALUE2...", help = DIMENSIONS_HELP)]
    pub dimensions: Vec<String>,
    #[arg(long, value_name = "SEVERITY", help = SEVERITY_FILTER_HELP)]
    pub severity: Option<String>,
    /// Fields to sort by as a comma separated list. Valid values are id, name, severity,
    /// created_at, updated_at. Fields may be followed by "asc" or "desc", ex "severity desc", to
    /// set the direction of sorting.
    #[arg(long = "sort-by", value_name = "SORT BY FIELDS")]
    pub sort_by: Option<String>,
    #[command(flatten)]
    pub paging: ListPaging,
    #[command(flatten)]
    pub out: Output,
}

/// alarm-definition-show and alarm-definition-delete.
#[derive(Args, Debug)]
pub struct AlarmDefinitionId {
    /// The ID of the alarm definition.
    #[arg(value_name = "ALARM_DEFINITION_ID")]
    pub id: String,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmDefinitionUpdate {
    /// The ID of the alarm definition.
    #[arg(value_name = "ALARM_DEFINITION_ID")]
    pub id: String,
    /// Name of the alarm definition.
    #[arg(value_name = "ALARM_DEFINITION_NAME")]
    pub name: String,
    /// Description of the alarm.
    #[arg(value_name = "DESCRIPTION", allow_hyphen_values = true)]
    pub description: String,
    #[arg(value_name = "EXPRESSION", help = EXPRESSION_HELP)]
    pub expression: String,
    /// The notification method(s) to use when an alarm state is ALARM as a comma separated
    /// list.
    #[arg(value_name = "ALARM-NOTIFICATION-ID1,ALARM-NOTIFICATION-ID2,...")]
    pub alarm_actions: String,
    /// The notification method(s) to use when an alarm state is OK as a comma separated list.
    #[arg(value_name = "OK-NOTIFICATION-ID1,OK-NOTIFICATION-ID2,...")]
    pub ok_actions: String,
    /// The notification method(s) to use when an alarm state is UNDETERMINED as a comma
    /// separated list.
    #[arg(value_name = "UNDETERMINED-NOTIFICATION-ID1,UNDETERMINED-NOTIFICATION-ID2,...")]
    pub undetermined_actions: String,
    /// The actions-enabled boolean is one of [true,false]
    #[arg(value_name = "ACTIONS-ENABLED")]
    pub actions_enabled: String,
    #[arg(value_name = MATCH_BY_VALUE, help = MATCH_BY_HELP)]
    pub match_by: String,
    #[arg(value_name = "SEVERITY", help = SEVERITY_HELP)]
    pub severity: String,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmDefinitionPatch {
    /// The ID of the alarm definition.
    #[arg(value_name = "ALARM_DEFINITION_ID")]
    pub id: String,
    /// Name of the alarm definition.
    #[arg(long, value_name = "ALARM_DEFINITION_NAME")]
    pub name: Option<String>,
    /// Description of the alarm.
    #[arg(long, value_name = "DESCRIPTION")]
    pub description: Option<String>,
    #[arg(long, value_name = "EXPRESSION", help = EXPRESSION_HELP)]
    pub expression: Option<String>,
    #[arg(long = "alarm-actions", value_name = "NOTIFICATION-ID", help = ALARM_ACTIONS_HELP)]
    pub alarm_actions: Vec<String>,
    #[arg(long = "ok-actions", value_name = "NOTIFICATION-ID", help = OK_ACTIONS_HELP)]
    pub ok_actions: Vec<String>,
    #[arg(long = "undetermined-actions", value_name = "NOTIFICATION-ID", help = UNDETERMINED_ACTIONS_HELP)]
    pub undetermined_actions: Vec<String>,
    /// The actions-enabled boolean is one of [true,false].
    #[arg(long = "actions-enabled", value_name = "ACTIONS-ENABLED")]
    pub actions_enabled: Option<String>,
    #[arg(long, value_name = "SEVERITY", help = SEVERITY_HELP)]
    pub severity: Option<String>,
    #[command(flatten)]
    pub out: Output,
}

/// The filters alarm-list and alarm-count share.
#[derive(Args, Debug)]
pub struct AlarmFilters {
    /// The ID of the alarm definition.
    #[arg(long = "alarm-definition-id", value_name = "ALARM_DEFINITION_ID")]
    pub alarm_definition_id: Option<String>,
    /// Name of the metric.
    #[arg(long = "metric-name", value_name = "METRIC_NAME")]
    pub metric_name: Option<String>,
    /// key value pair used to specify a metric dimension or just key to select all values of
    /// that dimension.This can be specified multiple times, or once with parameters separated by
    /// a comma. Dimensions need quoting when they contain special chars [&,(,),{,},>,<] that
    /// confuse the CLI parser.
    #[arg(
        long = "metric-dimensions",
        value_name = "KEY1=VALUE1,KEY2,KEY3=VALUE2..."
    )]
    pub metric_dimensions: Vec<String>,
    /// ALARM_STATE is one of [UNDETERMINED, OK, ALARM].
    #[arg(long, value_name = "ALARM_STATE")]
    pub state: Option<String>,
    #[arg(long, value_name = "SEVERITY", help = SEVERITY_FILTER_HELP)]
    pub severity: Option<String>,
    /// Return all alarms whose state was updated on or after the time specified.
    #[arg(
        long = "state-updated-start-time",
        value_name = "UTC_STATE_UPDATED_START"
    )]
    pub state_updated_start_time: Option<String>,
    /// The lifecycle state of the alarm.
    #[arg(long = "lifecycle-state", value_name = "LIFECYCLE_STATE")]
    pub lifecycle_state: Option<String>,
    /// The link to external data associated with the alarm.
    #[arg(long, value_name = "LINK")]
    pub link: Option<String>,
}

#[derive(Args, Debug)]
pub struct AlarmList {
    #[command(flatten)]
    pub filters: AlarmFilters,
    /// Fields to sort by as a comma separated list. Valid values are alarm_id,
    /// alarm_definition_id, state, severity, lifecycle_state, link, state_updated_timestamp,
    /// updated_timestamp, created_timestamp. Fields may be followed by "asc" or "desc", ex
    /// "severity desc", to set the direction of sorting.
    #[arg(long = "sort-by", value_name = "SORT BY FIELDS")]
    pub sort_by: Option<String>,
    #[command(flatten)]
    pub paging: ListPaging,
    #[command(flatten)]
    pub out: Output,
}

/// alarm-show and alarm-delete.
#[derive(Args, Debug)]
pub struct AlarmId {
    /// The ID of the alarm.
    #[arg(value_name = "ALARM_ID")]
    pub id: String,
    #[command(flatten)]
    pub out: Output,
}

const LINK_HELP: &str = "A link to an external resource with information about the alarm.";

#[derive(Args, Debug)]
pub struct AlarmUpdate {
    /// The ID of the alarm.
    #[arg(value_name = "ALARM_ID")]
    pub id: String,
    /// ALARM_STATE is one of [UNDETERMINED, OK, ALARM].
    #[arg(value_name = "ALARM_STATE")]
    pub state: String,
    /// The lifecycle state of the alarm.
    #[arg(value_name = "LIFECYCLE_STATE")]
    pub lifecycle_state: String,
    #[arg(value_name = "LINK", help = LINK_HELP)]
    pub link: String,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmPatch {
    /// The ID of the alarm.
    #[arg(value_name = "ALARM_ID")]
    pub id: String,
    /// ALARM_STATE is one of [UNDETERMINED, OK, ALARM].
    #[arg(long, value_name = "ALARM_STATE")]
    pub state: Option<String>,
    /// The lifecycle state of the alarm.
    #[arg(long = "lifecycle-state", value_name = "LIFECYCLE_STATE")]
    pub lifecycle_state: Option<String>,
    #[arg(long, value_name = "LINK", help = LINK_HELP)]
    pub link: Option<String>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmCount {
    #[command(flatten)]
    pub filters: AlarmFilters,
    /// Comma separated list of one or more fields to group the results by. Group by is one or
    /// more of [alarm_definition_id, name, state, link, lifecycle_state, metric_name,
    /// dimension_name, dimension_value].
    #[arg(long = "group-by", value_name = "GROUP_BY")]
    pub group_by: Option<String>,
    #[command(flatten)]
    pub paging: ListPaging,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmHistory {
    /// The ID of the alarm.
    #[arg(value_name = "ALARM_ID")]
    pub id: String,
    #[command(flatten)]
    pub paging: ListPaging,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Args, Debug)]
pub struct AlarmHistoryList {
    #[arg(long, value_name = "KEY1=VALUE1,KEY2=VALUE2...", help = DIMENSIONS_HELP)]
    pub dimensions: Vec<String>,
    /// measurements >= UTC time. format: 2014-01-01T00:00:00Z. OR format: -120 (previous 120
    /// minutes).
    #[arg(long, value_name = "UTC_START_TIME", allow_hyphen_values = true)]
    pub starttime: Option<String>,
    /// measurements <= UTC time. format: 2014-01-01T00:00:00Z.
    #[arg(long, value_name = "UTC_END_TIME", allow_hyphen_values = true)]
    pub endtime: Option<String>,
    #[command(flatten)]
    pub paging: ListPaging,
    #[command(flatten)]
    pub out: Output,
}
