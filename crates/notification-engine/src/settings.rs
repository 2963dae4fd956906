//! [`NotifySettings`]: the `[notifications]` table of the server's configuration. Every field
//! has a default, so an empty table (or none) gives a working engine that delivers webhooks,
//! PagerDuty and Slack; e-mail and Jira need their servers named.
//!
//! ```
//! let s: notification_engine::NotifySettings = toml::from_str(r#"
//!     timeout_ms = 2000
//!     webhook_deny_networks = ["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "10.0.0.0/8"]
//!     [email]
//!     server = "smtp.example.com"
//!     security = "starttls"
//!     from_addr = "monasca@example.com"
//! "#).unwrap();
//! assert_eq!(s.timeout_ms, 2000);
//! assert_eq!(s.email.unwrap().port(), 587);
//! ```

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// The PagerDuty Events API v1 endpoint monasca-notification posts to.
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
/// OpsGenie's Alert API (create; close is `{alias}/close` under it).
pub const OPSGENIE_URL: &str = "https://api.opsgenie.com/v2/alerts";
/// VictorOps' (Splunk On-Call) REST endpoint; the API key and routing key follow it.
pub const VICTOROPS_URL: &str = "https://alert.victorops.com/integrations/generic/20131114/alert";

/// The networks webhooks may not reach unless the operator says otherwise: link-local (where
/// cloud metadata services answer, `169.254.169.254`), IPv6 link-local, "this network"
/// `0.0.0.0/8` and the unspecified IPv6 address (both reach the local host), and the
/// IPv4-mapped form of link-local. Loopback and private ranges stay
/// allowed so a laptop or a small site can post to its own receivers; deny them with
/// `webhook_deny_networks` where tenants are not trusted.
pub const DEFAULT_DENY_NETWORKS: &[&str] = &[
    "169.254.0.0/16",
    "fe80::/10",
    "0.0.0.0/8",
    "::/128",
    "::ffff:169.254.0.0/112",
];

/// How the notification engine sends.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Longest wait for one attempt (connect, send, answer), ms. Upstream's plugins use 5 s.
    pub timeout_ms: u64,
    /// Attempts per send before the delivery is recorded as failed.
    pub max_attempts: u32,
    /// First retry delay, ms; it doubles per attempt (with full jitter) up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Sends to one receiver (a URL's scheme, host and port; the SMTP server) at once.
    pub per_receiver_concurrency: usize,
    /// Sends at once, all receivers together.
    pub max_in_flight: usize,
    /// Deliveries to one receiver held in memory (sending or waiting for a slot); more are
    /// handed back to the outbox until it catches up, so a stuck receiver cannot take the
    /// memory the others need.
    pub per_receiver_backlog: usize,
    /// How long a claimed delivery is reserved for its sender; a delivery whose sender died
    /// is claimed again after it, s.
    pub lease_s: u64,
    /// Longest sleep between looks at the outboxes when nothing wakes the engine, ms.
    pub poll_interval_ms: u64,
    /// SMTP; without it EMAIL is not offered.
    pub email: Option<EmailSettings>,
    /// Where Monasca PAGERDUTY methods and Sysdig PAGER_DUTY channels post.
    pub pagerduty_url: String,
    pub opsgenie_url: String,
    pub victorops_url: String,
    /// Jira's credentials; without them JIRA is not offered.
    pub jira: Option<JiraSettings>,
    /// This server's public base URL, for the links in Sysdig payloads (`editUrl`, the
    /// event's `url`); without it they are null.
    pub public_url: Option<String>,
    /// Host names webhook URLs may name (exact, case-insensitive; `*.example.com` for
    /// sub-domains); empty: any host.
    pub webhook_allow_hosts: Vec<String>,
    /// Networks (CIDR) no webhook may reach, checked on literal addresses when a method is
    /// written and on every resolved address when sending. Default: [`DEFAULT_DENY_NETWORKS`].
    pub webhook_deny_networks: Vec<String>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            timeout_ms: 5_000,
            max_attempts: 8,
            backoff_base_ms: 500,
            backoff_max_ms: 300_000,
            per_receiver_concurrency: 4,
            max_in_flight: 256,
            per_receiver_backlog: 5_000,
            lease_s: 60,
            poll_interval_ms: 1_000,
            email: None,
            pagerduty_url: PAGERDUTY_URL.into(),
            opsgenie_url: OPSGENIE_URL.into(),
            victorops_url: VICTOROPS_URL.into(),
            jira: None,
            public_url: None,
            webhook_allow_hosts: Vec::new(),
            webhook_deny_networks: DEFAULT_DENY_NETWORKS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl NotifySettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.clamp(10, 60_000))
    }

    pub fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease_s.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text (upstream's `smtplib.SMTP`); for a relay on the same host or network.
    #[default]
    None,
    /// Plain connection upgraded with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// The SMTP server e-mail goes through (upstream's `[email_notifier]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub server: String,
    /// Default: 25 for `none`, 587 for `starttls`, 465 for `tls`.
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    pub from_addr: String,
    /// SMTP conversation timeout, ms (default 5 s).
    #[serde(default = "default_smtp_timeout_ms")]
    pub timeout_ms: u64,
    /// A Grafana base URL: the mail links to a drill-down graph of the alarm's first metric.
    #[serde(default)]
    pub grafana_url: Option<String>,
}

fn default_smtp_timeout_ms() -> u64 {
    5_000
}

impl EmailSettings {
    /// The port in use: the configured one, else the usual one for the security.
    pub fn port(&self) -> u16 {
        match (self.port, self.security) {
            (0, SmtpSecurity::None) => 25,
            (0, SmtpSecurity::Starttls) => 587,
            (0, SmtpSecurity::Tls) => 465,
            (p, _) => p,
        }
    }
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("server", &self.server)
            .field("port", &self.port())
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from_addr", &self.from_addr)
            .field("timeout_ms", &self.timeout_ms)
            .field("grafana_url", &self.grafana_url)
            .finish()
    }
}

/// Jira's account (upstream's `[jira_notifier]`); the server URL and project are in each
/// method's address (`https://jira.example.com/?project=OPS&component=db`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraSettings {
    pub user: String,
    pub password: SecretString,
}

impl std::fmt::Debug for JiraSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraSettings")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_empty_table_gives_the_defaults() {
        let s: NotifySettings = toml::from_str("").unwrap();
        assert_eq!(s.timeout(), Duration::from_secs(5));
        assert_eq!(s.max_attempts, 8);
        assert_eq!(s.pagerduty_url, PAGERDUTY_URL);
        assert!(
            s.webhook_deny_networks
                .contains(&"169.254.0.0/16".to_string())
        );
        assert!(s.email.is_none() && s.jira.is_none());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<NotifySettings>("timeout = 3").is_err());
        assert!(
            toml::from_str::<NotifySettings>("[email]\nserver='x'\nfrom_addr='a@b'\nhost='y'")
                .is_err()
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let s: NotifySettings = toml::from_str(
            "[email]\nserver='smtp'\nfrom_addr='a@b'\nuser='u'\npassword='hunter2'\n\
             [jira]\nuser='j'\npassword='s3cret'",
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("smtp"));
    }
}
