//! The notification engine against real parts: a real SQLite outbox on a temporary file and
//! real HTTP receivers on 127.0.0.1 started by each test.
//!
//!
//! E-mail through a real SMTP server is tested in the Python interop suite (aiosmtpd), and
//! delivery rate and latency are measured by `bash bench/run.sh notify`.
//! - `notify::delivery`: retries after a 500, a hanging receiver beside a healthy one,
//!   a lease that brings back a delivery whose sender died, metrics
//! - `notify::outbox`: handing deliveries back, settling in batches, a burst past the
//!   per-receiver hold
//! - `notify::periodic`: periodic re-sends while the alarm stays in its state
//! - `notify::policy`: addresses refused when written and when resolved
//! - `notify::sysdig`: Sysdig channels: a webhook with its headers and custom data, OpsGenie
//!   create and close, VictorOps recovery, SNS dropped
//! - `notify::types`: Slack, PagerDuty (trigger and resolve) and Jira requests

mod notify;
