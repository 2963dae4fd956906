//! Whether a notification method's address or a channel's options can be delivered to, for
//! the APIs to refuse bad input when it is written rather than drop it later. The messages
//! are meant for an API error body.
//!
//! ```
//! use notification_engine::{NotifySettings, UrlPolicy, validate};
//! let policy = UrlPolicy::new(&NotifySettings::default()).unwrap();
//! assert!(validate::monasca_address(&policy, "EMAIL", "ops@example.com").is_ok());
//! assert!(validate::monasca_address(&policy, "WEBHOOK", "ftp://x/").is_err());
//! ```

use lettre::Address;
use serde_json::Value;

use crate::UrlPolicy;

/// Checks the address of a Monasca method of type `kind`: a mailbox for EMAIL, an allowed
/// http(s) URL for WEBHOOK and SLACK (and one naming a `project` for JIRA), a 32-character
/// alphanumeric integration key for PAGERDUTY. Other types are not judged here.
///
/// # Errors
/// What is wrong with it.
pub fn monasca_address(policy: &UrlPolicy, kind: &str, address: &str) -> Result<(), String> {
    match kind {
        "EMAIL" => email(address),
        "WEBHOOK" | "SLACK" => policy.check(address),
        "JIRA" => {
            policy.check(address)?;
            let has_project = url::Url::parse(address)
                .map(|u| {
                    u.query_pairs()
                        .any(|(k, v)| k == "project" && !v.is_empty())
                })
                .unwrap_or(false);
            if has_project {
                Ok(())
            } else {
                Err(
                    "a Jira address names its project: https://jira.example.com/?project=KEY"
                        .into(),
                )
            }
        }
        "PAGERDUTY" => {
            if address.len() == 32 && address.chars().all(|c| c.is_ascii_alphanumeric()) {
                Ok(())
            } else {
                Err(
                    "a PagerDuty address is a 32-character integration key (letters and digits)"
                        .into(),
                )
            }
        }
        _ => Ok(()),
    }
}

fn email(address: &str) -> Result<(), String> {
    address
        .trim()
        .parse::<Address>()
        .map(|_| ())
        .map_err(|_| format!("{address:?} is not an e-mail address"))
}

/// Checks the options of a Sysdig channel of type `kind`: the URL of WEBHOOK, SLACK and
/// MS_TEAMS (present and allowed), the recipients of EMAIL, the keys of PAGER_DUTY,
/// OPSGENIE and VICTOROPS. Other types are not judged here.
///
/// # Errors
/// What is wrong with them.
pub fn sysdig_options(policy: &UrlPolicy, kind: &str, options: &Value) -> Result<(), String> {
    let text = |k: &str| {
        options
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("a {kind} channel needs the option {k}"))
    };
    match kind {
        "WEBHOOK" | "SLACK" | "MS_TEAMS" => policy.check(text("url")?),
        "EMAIL" => {
            let recipients = options
                .get("emailRecipients")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .ok_or("an EMAIL channel needs at least one of emailRecipients")?;
            recipients.iter().try_for_each(|r| match r.as_str() {
                Some(a) => email(a),
                None => Err("emailRecipients are strings".into()),
            })
        }
        "PAGER_DUTY" => text("serviceKey").map(|_| ()),
        "OPSGENIE" => text("apiKey").map(|_| ()),
        "VICTOROPS" => text("apiKey").and(text("routingKey")).map(|_| ()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;
    use crate::NotifySettings;

    fn policy() -> UrlPolicy {
        UrlPolicy::new(&NotifySettings::default()).unwrap()
    }

    #[test]
    fn monasca_addresses_by_type() {
        let p = policy();
        assert!(monasca_address(&p, "EMAIL", "a@b.example").is_ok());
        assert_eq!(
            monasca_address(&p, "EMAIL", "not-mail").unwrap_err(),
            "\"not-mail\" is not an e-mail address"
        );
        assert!(monasca_address(&p, "WEBHOOK", "http://169.254.169.254/").is_err());
        assert!(monasca_address(&p, "SLACK", "https://hooks.slack.com/services/x").is_ok());
        assert!(monasca_address(&p, "JIRA", "https://jira.example.com/?project=OPS").is_ok());
        assert!(monasca_address(&p, "JIRA", "https://jira.example.com/").is_err());
        assert!(monasca_address(&p, "PAGERDUTY", "0123456789abcdef0123456789ABCDEF").is_ok());
        assert!(monasca_address(&p, "PAGERDUTY", "short").is_err());
        assert!(monasca_address(&p, "PAGERDUTY", "0123456789abcdef0123456789abcde!").is_err());
    }

    #[test]
    fn sysdig_options_by_type() {
        let p = policy();
        assert!(sysdig_options(&p, "WEBHOOK", &json!({"url": "http://127.0.0.1:9/x"})).is_ok());
        assert_eq!(
            sysdig_options(&p, "WEBHOOK", &json!({})).unwrap_err(),
            "a WEBHOOK channel needs the option url"
        );
        assert!(sysdig_options(&p, "MS_TEAMS", &json!({"url": "http://[fe80::1]/"})).is_err());
        assert!(sysdig_options(&p, "EMAIL", &json!({"emailRecipients": ["a@b.c"]})).is_ok());
        assert!(sysdig_options(&p, "EMAIL", &json!({"emailRecipients": ["a@b.c", "x"]})).is_err());
        assert!(sysdig_options(&p, "EMAIL", &json!({"emailRecipients": []})).is_err());
        assert!(sysdig_options(&p, "VICTOROPS", &json!({"apiKey": "k"})).is_err());
        assert!(sysdig_options(&p, "SNS", &json!({})).is_ok());
    }
}
