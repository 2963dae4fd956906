//! `sdc channel test` and `sdc channel deliveries`: a test notification through a channel and
//! its delivery attempts (Vigil extensions of the Sysdig API; Sysdig's own UI sends a test
//! notification when a channel is saved with "send test notification").

use anyhow::Result;
use sysdig::Client;

use crate::{
    output::{Format, Times, print, print_list},
    times::Unit::EpochMs,
};

const DELIVERY_COLUMNS: &[&str] = &[
    "timestamp",
    "eventId",
    "attempt",
    "status",
    "durationMs",
    "answer",
];
const DELIVERY_STAMPS: Times = &[("timestamp", EpochMs)];

/// Queues a test notification through channel `id` and follows its attempts until one is
/// final or `wait` seconds pass: delivered prints a line; failed, dropped or still retrying is
/// an error.
pub async fn send_test(c: &Client, f: Format, id: u64, wait: u64) -> Result<()> {
    let queued = c.channels().send_test(id).await?;
    if wait == 0 {
        return say(f, &format!("Test notification {} queued", queued.event_id));
    }
    let line = cli_kit::follow_test_notification(&queued.event_id, wait, || async {
        // Newest first: the first attempt of this event is its latest.
        Ok(c.channels()
            .deliveries(id)
            .await?
            .into_iter()
            .find(|d| d.event_id == queued.event_id)
            .map(|d| cli_kit::TestAttempt {
                status: d.status,
                attempt: d.attempt,
                answer: d.answer,
            }))
    })
    .await?;
    say(f, &line)
}

/// The latest delivery attempts of channel `id`, newest first.
pub async fn list(c: &Client, f: Format, id: u64) -> Result<()> {
    let attempts = c.channels().deliveries(id).await?;
    print_list(f, &attempts, DELIVERY_COLUMNS, DELIVERY_STAMPS)
}

fn say(f: Format, msg: &str) -> Result<()> {
    if f.json { print("{}") } else { print(msg) }
}
