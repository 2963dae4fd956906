//! The command line: global connection options and one subcommand group per resource.
//! Names are alike in every group: `list` (alias `ls`), `get`, `add`, `update`, `delete`
//! (aliases `del`, `rm`), and every command has a one-line description.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sdc",
    version,
    about = "Sysdig Monitor / IBM Cloud Monitoring from the command line"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectionOpts,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true, help_heading = "Output options")]
    pub json: bool,
    /// Show times in tables in the local time zone instead of UTC (--json stays raw).
    #[arg(long, global = true, help_heading = "Output options")]
    pub local: bool,
    /// Print lists as CSV (a header line, then one line per row) instead of tables.
    #[arg(
        long,
        global = true,
        help_heading = "Output options",
        conflicts_with = "json"
    )]
    pub csv: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionOpts {
    /// Base URL of Sysdig Monitor (a trailing /api is removed).
    #[arg(long, global = true, env = "SDC_URL", default_value = sysdig::DEFAULT_URL)]
    pub url: String,
    /// Sysdig Monitor API token.
    #[arg(long, global = true, env = "SDC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// IBM Cloud IAM API key (IBM Cloud Monitoring instead of a Sysdig token).
    #[arg(long, global = true, env = "SDC_IBM_APIKEY", hide_env_values = true)]
    pub ibm_apikey: Option<String>,
    /// IBM Cloud Monitoring instance GUID (IBMInstanceID).
    #[arg(long, global = true, env = "SDC_IBM_INSTANCE_ID")]
    pub ibm_instance_id: Option<String>,
    /// IBM IAM base URL [default: https://iam.cloud.ibm.com, or iam.test.cloud.ibm.com for
    /// .test. URLs].
    #[arg(long, global = true, env = "SDC_IBM_IAM_URL")]
    pub ibm_iam_url: Option<String>,
    /// IBM: the team to act in (id or name) instead of the instance's default team.
    #[arg(long, global = true, env = "SDC_TEAM")]
    pub team: Option<String>,
    /// Do not verify the server's TLS certificate (SDC_SSL_VERIFY=false).
    #[arg(long, global = true, conflicts_with = "ca_bundle")]
    pub insecure: bool,
    /// Trust this PEM CA bundle (SDC_SSL_VERIFY=<path>).
    #[arg(long, global = true)]
    pub ca_bundle: Option<PathBuf>,
    /// Seconds to wait for each request.
    #[arg(long, global = true, default_value_t = 60)]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Users.
    #[command(subcommand)]
    User(UserCmd),
    /// Teams and their members.
    #[command(subcommand)]
    Team(TeamCmd),
    /// Monitor API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Agents.
    #[command(subcommand)]
    Agent(AgentCmd),
    /// Notification channels.
    #[command(subcommand)]
    Channel(ChannelCmd),
    /// Alerts and alert notifications.
    #[command(subcommand)]
    Alert(AlertCmd),
    /// Dashboards (v3).
    #[command(subcommand)]
    Dashboard(DashboardCmd),
    /// Events (v2).
    #[command(subcommand)]
    Event(EventCmd),
    /// PromQL queries through the Prometheus API.
    #[command(subcommand)]
    Promql(PromqlCmd),
    /// Sysdig's legacy data API.
    #[command(subcommand)]
    Data(DataCmd),
    /// Sysdig Secure (SDC_SECURE_URL/SDC_SECURE_TOKEN when set).
    #[command(subcommand)]
    Secure(crate::secure::SecureCmd),
    /// Print a shell completion script.
    Completion { shell: cli_kit::Shell },
    /// Write the man pages (sdc.1 and one per command) into a directory.
    #[command(hide = true)]
    Man {
        /// Where to write them.
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// The user the credentials belong to.
    Me,
    /// All users.
    #[command(visible_alias = "ls")]
    List,
    /// A user by id or e-mail.
    Get { user: String },
    /// Create (provision) a user, or invite one with --invite.
    Add {
        email: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long, conflicts_with = "invite")]
        password: Option<String>,
        /// Send an invitation instead of provisioning.
        #[arg(long)]
        invite: bool,
        /// System role of an invited user (ROLE_USER, ROLE_CUSTOMER).
        #[arg(long, requires = "invite")]
        role: Option<String>,
    },
    /// Change a user (by id or e-mail).
    Update {
        user: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete a user (by id or e-mail).
    #[command(visible_aliases = ["del", "rm"])]
    Delete { user: String },
}

#[derive(Debug, Subcommand)]
pub enum TeamCmd {
    /// Teams, optionally of one product or with a name containing a text.
    #[command(visible_alias = "ls")]
    List {
        /// Only teams of this product (SDC or SDS).
        #[arg(long)]
        product: Option<String>,
        /// Only teams whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
    },
    /// A team by id or name, with its members.
    Get {
        #[arg(id = "team_ref", value_name = "TEAM")]
        team: String,
    },
    /// Create a team, optionally with members.
    Add {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// The team's scope.
        #[arg(long)]
        filter: Option<String>,
        /// host or container.
        #[arg(long)]
        show: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        /// Members as USER:ROLE (repeatable).
        #[arg(long = "member", value_name = "USER:ROLE")]
        members: Vec<String>,
    },
    /// Change a team (by id or name).
    Update {
        #[arg(id = "team_ref", value_name = "TEAM")]
        team: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        filter: Option<String>,
        #[arg(long)]
        show: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        #[arg(long)]
        default_role: Option<String>,
    },
    /// Delete a team (by id or name).
    #[command(visible_aliases = ["del", "rm"])]
    Delete {
        #[arg(id = "team_ref", value_name = "TEAM")]
        team: String,
    },
    /// Add users to a team, or change their role.
    AddMember {
        #[arg(id = "team_ref", value_name = "TEAM")]
        team: String,
        users: Vec<String>,
        #[arg(long, default_value = "ROLE_TEAM_STANDARD")]
        role: String,
    },
    /// Remove users from a team.
    #[command(visible_aliases = ["del-member", "rm-member"])]
    RemoveMember {
        #[arg(id = "team_ref", value_name = "TEAM")]
        team: String,
        users: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Your token for the current team, or another user's in the team given with the
    /// global --team (name or id).
    Get {
        #[arg(long)]
        user: Option<String>,
    },
    /// Replace your token (Vigil emulator only: the real Sysdig resets tokens in its UI).
    Reset,
}

#[derive(Debug, Subcommand)]
pub enum AgentCmd {
    /// Connected agents.
    #[command(visible_alias = "ls")]
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelType {
    Email,
    Webhook,
    Slack,
    Pagerduty,
    Sns,
    Opsgenie,
    Victorops,
}

#[derive(Debug, Args)]
pub struct ChannelFields {
    /// E-mail recipient (repeatable; EMAIL).
    #[arg(long = "email")]
    pub emails: Vec<String>,
    /// Target URL (WEBHOOK, SLACK); not --url, which names the Sysdig server.
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Slack channel, e.g. #alerts.
    #[arg(long)]
    pub channel: Option<String>,
    /// PagerDuty account.
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub service_key: Option<String>,
    #[arg(long)]
    pub service_name: Option<String>,
    /// API key (OPSGENIE, VICTOROPS).
    #[arg(long)]
    pub api_key: Option<String>,
    #[arg(long)]
    pub routing_key: Option<String>,
    /// SNS topic ARN (repeatable).
    #[arg(long = "topic")]
    pub topics: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCmd {
    /// All notification channels.
    #[command(visible_alias = "ls")]
    List,
    /// A notification channel by id.
    Get { id: u64 },
    /// Create a channel of a type from flags.
    Add {
        #[arg(value_enum)]
        kind: ChannelType,
        name: String,
        #[command(flatten)]
        fields: ChannelFields,
        #[arg(long)]
        disabled: bool,
    },
    /// Create a channel from a JSON file ("-" for stdin).
    AddJson { file: PathBuf },
    /// Change a channel: its name, whether it is enabled, or its type's fields.
    Update {
        id: u64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
        #[command(flatten)]
        fields: ChannelFields,
    },
    /// Delete a notification channel.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64 },
    /// Send a test notification through a channel and wait for the outcome (Vigil's server).
    Test {
        id: u64,
        /// How long to wait for the outcome, in seconds (0: queue it and return).
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
    /// The latest delivery attempts of a channel, newest first (Vigil's server).
    Deliveries { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum AlertCmd {
    /// All alerts.
    #[command(visible_alias = "ls")]
    List,
    /// An alert by id.
    Get { id: u64 },
    /// Create a metric (MANUAL) alert.
    Add {
        name: String,
        /// AGG(METRIC) OP NUMBER, e.g. "avg(cpu.used.percent) > 80"; AGG is avg, timeAvg, min,
        /// max, sum or count, nested at most once (avg(timeAvg(m))); AND, OR, NOT combine.
        condition: String,
        #[arg(long, default_value = "")]
        description: String,
        /// 0 (high) to 7 (info).
        #[arg(long, default_value_t = 6, value_parser = severity())]
        severity: u8,
        /// Seconds the condition must hold.
        #[arg(long = "for", default_value_t = 600)]
        for_s: u64,
        /// Scope, e.g. host.hostName = "web1".
        #[arg(long, default_value = "")]
        filter: String,
        /// Segment by these labels (repeatable).
        #[arg(long = "segment-by")]
        segment_by: Vec<String>,
        /// ANY or ALL.
        #[arg(long, default_value = "ANY")]
        segment_condition: String,
        /// Notification channel ids (repeatable).
        #[arg(long = "notify")]
        notify: Vec<u64>,
        #[arg(long)]
        disabled: bool,
    },
    /// Create an alert from a JSON file ("-" for stdin), {"alert": {...}} or the bare object.
    AddJson { file: PathBuf },
    /// Change an alert's name, description, condition, severity or state.
    Update {
        id: u64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// A new condition, as for `alert add`.
        #[arg(long)]
        condition: Option<String>,
        /// 0 (high) to 7 (info).
        #[arg(long, value_parser = severity())]
        severity: Option<u8>,
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete an alert.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64 },
    /// Alert notifications in a time window.
    Notifications {
        /// Start: seconds since the epoch, or negative seconds from now [default: -86400].
        #[arg(long, allow_hyphen_values = true)]
        from: Option<i64>,
        /// End: seconds since the epoch, or negative seconds from now [default: now].
        #[arg(long, allow_hyphen_values = true)]
        to: Option<i64>,
        /// ACTIVE or OK.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        resolved: Option<bool>,
    },
    /// Mark a notification (of the last 7 days) resolved.
    Resolve {
        id: u64,
        /// Mark it unresolved instead.
        #[arg(long)]
        unresolve: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DashboardCmd {
    /// Dashboards (the light list unless --full).
    #[command(visible_alias = "ls")]
    List {
        /// Full dashboards rather than the light list.
        #[arg(long)]
        full: bool,
    },
    /// A dashboard by id.
    Get { id: u64 },
    /// Create a dashboard, empty or from a template (view) or another dashboard.
    Create {
        name: String,
        /// Template (view) name.
        #[arg(long, conflicts_with = "from_dashboard")]
        from_view: Option<String>,
        /// Name of a dashboard to copy.
        #[arg(long)]
        from_dashboard: Option<String>,
        /// Scope, e.g. "kubernetes.namespace.name = prod".
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        shared: bool,
        #[arg(long)]
        public: bool,
    },
    /// Delete a dashboard.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64 },
    /// Copy a dashboard under a new name.
    Copy { id: u64, name: String },
    /// Mark a dashboard as a favorite.
    Fav { id: u64 },
    /// Unmark a favorite dashboard.
    Unfav { id: u64 },
    /// Share with all teams, or with one (--team-id).
    Share {
        id: u64,
        #[arg(long)]
        team_id: Option<u64>,
        /// Allow editing (default read-only).
        #[arg(long)]
        edit: bool,
    },
    /// Stop sharing a dashboard.
    Unshare { id: u64 },
    /// Dashboard templates (views).
    Templates,
    /// Panels.
    #[command(subcommand)]
    Panel(PanelCmd),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PanelType {
    Timechart,
    Number,
}

#[derive(Debug, Subcommand)]
pub enum PanelCmd {
    /// Add a panel with one PromQL query.
    Add {
        id: u64,
        name: String,
        query: String,
        #[arg(long = "type", value_enum, default_value = "timechart")]
        kind: PanelType,
    },
    /// Delete a panel from a dashboard.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: u64, panel_id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum EventCmd {
    /// Post a custom event.
    Post {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// 0 (high) to 7 (low).
        #[arg(long, value_parser = severity())]
        severity: Option<u8>,
        /// e.g. "host.hostName = 'web1'".
        #[arg(long)]
        scope: Option<String>,
        /// KEY=VALUE (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Events, filtered by name, category, status or time window.
    #[command(visible_alias = "ls")]
    List {
        /// Only events with exactly this name.
        #[arg(long)]
        name: Option<String>,
        /// alert, custom, docker, containerd, kubernetes (repeatable).
        #[arg(long = "category")]
        categories: Vec<String>,
        /// triggered, resolved, acknowledged, unacknowledged (repeatable).
        #[arg(long = "status")]
        statuses: Vec<String>,
        /// before or after the pivot.
        #[arg(long, default_value = "before")]
        direction: String,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Start paging from this event id.
        #[arg(long)]
        pivot: Option<String>,
        /// Window start, seconds since the epoch.
        #[arg(long)]
        from: Option<i64>,
        /// Window end, seconds since the epoch.
        #[arg(long)]
        to: Option<i64>,
        /// Follow pages until the end (limit per page).
        #[arg(long)]
        all: bool,
    },
    /// An event by id.
    Get { id: String },
    /// Delete an event.
    #[command(visible_aliases = ["del", "rm"])]
    Delete { id: String },
}

/// Sysdig's severities: 0 (high) to 7 (info); anything else is a usage error.
fn severity() -> clap::builder::RangedI64ValueParser<u8> {
    clap::value_parser!(u8).range(0..=7)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every subcommand below `cmd`, with its path (`alert delete`).
    fn walk<'a>(cmd: &'a clap::Command, path: &str, out: &mut Vec<(String, &'a clap::Command)>) {
        for sub in cmd.get_subcommands() {
            let p = format!("{path} {}", sub.get_name()).trim().to_string();
            out.push((p.clone(), sub));
            walk(sub, &p, out);
        }
    }

    fn all() -> Vec<(String, clap::Command)> {
        let cli = Cli::command();
        let mut subs = Vec::new();
        walk(&cli, "", &mut subs);
        subs.into_iter().map(|(p, c)| (p, c.clone())).collect()
    }

    #[test]
    fn the_command_tree_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_a_one_line_about() {
        let subs = all();
        assert!(subs.len() > 50, "{}", subs.len());
        let missing: Vec<&str> = subs
            .iter()
            .filter(|(_, c)| {
                c.get_about()
                    .map(ToString::to_string)
                    .is_none_or(|a| a.trim().is_empty() || a.contains('\n'))
            })
            .map(|(p, _)| p.as_str())
            .collect();
        assert!(missing.is_empty(), "no one-line about: {missing:?}");
    }

    #[test]
    fn delete_and_list_are_named_alike() {
        let mut deletes = 0;
        for (path, c) in all() {
            let name = c.get_name();
            let aliases: Vec<&str> = c.get_visible_aliases().collect();
            assert!(
                !["del", "rm", "remove", "ls"].contains(&name),
                "{path}: use delete / list"
            );
            if name == "delete" {
                deletes += 1;
                assert_eq!(aliases, ["del", "rm"], "{path}");
            }
            if name == "list" {
                assert_eq!(aliases, ["ls"], "{path}");
            }
        }
        // 7 Monitor groups, 5 Secure ones (policy, rule, falco-macro, falco-list, compliance task).
        assert_eq!(deletes, 12);
    }
}

#[derive(Debug, Subcommand)]
pub enum PromqlCmd {
    /// An instant query.
    Query {
        query: String,
        /// Evaluation time, seconds since the epoch (default: now).
        #[arg(long)]
        time: Option<i64>,
        /// Draw a range vector (a matrix, e.g. `x[10m]`) as a chart; an instant vector has
        /// no time axis and is refused (use `promql range`).
        #[arg(long, conflicts_with_all = ["json", "csv"])]
        plot: bool,
    },
    /// A range query.
    Range {
        query: String,
        /// Start, seconds since the epoch (default: an hour ago).
        #[arg(long)]
        start: Option<i64>,
        /// End, seconds since the epoch (default: now).
        #[arg(long)]
        end: Option<i64>,
        /// Seconds between points.
        #[arg(long, default_value_t = 60)]
        step: u64,
        /// Draw the series as a chart in the terminal (one line per series).
        #[arg(long, conflicts_with_all = ["json", "csv"])]
        plot: bool,
    },
    /// The series that series selectors match (repeatable).
    Series {
        #[arg(required = true)]
        matchers: Vec<String>,
    },
    /// Every label name.
    Labels,
    /// The values of a label.
    Values { label: String },
}

#[derive(Debug, Subcommand)]
pub enum DataCmd {
    /// Metrics over the last seconds, by group.
    Query {
        /// ID or ID:TIME:GROUP, e.g. cpu.used.percent:timeAvg:avg (repeatable).
        #[arg(long = "metric", required = true)]
        metrics: Vec<String>,
        /// A grouping key, e.g. host.hostName (repeatable).
        #[arg(long = "key")]
        keys: Vec<String>,
        /// Seconds back from now.
        #[arg(long, default_value_t = 600)]
        last: i64,
        /// Seconds per sample (default: the whole window as one).
        #[arg(long)]
        sampling: Option<i64>,
        /// Scope, e.g. host.hostName = web1.
        #[arg(long)]
        filter: Option<String>,
        /// First group (0: the top one).
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Last group.
        #[arg(long, default_value_t = 9)]
        to: u64,
        /// Draw each metric of each group as a line of a chart in the terminal.
        #[arg(long, conflicts_with_all = ["json", "csv"])]
        plot: bool,
    },
    /// The metrics and keys the data API knows.
    Metrics,
}
