//! One function per command group: call the client, print a table or JSON.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use futures::TryStreamExt;
use secrecy::ExposeSecret;
use serde_json::Value;
use sysdig::{
    Client,
    alerts::Alert,
    channels::{Channel, ChannelOptions},
    dashboards::PanelKind,
    events::{ListEvents, NewEvent},
    teams::Team,
    users::{NewUser, User},
};

use crate::{
    check,
    cli::{
        AgentCmd, AlertCmd, ChannelCmd, ChannelFields, ChannelType, Command, ConnectionOpts,
        DashboardCmd, EventCmd, PanelCmd, PanelType, TeamCmd, TokenCmd, UserCmd,
    },
    output::{Format, Times, print, print_list, print_one},
    times::Unit::{EpochMs, EpochUs, SpanUs},
};

const USER_COLUMNS: &[&str] = &[
    "id",
    "username",
    "firstName",
    "lastName",
    "systemRole",
    "enabled",
];
const TEAM_COLUMNS: &[&str] = &["id", "name", "default", "userCount"];
const MEMBER_COLUMNS: &[&str] = &["userId", "userName", "role"];
const CHANNEL_COLUMNS: &[&str] = &["id", "name", "type", "enabled"];
const ALERT_COLUMNS: &[&str] = &["id", "name", "type", "enabled", "severityLabel", "timespan"];
const NOTIFICATION_COLUMNS: &[&str] = &[
    "id",
    "state",
    "severity",
    "resolved",
    "condition",
    "timestamp",
];
const DASHBOARD_COLUMNS: &[&str] = &[
    "id",
    "name",
    "username",
    "autoCreated",
    "shared",
    "public",
    "favorite",
];
const PANEL_COLUMNS: &[&str] = &["id", "name", "type"];
const EVENT_COLUMNS: &[&str] = &["id", "name", "severity", "scope", "timestamp"];

/// Creation and change times of users, teams, channels and dashboards: epoch milliseconds.
const STAMPS: Times = &[
    ("createdOn", EpochMs),
    ("modifiedOn", EpochMs),
    ("dateCreated", EpochMs),
    ("lastUpdated", EpochMs),
];
const ALERT_TIMES: Times = &[
    ("createdOn", EpochMs),
    ("modifiedOn", EpochMs),
    ("timespan", SpanUs),
];
/// Notifications count microseconds, events milliseconds.
const NOTIFICATION_TIMES: Times = &[("timestamp", EpochUs), ("timespan", SpanUs)];
const EVENT_TIMES: Times = &[("timestamp", EpochMs), ("createdOn", EpochMs)];
/// Lists without time fields.
const NO_TIMES: Times = &[];

pub async fn dispatch(c: &Client, conn: &ConnectionOpts, f: Format, cmd: Command) -> Result<()> {
    match cmd {
        Command::User(u) => user(c, f, u).await,
        Command::Team(t) => team(c, f, t).await,
        Command::Token(t) => token(c, conn, f, t).await,
        Command::Agent(AgentCmd::List) => {
            let a = c.connected_agents().await?;
            let columns = ["hostName", "machineId", "connected"];
            print_list(f, &a.agents, &columns, NO_TIMES)
        }
        Command::Channel(ch) => channel(c, f, ch).await,
        Command::Alert(a) => alert(c, f, a).await,
        Command::Dashboard(d) => dashboard(c, f, d).await,
        Command::Event(e) => event(c, f, e).await,
        Command::Promql(p) => crate::promql::run(c, f, p).await,
        Command::Data(d) => crate::data::run(c, f, d).await,
        Command::Secure(s) => crate::secure::run(c, f, s).await,
        Command::Completion { .. } | Command::Man { .. } => Ok(()),
    }
}

/// A user given as an id or an e-mail.
async fn find_user(c: &Client, user: &str) -> Result<User> {
    Ok(match user.parse::<u64>() {
        Ok(id) => c.users().get(id).await?,
        Err(_) => c.users().get_by_email(user).await?,
    })
}

async fn user(c: &Client, f: Format, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::Me => print_one(f, &c.me().await?, STAMPS),
        UserCmd::List => print_list(f, &c.users().list().await?, USER_COLUMNS, STAMPS),
        UserCmd::Get { user } => print_one(f, &find_user(c, &user).await?, STAMPS),
        UserCmd::Add {
            email,
            first_name,
            last_name,
            password,
            invite,
            role,
        } => {
            let mut u = NewUser::new(email);
            u.first_name = first_name;
            u.last_name = last_name;
            u.password = password;
            u.system_role = role;
            let created = if invite {
                c.users().invite(&u).await?
            } else {
                c.users().create(&u).await?
            };
            print_one(f, &created, STAMPS)
        }
        UserCmd::Update {
            user,
            first_name,
            last_name,
            role,
            enabled,
        } => {
            let mut u = find_user(c, &user).await?;
            set(&mut u.first_name, first_name);
            set(&mut u.last_name, last_name);
            set(&mut u.system_role, role);
            set(&mut u.enabled, enabled);
            print_one(f, &c.users().update(&u).await?, STAMPS)
        }
        UserCmd::Delete { user } => {
            let u = find_user(c, &user).await?;
            c.users().delete(u.id.unwrap_or_default()).await?;
            done(f, &format!("Deleted user {}", u.username))
        }
    }
}

fn done(f: Format, msg: &str) -> Result<()> {
    if f.json { print("{}") } else { print(msg) }
}

/// Sets `dst` to `v` when the option was given.
fn set<T>(dst: &mut Option<T>, v: Option<T>) {
    if v.is_some() {
        *dst = v;
    }
}

/// A team given as an id or a name.
async fn find_team(c: &Client, team: &str) -> Result<Team> {
    Ok(match team.parse::<u64>() {
        Ok(id) => c.teams().get(id).await?,
        Err(_) => c.teams().get_by_name(team).await?,
    })
}

async fn team(c: &Client, f: Format, cmd: TeamCmd) -> Result<()> {
    match cmd {
        TeamCmd::List { product, filter } => {
            let mut teams = c.teams().list(product.as_deref()).await?;
            if let Some(text) = filter {
                teams.retain(|t| t.name.contains(&text));
            }
            print_list(f, &teams, TEAM_COLUMNS, STAMPS)
        }
        TeamCmd::Get { team } => {
            let t = find_team(c, &team).await?;
            print_one(f, &t, STAMPS)?;
            if f.json {
                return Ok(());
            }
            let roles = t.user_roles.unwrap_or_default();
            print_list(f, &roles, MEMBER_COLUMNS, NO_TIMES)
        }
        TeamCmd::Add {
            name,
            description,
            filter,
            show,
            theme,
            members,
        } => {
            let mut t = Team::new(name);
            t.description = description;
            t.filter = filter;
            set(&mut t.show, show);
            set(&mut t.theme, theme);
            let created = c.teams().create(&t).await?;
            if members.is_empty() {
                return print_one(f, &created, STAMPS);
            }
            let roles = parse_members(&members)?;
            let full = c.teams().get(created.id.unwrap_or_default()).await?;
            print_one(f, &c.teams().save_roles(full, &roles).await?, STAMPS)
        }
        TeamCmd::Update {
            team,
            name,
            description,
            filter,
            show,
            theme,
            default_role,
        } => {
            let mut t = find_team(c, &team).await?;
            if let Some(n) = name {
                t.name = n;
            }
            set(&mut t.description, description);
            set(&mut t.filter, filter);
            set(&mut t.show, show);
            set(&mut t.theme, theme);
            set(&mut t.default_team_role, default_role);
            print_one(f, &c.teams().update(&t).await?, STAMPS)
        }
        TeamCmd::Delete { team } => {
            let t = find_team(c, &team).await?;
            c.teams().delete(t.id.unwrap_or_default()).await?;
            done(f, &format!("Deleted team {}", t.name))
        }
        TeamCmd::AddMember { team, users, role } => {
            let t = find_team(c, &team).await?;
            let roles = users.into_iter().map(|u| (u, role.clone())).collect();
            let t = c.teams().save_roles(t, &roles).await?;
            print_list(
                f,
                &t.user_roles.unwrap_or_default(),
                MEMBER_COLUMNS,
                NO_TIMES,
            )
        }
        TeamCmd::RemoveMember { team, users } => {
            let t = find_team(c, &team).await?;
            let t = c.teams().remove_users(t, &users).await?;
            print_list(
                f,
                &t.user_roles.unwrap_or_default(),
                MEMBER_COLUMNS,
                NO_TIMES,
            )
        }
    }
}

fn parse_members(members: &[String]) -> Result<BTreeMap<String, String>> {
    members
        .iter()
        .map(|m| match m.rsplit_once(':') {
            Some((u, r)) if !u.is_empty() && !r.is_empty() => Ok((u.to_string(), r.to_string())),
            _ => bail!("invalid member {m:?}: expected USER:ROLE"),
        })
        .collect()
}

async fn token(c: &Client, conn: &ConnectionOpts, f: Format, cmd: TokenCmd) -> Result<()> {
    let key = match cmd {
        TokenCmd::Get { user: None } => c.token().get().await?,
        TokenCmd::Get { user: Some(u) } => {
            let Some(team) = conn.team.as_deref() else {
                bail!("--user needs --team (the team's name or id)");
            };
            match team.parse::<u64>() {
                Ok(id) => c.token().of_user_in_team(&u, id).await?,
                Err(_) => c.token().of_user(&u, team).await?,
            }
        }
        TokenCmd::Reset => c.token().reset().await?,
    };
    // The one place a secret is printed: the user asked for it.
    if f.json {
        print(&serde_json::json!({"token": {"key": key.expose_secret()}}).to_string())
    } else {
        print(key.expose_secret())
    }
}

fn channel_options(kind: Option<ChannelType>, f: ChannelFields, o: &mut ChannelOptions) {
    if !f.emails.is_empty() {
        o.email_recipients = Some(f.emails);
    }
    if !f.topics.is_empty() {
        o.sns_topic_arns = Some(f.topics);
    }
    set(&mut o.url, f.webhook_url);
    set(&mut o.channel, f.channel);
    set(&mut o.account, f.account);
    set(&mut o.service_key, f.service_key);
    set(&mut o.service_name, f.service_name);
    set(&mut o.api_key, f.api_key);
    set(&mut o.routing_key, f.routing_key);
    if matches!(kind, Some(ChannelType::Pagerduty)) {
        o.notify_on_ok.get_or_insert(true);
        o.notify_on_resolve.get_or_insert(true);
    }
}

fn read_json(path: &std::path::Path) -> Result<Value> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// The object in a file that holds either `{"<key>": {...}}` or the object itself.
fn unwrap_key(v: Value, key: &str) -> Value {
    match v {
        Value::Object(mut m) if m.len() == 1 && m.contains_key(key) => {
            m.remove(key).unwrap_or_default()
        }
        other => other,
    }
}

async fn channel(c: &Client, f: Format, cmd: ChannelCmd) -> Result<()> {
    match cmd {
        ChannelCmd::List => print_list(f, &c.channels().list().await?, CHANNEL_COLUMNS, STAMPS),
        ChannelCmd::Get { id } => print_one(f, &c.channels().get(id).await?, STAMPS),
        ChannelCmd::Add {
            kind,
            name,
            fields,
            disabled,
        } => {
            let type_name = match kind {
                ChannelType::Email => "EMAIL",
                ChannelType::Webhook => "WEBHOOK",
                ChannelType::Slack => "SLACK",
                ChannelType::Pagerduty => "PAGER_DUTY",
                ChannelType::Sns => "SNS",
                ChannelType::Opsgenie => "OPSGENIE",
                ChannelType::Victorops => "VICTOROPS",
            };
            let missing = match kind {
                ChannelType::Email if fields.emails.is_empty() => Some("--email"),
                ChannelType::Webhook | ChannelType::Slack if fields.webhook_url.is_none() => {
                    Some("--webhook-url")
                }
                ChannelType::Pagerduty
                    if fields.account.is_none()
                        || fields.service_key.is_none()
                        || fields.service_name.is_none() =>
                {
                    Some("--account, --service-key and --service-name")
                }
                ChannelType::Sns if fields.topics.is_empty() => Some("--topic"),
                ChannelType::Opsgenie if fields.api_key.is_none() => Some("--api-key"),
                ChannelType::Victorops
                    if fields.api_key.is_none() || fields.routing_key.is_none() =>
                {
                    Some("--api-key and --routing-key")
                }
                _ => None,
            };
            if let Some(m) = missing {
                bail!("a {type_name} channel needs {m}");
            }
            let mut ch = Channel {
                kind: type_name.into(),
                name,
                enabled: Some(!disabled),
                ..Channel::default()
            };
            channel_options(Some(kind), fields, &mut ch.options);
            print_one(f, &c.channels().create(&ch).await?, STAMPS)
        }
        ChannelCmd::AddJson { file } => {
            let v = unwrap_key(read_json(&file)?, "notificationChannel");
            let ch: Channel = serde_json::from_value(v).context("not a notification channel")?;
            check::channel(&ch)?;
            print_one(f, &c.channels().create(&ch).await?, STAMPS)
        }
        ChannelCmd::Update {
            id,
            name,
            enabled,
            fields,
        } => {
            let mut ch = c.channels().get(id).await?;
            if let Some(n) = name {
                ch.name = n;
            }
            set(&mut ch.enabled, enabled);
            channel_options(None, fields, &mut ch.options);
            print_one(f, &c.channels().update(&ch).await?, STAMPS)
        }
        ChannelCmd::Delete { id } => {
            c.channels().delete(id).await?;
            done(f, &format!("Deleted notification channel {id}"))
        }
        ChannelCmd::Test { id, wait } => crate::deliveries::send_test(c, f, id, wait).await,
        ChannelCmd::Deliveries { id } => crate::deliveries::list(c, f, id).await,
    }
}

/// Seconds since the epoch; negative values count back from now; `None` is now minus
/// `default_back` (the default end, -1, rounds the current second up).
fn when(v: Option<i64>, default_back: i64) -> i64 {
    let now = jiff::Timestamp::now().as_second();
    match v {
        None => now - default_back,
        Some(s) if s <= 0 => now + s,
        Some(s) => s,
    }
}

async fn alert(c: &Client, f: Format, cmd: AlertCmd) -> Result<()> {
    match cmd {
        AlertCmd::List => print_list(f, &c.alerts().list().await?, ALERT_COLUMNS, ALERT_TIMES),
        AlertCmd::Get { id } => print_one(f, &c.alerts().get(id).await?, ALERT_TIMES),
        AlertCmd::Add {
            name,
            condition,
            description,
            severity,
            for_s,
            filter,
            segment_by,
            segment_condition,
            notify,
            disabled,
        } => {
            let mut a = Alert::manual(name, condition)
                .description(description)
                .severity(severity)
                .for_at_least_s(for_s)
                .filter(filter)
                .enabled(!disabled)
                .segment_by(segment_by, &segment_condition);
            if !notify.is_empty() {
                a = a.notify(notify);
            }
            print_one(f, &c.alerts().create(&a).await?, ALERT_TIMES)
        }
        AlertCmd::AddJson { file } => {
            let v = unwrap_key(read_json(&file)?, "alert");
            let a: Alert = serde_json::from_value(v).context("not an alert")?;
            check::alert(&a)?;
            print_one(f, &c.alerts().create(&a).await?, ALERT_TIMES)
        }
        AlertCmd::Update {
            id,
            name,
            description,
            condition,
            severity,
            enabled,
        } => {
            let mut a = c.alerts().get(id).await?;
            if let Some(n) = name {
                a.name = n;
            }
            set(&mut a.description, description);
            set(&mut a.condition, condition);
            set(&mut a.severity, severity);
            set(&mut a.enabled, enabled);
            print_one(f, &c.alerts().update(&a).await?, ALERT_TIMES)
        }
        AlertCmd::Delete { id } => {
            c.alerts().delete(id).await?;
            done(f, &format!("Deleted alert {id}"))
        }
        AlertCmd::Notifications {
            from,
            to,
            state,
            resolved,
        } => {
            let mut call = c.alerts().notifications(when(from, 86_400), when(to, -1));
            if let Some(s) = state {
                call = call.state(s);
            }
            if let Some(r) = resolved {
                call = call.resolved(r);
            }
            print_list(
                f,
                &call.send().await?,
                NOTIFICATION_COLUMNS,
                NOTIFICATION_TIMES,
            )
        }
        AlertCmd::Resolve { id, unresolve } => {
            let n = c.alerts().resolve_id(id, !unresolve, 7 * 86_400).await?;
            print_one(f, &n, NOTIFICATION_TIMES)
        }
    }
}

async fn dashboard(c: &Client, f: Format, cmd: DashboardCmd) -> Result<()> {
    let d = c.dashboards();
    match cmd {
        DashboardCmd::List { full } => {
            print_list(f, &d.list(!full).await?, DASHBOARD_COLUMNS, STAMPS)
        }
        DashboardCmd::Get { id } => print_one(f, &d.get(id).await?, STAMPS),
        DashboardCmd::Create {
            name,
            from_view,
            from_dashboard,
            scope,
            shared,
            public,
        } => {
            let created = match (from_view, from_dashboard) {
                (Some(v), _) => {
                    d.create_from_view(&name, &v, scope.as_deref(), shared, public)
                        .await?
                }
                (None, Some(src)) => {
                    d.create_from_dashboard(&name, &src, scope.as_deref(), shared, public)
                        .await?
                }
                (None, None) => {
                    let mut new = sysdig::dashboards::Dashboard::new(name);
                    if let Some(s) = scope {
                        new.scope_expression_list = Some(sysdig::scope::parse(&s)?);
                    }
                    new.shared = Some(shared);
                    new.public = Some(public);
                    d.create(&new).await?
                }
            };
            print_one(f, &created, STAMPS)
        }
        DashboardCmd::Delete { id } => {
            d.delete(id).await?;
            done(f, &format!("Deleted dashboard {id}"))
        }
        DashboardCmd::Copy { id, name } => print_one(f, &d.copy(id, &name).await?, STAMPS),
        DashboardCmd::Fav { id } => print_one(f, &d.favorite(id, true).await?, STAMPS),
        DashboardCmd::Unfav { id } => print_one(f, &d.favorite(id, false).await?, STAMPS),
        DashboardCmd::Share { id, team_id, edit } => {
            let r = match team_id {
                Some(t) => d.share_with_team(id, t, edit).await?,
                None => d.share_with_all_teams(id, edit).await?,
            };
            print_one(f, &r, STAMPS)
        }
        DashboardCmd::Unshare { id } => print_one(f, &d.unshare(id).await?, STAMPS),
        DashboardCmd::Templates => {
            print_list(f, &d.templates().await?, &["dashboardId", "name"], NO_TIMES)
        }
        DashboardCmd::Panel(PanelCmd::Add {
            id,
            name,
            query,
            kind,
        }) => {
            let kind = match kind {
                PanelType::Timechart => PanelKind::Timechart,
                PanelType::Number => PanelKind::Number,
            };
            let r = d.add_panel(id, &name, kind, &query).await?;
            print_list(f, &r.panels.unwrap_or_default(), PANEL_COLUMNS, NO_TIMES)
        }
        DashboardCmd::Panel(PanelCmd::Delete { id, panel_id }) => {
            let r = d.remove_panel(id, panel_id).await?;
            print_list(f, &r.panels.unwrap_or_default(), PANEL_COLUMNS, NO_TIMES)
        }
    }
}

async fn event(c: &Client, f: Format, cmd: EventCmd) -> Result<()> {
    match cmd {
        EventCmd::Post {
            name,
            description,
            severity,
            scope,
            tags,
        } => {
            let mut e = NewEvent::new(name);
            e.description = description;
            e.severity = severity;
            e.scope = scope;
            for t in tags {
                let Some((k, v)) = t.split_once('=') else {
                    bail!("invalid tag {t:?}: expected KEY=VALUE");
                };
                e = e.tag(k, v);
            }
            print_one(f, &c.events().post(&e).await?, EVENT_TIMES)
        }
        EventCmd::List {
            name,
            categories,
            statuses,
            direction,
            limit,
            pivot,
            from,
            to,
            all,
        } => {
            let mut op = ListEvents::new()
                .direction(direction)
                .limit(limit)
                .window_ms(from.map(|s| s * 1000), to.map(|s| s * 1000));
            if let Some(n) = name {
                op = op.name(n);
            }
            if !categories.is_empty() {
                op = op.categories(categories);
            }
            if !statuses.is_empty() {
                op = op.statuses(statuses);
            }
            if let Some(p) = pivot {
                op = op.pivot(p);
            }
            let events = if all {
                c.events().list().with(op).stream().try_collect().await?
            } else {
                c.events().list().with(op).send().await?.events
            };
            print_list(f, &events, EVENT_COLUMNS, EVENT_TIMES)
        }
        EventCmd::Get { id } => print_one(f, &c.events().get(&id).await?, EVENT_TIMES),
        EventCmd::Delete { id } => {
            c.events().delete(&id).await?;
            done(f, &format!("Deleted event {id}"))
        }
    }
}
