//! A MANUAL alert's condition parsed into a tree: what [`crate::validate::condition`] checks and
//! what a server evaluates. The grammar (Sysdig's legacy, non-PromQL alert conditions):
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
//! In `avg(timeAvg(cpu.used.percent))` the outer aggregation combines the series of a segment
//! (the group aggregation) and the inner one each series' points over time; a single
//! aggregation (`avg(cpu.used.percent)`) applies to every point of the segment at once.
//!
//! ```
//! use sysdig::condition::{self, Aggregation, Condition};
//! let Condition::Compare(c) = condition::parse("sum(timeAvg(pod.restarts)) > 2").unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!((c.value.group, c.value.time), (Some(Aggregation::Sum), Aggregation::TimeAvg));
//! assert!(c.op.holds(3.0, c.threshold));
//! ```

use std::fmt;

use crate::validate::Invalid;

/// An aggregation of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aggregation {
    Avg,
    TimeAvg,
    Min,
    Max,
    Sum,
    Count,
}

impl Aggregation {
    /// The names a condition may use, lower-cased.
    pub const NAMES: [&'static str; 6] = ["avg", "timeavg", "min", "max", "sum", "count"];

    /// The aggregation called `word` (any letter case).
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "avg" => Self::Avg,
            "timeavg" => Self::TimeAvg,
            "min" => Self::Min,
            "max" => Self::Max,
            "sum" => Self::Sum,
            "count" => Self::Count,
            _ => return None,
        })
    }

    /// The name as Sysdig writes it (`timeAvg`, `avg`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avg => "avg",
            Self::TimeAvg => "timeAvg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Sum => "sum",
            Self::Count => "count",
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CompareOp {
    /// Longest first, so that `>=` is not read as `>`.
    const ALL: [(&'static str, Self); 6] = [
        (">=", Self::Ge),
        ("<=", Self::Le),
        ("!=", Self::Ne),
        (">", Self::Gt),
        ("<", Self::Lt),
        ("=", Self::Eq),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("=", |(text, _)| *text)
    }

    /// Whether `value op threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Gt => value > threshold,
            Self::Ge => value >= threshold,
            Self::Lt => value < threshold,
            Self::Le => value <= threshold,
            Self::Eq => value == threshold,
            Self::Ne => value != threshold,
        }
    }
}

/// `group(time(metric))`, or `time(metric)` with no group aggregation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MetricValue {
    pub group: Option<Aggregation>,
    pub time: Aggregation,
    pub metric: String,
}

/// `value op threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub value: MetricValue,
    pub op: CompareOp,
    pub threshold: f64,
}

/// A parsed condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare(Comparison),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    /// The comparisons, left to right.
    pub fn comparisons(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Comparison>) {
        match self {
            Self::Compare(c) => out.push(c),
            Self::And(a, b) | Self::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Self::Not(a) => a.collect(out),
        }
    }

    /// Whether the condition holds, given the value of each metric (`None`: no data, and a
    /// condition that needs it cannot be told either).
    pub fn holds(&self, value_of: &dyn Fn(&MetricValue) -> Option<f64>) -> Option<bool> {
        Some(match self {
            Self::Compare(c) => c.op.holds(value_of(&c.value)?, c.threshold),
            Self::And(a, b) => a.holds(value_of)? && b.holds(value_of)?,
            Self::Or(a, b) => a.holds(value_of)? || b.holds(value_of)?,
            Self::Not(a) => !a.holds(value_of)?,
        })
    }
}

/// Parses a condition with the grammar in the module docs.
///
/// # Errors
/// [`Invalid`] saying what was expected where, e.g. `invalid condition "avg(x) >>> 80":
/// expected a number after '>', found '>'`.
pub fn parse(text: &str) -> Result<Condition, Invalid> {
    let fail = |why: String| Invalid::new(format!("invalid condition {text:?}: {why}"));
    let tokens = tokenize(text).map_err(fail)?;
    if tokens.is_empty() {
        return Err(fail("it is empty".into()));
    }
    let mut p = Parser { tokens, at: 0 };
    let tree = p.or().map_err(fail)?;
    match p.peek() {
        None => Ok(tree),
        Some(t) => Err(fail(format!("unexpected {t} after a complete condition"))),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Op(CompareOp),
    /// A word: a keyword, an aggregation, a metric name or a number.
    Word(String),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("'('"),
            Self::Close => f.write_str("')'"),
            Self::Op(op) => write!(f, "'{}'", op.as_str()),
            Self::Word(w) => write!(f, "'{w}'"),
        }
    }
}

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
        } else if let Some((text, op)) = CompareOp::ALL.iter().find(|(t, _)| rest.starts_with(t)) {
            tokens.push(Token::Op(*op));
            text.len()
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

fn is_metric(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.:-/".contains(c))
}

/// A finite decimal number (`80`, `-1.5`, `2e3`); not `inf` or `NaN`.
fn number(word: &str) -> Option<f64> {
    if !word.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)) {
        return None;
    }
    word.parse::<f64>().ok().filter(|v| v.is_finite())
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

type Step<T> = Result<T, String>;

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

    fn or(&mut self) -> Step<Condition> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.at += 1;
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Step<Condition> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.at += 1;
            left = Condition::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Step<Condition> {
        if self.peek_keyword("not") {
            self.at += 1;
            return Ok(Condition::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            return match self.next() {
                Some(Token::Close) => Ok(inner),
                Some(t) => Err(format!("expected ')', found {t}")),
                None => Err("a '(' is never closed".into()),
            };
        }
        self.comparison().map(Condition::Compare)
    }

    fn comparison(&mut self) -> Step<Comparison> {
        let value = self.value(0)?;
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            Some(t) => return Err(format!("expected a comparison (> >= < <= = !=), found {t}")),
            None => return Err("expected a comparison (> >= < <= = !=) at the end".into()),
        };
        let op_text = op.as_str();
        match self.next() {
            Some(Token::Word(w)) => match number(&w) {
                Some(threshold) => Ok(Comparison {
                    value,
                    op,
                    threshold,
                }),
                None => Err(format!("expected a number after '{op_text}', found '{w}'")),
            },
            Some(t) => Err(format!("expected a number after '{op_text}', found {t}")),
            None => Err(format!("expected a number after '{op_text}'")),
        }
    }

    /// `agg(metric)`, or `agg(agg(metric))` at the outer `depth` 0.
    fn value(&mut self, depth: usize) -> Step<MetricValue> {
        let (agg, word) = match self.next() {
            Some(Token::Word(w)) => match Aggregation::parse(&w) {
                Some(a) => (a, w),
                None if self.peek() == Some(&Token::Open) => {
                    return Err(format!(
                        "unknown aggregation '{w}' (expected avg, timeAvg, min, max, sum or count)"
                    ));
                }
                None => {
                    return Err(format!(
                        "expected an aggregation such as avg(metric), found '{w}'"
                    ));
                }
            },
            Some(t) => {
                return Err(format!(
                    "expected an aggregation such as avg(metric), found {t}"
                ));
            }
            None => return Err("expected an aggregation such as avg(metric) at the end".into()),
        };
        if self.next() != Some(Token::Open) {
            return Err(format!("expected '(' after '{word}'"));
        }
        let value = match self.peek().cloned() {
            Some(Token::Word(w))
                if Aggregation::parse(&w).is_some()
                    && self.tokens.get(self.at + 1) == Some(&Token::Open) =>
            {
                if depth > 0 {
                    return Err(format!(
                        "'{word}' is already inside an aggregation: at most a group aggregation of a time aggregation"
                    ));
                }
                let inner = self.value(depth + 1)?;
                MetricValue {
                    group: Some(agg),
                    ..inner
                }
            }
            Some(Token::Word(w)) if is_metric(&w) => {
                self.at += 1;
                MetricValue {
                    group: None,
                    time: agg,
                    metric: w,
                }
            }
            Some(t) => {
                return Err(format!(
                    "expected a metric name in '{word}(...)', found {t}"
                ));
            }
            None => return Err(format!("expected a metric name in '{word}(...)'")),
        };
        match self.next() {
            Some(Token::Close) => Ok(value),
            Some(t) => Err(format!("expected ')' to close '{word}(', found {t}")),
            None => Err(format!("'{word}(' is never closed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(text: &str) -> Comparison {
        match parse(text).unwrap() {
            Condition::Compare(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn group_and_time_aggregations() {
        let c = compare("avg(timeAvg(cpu.used.percent)) >= 80");
        assert_eq!(
            c.value,
            MetricValue {
                group: Some(Aggregation::Avg),
                time: Aggregation::TimeAvg,
                metric: "cpu.used.percent".into()
            }
        );
        assert_eq!((c.op, c.threshold), (CompareOp::Ge, 80.0));
        let c = compare("MAX(mem) != -1.5");
        assert_eq!((c.value.group, c.value.time), (None, Aggregation::Max));
        assert_eq!(c.op, CompareOp::Ne);
        for (text, op) in [
            ("count(x) < 1", CompareOp::Lt),
            ("min(x) <= 1", CompareOp::Le),
            ("sum(x) = 1", CompareOp::Eq),
            ("avg(x) > 1", CompareOp::Gt),
        ] {
            assert_eq!(compare(text).op, op, "{text}");
            assert!(text.contains(&format!(" {} ", op.as_str())));
        }
    }

    #[test]
    fn boolean_structure_and_evaluation() {
        let c = parse("avg(a) > 1 and not (avg(b) < 2 or avg(c) = 3)").unwrap();
        let names: Vec<&str> = c
            .comparisons()
            .iter()
            .map(|c| c.value.metric.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        let values = |a: f64, b: f64, c: f64| {
            move |v: &MetricValue| match v.metric.as_str() {
                "a" => Some(a),
                "b" => Some(b),
                "c" => Some(c),
                _ => None,
            }
        };
        assert_eq!(c.holds(&values(2.0, 5.0, 0.0)), Some(true));
        assert_eq!(c.holds(&values(2.0, 1.0, 0.0)), Some(false));
        assert_eq!(c.holds(&values(0.0, 5.0, 0.0)), Some(false));
        assert_eq!(c.holds(&|_| None), None);
    }
}
