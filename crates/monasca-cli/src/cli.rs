//! Command-line arguments, matching python-monascaclient 2.8's `monasca`.

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

/// Where the API is and how to authenticate.
#[derive(Args, Debug)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionOpts {
    /// Authentication type: admin_token (a token sent as is), none (no token), password or token
    /// (Keystone)
    #[arg(long, env = "OS_AUTH_TYPE", value_name = "TYPE", global = true)]
    pub os_auth_type: Option<String>,

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
    /// Print a shell completion script (bash unless another shell is named).
    #[command(alias = "completion")]
    Complete {
        #[arg(value_enum, default_value = "bash")]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct Output {
    /// output raw json response
    #[arg(short = 'j', long = "json")]
    pub json: bool,
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
