//! The filter grammar of Secure's event lists (`/api/v1/secureEvents`,
//! `/api/v1/activityAudit/events`): conditions joined by `and`, each `field = value`,
//! `field != value`, `field in (v, …)` or `field not in (v, …)`, values quoted with `"` or `'`
//! or bare. Unlike the dashboard scope grammar ([`crate::scope`]), lists are in parentheses,
//! quotes are part of the syntax and errors carry the position they were found at, so the
//! server and the client share this parser.
//!
//! ```
//! use sysdig::secure::filter::{parse, Op};
//! let f = parse(r#"severity in ("4","5") and host.hostName != web-1"#).unwrap();
//! assert_eq!(f.conditions[0].values, ["4", "5"]);
//! assert_eq!(f.conditions[1].op, Op::Ne);
//! assert!(parse("severity in (4").unwrap_err().to_string().contains("position 15"));
//! ```

use std::fmt;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }
}

/// One `field op value(s)` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub values: Vec<String>,
    /// Where the field starts (1-based character position), for errors about the field.
    pub position: usize,
}

impl Condition {
    /// Whether an item whose field has `value` (`None`: the item has no such field)
    /// satisfies the condition; values compare as text (`severity in ("4")` matches 4).
    pub fn matches(&self, value: Option<&str>) -> bool {
        let hit = value.is_some_and(|v| self.values.iter().any(|w| w == v));
        match self.op {
            Op::Eq | Op::In => hit,
            Op::Ne | Op::NotIn => !hit,
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted: Vec<String> = self.values.iter().map(|v| format!("{v:?}")).collect();
        match self.op {
            Op::In | Op::NotIn => write!(
                f,
                "{} {} ({})",
                self.field,
                self.op.text(),
                quoted.join(",")
            ),
            _ => write!(f, "{} {} {}", self.field, self.op.text(), quoted.join(",")),
        }
    }
}

/// A parsed filter: every condition must hold. Empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub conditions: Vec<Condition>,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" and "))
    }
}

/// Why a filter does not parse, and where (1-based character position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid filter at position {}: {}",
            self.position, self.message
        )
    }
}

impl std::error::Error for FilterError {}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

fn is_field_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')
}

fn is_bare_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | ',' | '"' | '\'' | '=' | '!')
}

impl Parser {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            position: self.at + 1,
            message: message.into(),
        })
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn word(&mut self, ok: fn(char) -> bool) -> String {
        let start = self.at;
        while self.peek().is_some_and(ok) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// A keyword followed by a non-word character.
    fn keyword(&mut self, kw: &str) -> bool {
        let n = kw.chars().count();
        let end = self.at + n;
        let matches = end <= self.chars.len()
            && self.chars[self.at..end]
                .iter()
                .copied()
                .map(|c| c.to_ascii_lowercase())
                .eq(kw.chars())
            && !self.chars.get(end).copied().is_some_and(is_field_char);
        if matches {
            self.at = end;
        }
        matches
    }

    fn value(&mut self) -> Result<String, FilterError> {
        self.skip_ws();
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                let open = self.at;
                self.at += 1;
                let mut v = String::new();
                loop {
                    match self.peek() {
                        None => {
                            self.at = open;
                            return self
                                .err(format!("unterminated quoted value (opened with {q})"));
                        }
                        Some('\\') if self.chars.get(self.at + 1) == Some(&q) => {
                            v.push(q);
                            self.at += 2;
                        }
                        Some(c) if c == q => {
                            self.at += 1;
                            return Ok(v);
                        }
                        Some(c) => {
                            v.push(c);
                            self.at += 1;
                        }
                    }
                }
            }
            Some(c) if is_bare_char(c) => Ok(self.word(is_bare_char)),
            Some(c) => self.err(format!("expected a value, found '{c}'")),
            None => self.err("expected a value, found the end"),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, FilterError> {
        self.skip_ws();
        if self.peek() != Some('(') {
            return self.err("expected '(' to open the list of values");
        }
        self.at += 1;
        let mut values = vec![self.value()?];
        loop {
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.at += 1;
                    values.push(self.value()?);
                }
                Some(')') => {
                    self.at += 1;
                    return Ok(values);
                }
                Some(c) => return self.err(format!("expected ',' or ')', found '{c}'")),
                None => return self.err("expected ',' or ')', found the end"),
            }
        }
    }

    fn condition(&mut self) -> Result<Condition, FilterError> {
        self.skip_ws();
        let position = self.at + 1;
        let field = self.word(is_field_char);
        if field.is_empty() {
            return match self.peek() {
                Some(c) => self.err(format!("expected a field name, found '{c}'")),
                None => self.err("expected a field name, found the end"),
            };
        }
        self.skip_ws();
        let op = if self.peek() == Some('=') {
            self.at += 1;
            Op::Eq
        } else if self.peek() == Some('!') && self.chars.get(self.at + 1) == Some(&'=') {
            self.at += 2;
            Op::Ne
        } else if self.keyword("in") {
            Op::In
        } else if self.keyword("not") {
            self.skip_ws();
            if !self.keyword("in") {
                return self.err("expected 'in' after 'not'");
            }
            Op::NotIn
        } else {
            return self.err(format!(
                "expected an operator (=, !=, in, not in) after '{field}'"
            ));
        };
        let values = match op {
            Op::In | Op::NotIn => self.list()?,
            Op::Eq | Op::Ne => vec![self.value()?],
        };
        Ok(Condition {
            field,
            op,
            values,
            position,
        })
    }
}

/// Parses a filter; blank means no condition.
///
/// # Errors
/// The first thing that does not fit the grammar, with its position.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let mut filter = Filter::default();
    p.skip_ws();
    if p.peek().is_none() {
        return Ok(filter);
    }
    loop {
        filter.conditions.push(p.condition()?);
        p.skip_ws();
        if p.peek().is_none() {
            return Ok(filter);
        }
        if !p.keyword("and") {
            return p.err("expected 'and' or the end of the filter");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sysdig_filters() {
        let f = parse(r#"severity in ("4","5") and name = 'Terminal shell' and x != y"#).unwrap();
        assert_eq!(f.conditions.len(), 3);
        assert_eq!(f.conditions[0].op, Op::In);
        assert_eq!(f.conditions[1].values, ["Terminal shell"]);
        assert_eq!(f.conditions[2].position, 55);
        assert!(parse("  ").unwrap().conditions.is_empty());
        let n = parse(r#"type not in ("command") AND a=b"#).unwrap();
        assert_eq!(n.conditions[0].op, Op::NotIn);
        assert_eq!(n.conditions[1].values, ["b"]);
        assert_eq!(
            n.to_string(),
            r#"type not in ("command") and a = "b""#,
            "shown in a form that parses again"
        );
        assert_eq!(parse(&n.to_string()).unwrap(), {
            let mut m = n.clone();
            m.conditions[1].position = 29;
            m
        });
    }

    #[test]
    fn errors_name_the_position() {
        let e = |s: &str| parse(s).unwrap_err();
        assert_eq!(e("severity in (4").position, 15);
        assert_eq!(e("severity >= 4").position, 10);
        assert_eq!(e("a = 1 or b = 2").position, 7);
        assert_eq!(e("a = \"x").position, 5);
        assert_eq!(e("= 4").message, "expected a field name, found '='");
        assert!(e("a not b").message.contains("'in' after 'not'"));
    }

    #[test]
    fn conditions_match_as_text() {
        let f = parse(r#"severity in ("4","5")"#).unwrap();
        assert!(f.conditions[0].matches(Some("4")));
        assert!(!f.conditions[0].matches(Some("3")));
        assert!(!f.conditions[0].matches(None));
        let ne = parse("a != x").unwrap();
        assert!(ne.conditions[0].matches(None));
        assert!(!ne.conditions[0].matches(Some("x")));
    }
}
