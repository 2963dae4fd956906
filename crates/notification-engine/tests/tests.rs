//! The notification engine against real parts: a real SQLite outbox on a temporary file and
//! real HTTP receivers on 127.0.0.1 started by each test.
//!
//! - `notify::delivery`: retries after a 500, a hanging receiver beside a healthy one,
//!   a lease that brings back a delivery whose sender died, metrics
//! - `notify::outbox`: handing deliveries back, settling in batches, a burst past the
//!   per-receiver hold
//! - `notify::periodic`: periodic re-sends while the alarm stays in its state
//! - `notify::policy`: addresses refused when written and when resolved
//! - `notify::sysdig`: a Sysdig channel's webhook with its headers and custom data
//! - `notify::types`: Slack, PagerDuty (trigger and resolve) and Jira requests

mod notify;
