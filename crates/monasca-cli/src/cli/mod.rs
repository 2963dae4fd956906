//! Command-line arguments, matching python-monascaclient 2.8's `monasca`.

mod connection;

use clap::{Args, Parser, Subcommand};
pub use connection::ConnectionOpts;

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
    /// Send a test notification through a notification method and wait for the outcome (a
    /// Vigil extension; python-monascaclient has no such command).
    NotificationTest(NotificationTest),
    /// List the latest delivery attempts of a notification method (a Vigil extension).
    NotificationDeliveries(NotificationDeliveries),
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
            Command::NotificationTest(a) => ("notification", &a.id),
            Command::NotificationDeliveries(a) => ("notification", &a.id),
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

/// `--plot` of measurement-list and metric-statistics (a Vigil extension: without it the
/// output is python-monascaclient's).
#[derive(Args, Debug)]
pub struct Plot {
    /// Draw the result as a chart in the terminal, one line per metric (and statistic)
    /// instead of a table (a Vigil extension; not with -j, -f or -c).
    #[arg(long, conflicts_with_all = ["json", "format", "columns"])]
    pub plot: bool,
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
    #[command(flatten)]
    pub plot: Plot,
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
    #[command(flatten)]
    pub plot: Plot,
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
pub struct NotificationTest {
    /// The ID of the notification.
    #[arg(value_name = "NOTIFICATION_ID")]
    pub id: String,
    /// How long to wait for the outcome, in seconds (0: queue it and return).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}

#[derive(Args, Debug)]
pub struct NotificationDeliveries {
    /// The ID of the notification.
    #[arg(value_name = "NOTIFICATION_ID")]
    pub id: String,
    /// The maximum number of attempts to list (newest first).
    #[arg(long, value_name = "LIMIT")]
    pub limit: Option<usize>,
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
