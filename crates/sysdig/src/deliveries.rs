//! Notification delivery of a channel (Vigil extensions to the Sysdig API):
//! `POST /api/notificationChannels/{id}/test` sends a test notification through the channel,
//! `GET /api/notificationChannels/{id}/deliveries` lists its latest delivery attempts.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! let test = client.channels().send_test(7).await?;
//! for a in client.channels().deliveries(7).await? {
//!     if a.event_id == test.event_id {
//!         println!("{} {}", a.status, a.answer);
//!     }
//! }
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};

use crate::{channels::Channels, request::Op};

/// What a test request answers: the queued notification's event id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelTest {
    pub notification_channel_id: u64,
    pub event_id: String,
}

/// One delivery attempt through a channel, newest first in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub event_id: String,
    /// When the attempt started, epoch milliseconds.
    pub timestamp: i64,
    /// 1 for the first attempt of a send.
    pub attempt: u32,
    /// `DELIVERED`, `RETRYING`, `FAILED` or `DROPPED`.
    pub status: String,
    /// What the receiver answered, or why nothing was sent.
    pub answer: String,
    pub duration_ms: i64,
    pub test: bool,
}

pub fn send_test(id: u64) -> Op<ChannelTest> {
    Op::new(Method::POST, format!("/api/notificationChannels/{id}/test"))
}

pub fn deliveries(id: u64) -> Op<Vec<DeliveryAttempt>> {
    Op::get(format!("/api/notificationChannels/{id}/deliveries")).envelope("deliveries")
}

impl Channels<'_> {
    crate::request::send_ops! {
        fn send_test(id: u64) -> ChannelTest = send_test(id);
        fn deliveries(id: u64) -> Vec<DeliveryAttempt> = deliveries(id);
    }
}
