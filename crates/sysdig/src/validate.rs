//! Pure checks of input Sysdig Monitor refuses: an alert condition that can never be
//! evaluated, and an e-mail address that is not one. Callers check before sending (the `sdc`
//! CLI) or before storing (a server), and report [`Invalid`]'s one-line message.
//!
//! A condition follows Sysdig's (legacy, non-PromQL) alert grammar, parsed by
//! [`crate::condition`], so `avg(cpu.used.percent) > 80`, `sum(timeAvg(kubernetes.pod.restart.count)) > 2` and
//! `timeAvg(cpu.used.percent) > 50 AND NOT timeAvg(memory.used.percent) <= 75` pass.
//!
//! ```
//! use sysdig::validate;
//! assert!(validate::condition("avg(cpu.used.percent) > 80").is_ok());
//! assert!(validate::condition("avg(x) >>> 80").is_err());
//! assert!(validate::email("ops@example.com").is_ok());
//! ```

use std::fmt;

/// Input refused before it reaches the API; `Display` is one line naming the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(String);

impl Invalid {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }

    /// The message (the same as `Display`).
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// The aggregations a condition may apply, lower-cased.
pub const AGGREGATIONS: [&str; 6] = crate::condition::Aggregation::NAMES;

/// Checks an alert condition against the grammar of [`crate::condition`].
///
/// # Errors
/// [`Invalid`] saying what was expected where, e.g. `invalid condition "avg(x) >>> 80":
/// expected a number after '>', found '>'`.
pub fn condition(text: &str) -> Result<(), Invalid> {
    crate::condition::parse(text).map(|_| ())
}

/// Checks that `address` looks like an e-mail address: `local@domain`, no spaces, a domain of
/// at least two dot-separated labels of letters, digits and inner hyphens.
///
/// # Errors
/// [`Invalid`]: `"x" is not an e-mail address`.
pub fn email(address: &str) -> Result<(), Invalid> {
    if looks_like_email(address) {
        Ok(())
    } else {
        Err(Invalid(format!("{address:?} is not an e-mail address")))
    }
}

/// [`email`] that also takes a single-label domain (`ops@localhost`, `a@b`): what a server
/// must accept as a recipient or login, where a local mail domain is legitimate; a name
/// without `@` or with spaces still fails.
///
/// # Errors
/// [`Invalid`]: `"x" is not an e-mail address`.
pub fn mailbox(address: &str) -> Result<(), Invalid> {
    if looks_like_address(address, 1) {
        Ok(())
    } else {
        Err(Invalid(format!("{address:?} is not an e-mail address")))
    }
}

fn looks_like_email(address: &str) -> bool {
    looks_like_address(address, 2)
}

fn looks_like_address(address: &str, min_labels: usize) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[],;:\\\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= min_labels
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_sysdig_conditions() {
        for ok in [
            "avg(cpu.used.percent) > 80",
            "timeAvg(uptime) = 0",
            "timeAvg(memory.used.percent) >= 90",
            " max( mem ) <= 1.5",
            "sum(timeAvg(kubernetes.pod.restart.count)) > 2",
            "avg(min(cpu.used.percent)) > 50",
            "timeAvg(container.count) != 10",
            "count(net.connection.count) < -1e3",
            "min(min(cpu.used.percent)) <= 30 OR max(max(cpu.used.percent)) >= 60",
            "timeAvg(cpu.used.percent) > 50 and timeAvg(memory.used.percent) > 75",
            "NOT (avg(a) > 1 AND (avg(b) < 2 OR avg(c) = 3))",
            "AVG(prom_metric_total) > .5",
        ] {
            assert_eq!(condition(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_conditions_that_cannot_be_evaluated() {
        let why = |c: &str| condition(c).unwrap_err().to_string();
        assert_eq!(
            why("avg(x) >>> 80"),
            "invalid condition \"avg(x) >>> 80\": expected a number after '>', found '>'"
        );
        assert_eq!(why(""), "invalid condition \"\": it is empty");
        assert!(why("avg(x) > ").ends_with("expected a number after '>'"));
        assert!(why("avg(x) > high").ends_with("found 'high'"));
        assert!(why("avg(x) > inf").ends_with("found 'inf'"));
        assert!(why("p99(x) > 1").contains("unknown aggregation 'p99'"));
        assert!(why("cpu > 80").contains("expected an aggregation"));
        assert!(why("avg(x)").contains("at the end"));
        assert!(why("avg(x) 80").contains("expected a comparison"));
        assert!(why("avg(x > 80").contains("expected ')' to close 'avg('"));
        assert!(why("avg() > 80").contains("expected a metric name"));
        assert!(why("avg(x y) > 1").contains("expected ')'"));
        assert!(why("avg(min(max(x))) > 1").contains("already inside an aggregation"));
        assert!(why("avg(x) ! 1").contains("'!' must be followed by '='"));
        assert!(why("avg(x) > 1 avg(y) > 2").contains("after a complete condition"));
        assert!(why("avg(x) > 1 AND").contains("at the end"));
        assert!(why("(avg(x) > 1").contains("never closed"));
        assert!(why("avg(x,y) > 1").contains("expected a metric name"));
        assert!(why("sum by (x) (rate(y[5m])) > 1").contains("expected '(' after 'sum'"));
    }

    #[test]
    fn emails() {
        for ok in [
            "ops@example.com",
            "admin@vigil.local",
            "first.last+tag@sub.example.co.uk",
            "o'brien@xn--bcher-kva.example",
            "jörg@bücher.example",
        ] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "not-an-email",
            "",
            "@example.com",
            "ops@",
            "ops@localhost",
            "ops@@example.com",
            "ops@exa mple.com",
            "o ps@example.com",
            "ops@example..com",
            "ops@-example.com",
            ".ops@example.com",
            "a..b@example.com",
            "a@x.com,b@y.com",
            "Ops <ops@example.com>",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert_eq!(
            email("not-an-email").unwrap_err().to_string(),
            "\"not-an-email\" is not an e-mail address"
        );
    }

    #[test]
    fn mailboxes_take_local_domains_too() {
        for ok in ["ops@localhost", "a@b", "ops@example.com"] {
            assert_eq!(mailbox(ok), Ok(()), "{ok}");
        }
        for bad in ["bob", "", "@b", "a@", "a b@c", "a@b c", "a@.b"] {
            assert!(mailbox(bad).is_err(), "{bad}");
        }
    }
}
