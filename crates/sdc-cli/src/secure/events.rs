//! `sdc secure events list|get|tail`: runtime policy events.

use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde_json::Value;
use sysdig::{
    Client,
    secure::events::{ListPolicyEvents, PolicyEvent},
};

use crate::{
    output::{Format, Times, print, print_list, print_one},
    times::{self, Unit::EpochNs},
};

const COLUMNS: &[&str] = &["id", "timestamp", "severity", "name", "source", "machineId"];
const TIMES: Times = &[("timestamp", EpochNs)];

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// Events of a time window (newest first), optionally filtered.
    #[command(visible_alias = "ls")]
    List {
        #[command(flatten)]
        window: super::WindowArgs,
        /// Secure's filter, e.g. 'severity in ("4","5") and host.hostName = "web-1"'.
        #[arg(long)]
        filter: Option<String>,
        /// Events per page.
        #[arg(long, default_value_t = 999)]
        limit: u32,
        /// Follow the cursor through every page of the window.
        #[arg(long)]
        all: bool,
    },
    /// An event by id.
    Get { id: String },
    /// Print new events as they arrive (polling with the cursor) until Ctrl-C, --count or
    /// --for.
    Tail(TailArgs),
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Secure's filter (see `events list`).
    #[arg(long)]
    pub filter: Option<String>,
    /// Print the last N events first.
    #[arg(long, default_value_t = 10)]
    last: u32,
    /// Seconds between polls.
    #[arg(long, default_value_t = 2.0)]
    interval: f64,
    /// Stop after printing this many events.
    #[arg(long)]
    count: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long = "for")]
    for_s: Option<f64>,
}

pub async fn run(c: &Client, f: Format, cmd: EventsCmd) -> Result<()> {
    let events = c.policy_events();
    match cmd {
        EventsCmd::List {
            window,
            filter,
            limit,
            all,
        } => {
            let (from, to) = window.seconds();
            let mut op = ListPolicyEvents::new().window_s(from, to).limit(limit);
            op.filter = filter;
            if all {
                let list: Vec<PolicyEvent> = events.stream(op).try_collect().await?;
                print_list(f, &list, COLUMNS, TIMES)
            } else {
                print_list(f, &events.send(&op).await?.data, COLUMNS, TIMES)
            }
        }
        EventsCmd::Get { id } => print_one(f, &events.get(&id).await?, TIMES),
        EventsCmd::Tail(args) => tail(c, f, args).await,
    }
}

/// One line per event: time, severity, name, host, id (`--json`: the event's JSON).
fn line(f: Format, e: &PolicyEvent) -> Result<String> {
    if f.json {
        return Ok(serde_json::to_string(e)?);
    }
    let when = times::render(e.timestamp, EpochNs, f.local).unwrap_or_default();
    let host = e.labels.get("host.hostName").map_or("", String::as_str);
    let output = e
        .content
        .get("output")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(format!(
        "{when}  sev {}  {}  {host}  {output}  [{}]",
        e.severity, e.name, e.id
    ))
}

async fn tail(c: &Client, f: Format, args: TailArgs) -> Result<()> {
    let TailArgs {
        filter,
        last,
        interval,
        count,
        for_s,
    } = args;
    let events = c.policy_events();
    let interval = Duration::try_from_secs_f64(interval)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("--interval must be a positive number of seconds"))?;
    let deadline = match for_s {
        Some(s) => Some(
            tokio::time::Instant::now()
                + Duration::try_from_secs_f64(s).map_err(|_| {
                    anyhow::anyhow!("--for must be a non-negative number of seconds")
                })?,
        ),
        None => None,
    };
    let mut printed = 0usize;
    let mut emit = |batch: Vec<PolicyEvent>| -> Result<bool> {
        // Pages come newest first; a tail prints oldest first.
        for e in batch.iter().rev() {
            if count.is_some_and(|n| printed >= n) {
                return Ok(true);
            }
            print(&line(f, e)?)?;
            printed += 1;
        }
        Ok(count.is_some_and(|n| printed >= n))
    };
    // The newest `last` events (at least one asked for, so that the answer has a position).
    let mut op = ListPolicyEvents::new().limit(last.max(1));
    op.filter = filter;
    let first = events.send(&op).await?;
    let shown = if last == 0 { Vec::new() } else { first.data };
    if emit(shown)? {
        return Ok(());
    }
    let mut cursor = first.page.next;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let sleep = match deadline {
            Some(d) => {
                let now = tokio::time::Instant::now();
                if now >= d {
                    return Ok(());
                }
                interval.min(d - now)
            }
            None => interval,
        };
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            () = tokio::time::sleep(sleep) => {}
        }
        let Some(c) = cursor.clone() else {
            return Ok(());
        };
        let page = events
            .send(&ListPolicyEvents::new().limit(100).cursor(c))
            .await?;
        cursor = page.page.next.or(cursor);
        if emit(page.data)? {
            return Ok(());
        }
    }
}
