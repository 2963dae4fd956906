//! Pure checks of input Sysdig Monitor refuses: an alert condition that can never be
//! evaluated, and an e-mail address that is not one. Callers check before sending (the `sdc`
//! CLI) or before storing (a server), and report [`Invalid`]'s one-line message.
//!
//! A condition follows Sysdig's (legacy, non-PromQL) alert grammar:
//!
//! ```text
//! condition  := or
//! or         := and ("OR" and)*
//! and        := unary ("AND" unary)*
//! unary      := "NOT" unary | "(" or ")" | comparison
//! comparison := value op number          op: > >= < <= = !=
//! value      := agg "(" agg "(" metric ")" ")" | agg "(" metric ")"
//! agg        := avg | timeAvg | min | max | sum | count      (any letter case)
//! ```
//!
//! so `avg(cpu.used.percent) > 80`, `sum(timeAvg(kubernetes.pod.restart.count)) > 2` and
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
pub const AGGREGATIONS: [&str; 6] = ["avg", "timeavg", "min", "max", "sum", "count"];

/// Checks an alert condition against the grammar in the module docs.
///
/// # Errors
/// [`Invalid`] saying what was expected where, e.g. `invalid condition "avg(x) >>> 80":
/// expected a number after '>', found '>'`.
pub fn condition(text: &str) -> Result<(), Invalid> {
    let fail = |why: String| Invalid(format!("invalid condition {text:?}: {why}"));
    let tokens = tokenize(text).map_err(fail)?;
    if tokens.is_empty() {
        return Err(fail("it is empty".into()));
    }
    let mut p = Parser { tokens, at: 0 };
    p.or().map_err(fail)?;
    match p.peek() {
        None => Ok(()),
        Some(t) => Err(fail(format!("unexpected {t} after a complete condition"))),
    }
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

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Op(&'static str),
    /// A word: a keyword, an aggregation, a metric name or a number.
    Word(String),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("'('"),
            Self::Close => f.write_str("')'"),
            Self::Op(op) => write!(f, "'{op}'"),
            Self::Word(w) => write!(f, "'{w}'"),
        }
    }
}

const OPS: [&str; 6] = [">=", "<=", "!=", ">", "<", "="];

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text.trim_start();
    while let Some(c) = rest.chars().next() {
        let len = if c == '(' {
            tokens.push(Token::Open);
            1
        } else if c == ')' {
            tokens.push(Token::Close);
            1
        } else if let Some(op) = OPS.into_iter().find(|op| rest.starts_with(op)) {
            tokens.push(Token::Op(op));
            op.len()
        } else if c == '!' {
            return Err("'!' must be followed by '='".into());
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || "()<>=!".contains(c))
                .unwrap_or(rest.len());
            tokens.push(Token::Word(rest[..end].to_string()));
            end
        };
        rest = rest[len..].trim_start();
    }
    Ok(tokens)
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

fn is_aggregation(word: &str) -> bool {
    AGGREGATIONS.iter().any(|a| word.eq_ignore_ascii_case(a))
}

fn is_metric(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.:-/".contains(c))
}

/// A finite decimal number (`80`, `-1.5`, `2e3`); not `inf` or `NaN`.
fn is_number(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
        && word.parse::<f64>().is_ok_and(f64::is_finite)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

type Step = Result<(), String>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if is_keyword(w, keyword))
    }

    fn or(&mut self) -> Step {
        self.and()?;
        while self.peek_keyword("or") {
            self.at += 1;
            self.and()?;
        }
        Ok(())
    }

    fn and(&mut self) -> Step {
        self.unary()?;
        while self.peek_keyword("and") {
            self.at += 1;
            self.unary()?;
        }
        Ok(())
    }

    fn unary(&mut self) -> Step {
        if self.peek_keyword("not") {
            self.at += 1;
            return self.unary();
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            self.or()?;
            return match self.next() {
                Some(Token::Close) => Ok(()),
                Some(t) => Err(format!("expected ')', found {t}")),
                None => Err("a '(' is never closed".into()),
            };
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Step {
        self.value(0)?;
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            Some(t) => return Err(format!("expected a comparison (> >= < <= = !=), found {t}")),
            None => return Err("expected a comparison (> >= < <= = !=) at the end".into()),
        };
        match self.next() {
            Some(Token::Word(w)) if is_number(&w) => Ok(()),
            Some(t) => Err(format!("expected a number after '{op}', found {t}")),
            None => Err(format!("expected a number after '{op}'")),
        }
    }

    /// `agg(metric)`, or `agg(agg(metric))` at the outer `depth` 0.
    fn value(&mut self, depth: usize) -> Step {
        let agg = match self.next() {
            Some(Token::Word(w)) if is_aggregation(&w) => w,
            Some(Token::Word(w)) if self.peek() == Some(&Token::Open) => {
                return Err(format!(
                    "unknown aggregation '{w}' (expected avg, timeAvg, min, max, sum or count)"
                ));
            }
            Some(t) => {
                return Err(format!(
                    "expected an aggregation such as avg(metric), found {t}"
                ));
            }
            None => return Err("expected an aggregation such as avg(metric) at the end".into()),
        };
        if self.next() != Some(Token::Open) {
            return Err(format!("expected '(' after '{agg}'"));
        }
        match self.peek().cloned() {
            Some(Token::Word(w))
                if is_aggregation(&w) && self.tokens.get(self.at + 1) == Some(&Token::Open) =>
            {
                if depth > 0 {
                    return Err(format!(
                        "'{agg}' is already inside an aggregation: at most a group aggregation of a time aggregation"
                    ));
                }
                self.value(depth + 1)?;
            }
            Some(Token::Word(w)) if is_metric(&w) => self.at += 1,
            Some(t) => return Err(format!("expected a metric name in '{agg}(...)', found {t}")),
            None => return Err(format!("expected a metric name in '{agg}(...)'")),
        }
        match self.next() {
            Some(Token::Close) => Ok(()),
            Some(t) => Err(format!("expected ')' to close '{agg}(', found {t}")),
            None => Err(format!("'{agg}(' is never closed")),
        }
    }
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
