//! Recursive-descent parser over [`crate::lexer::Lexer`].
//!
//! upstream's pyparsing grammar is a PEG (ordered choice, no backtracking into a choice once
//! the sequence after it fails). Wherever it could backtrack, the alternatives it would try
//! next can never succeed (e.g. after `and` only a sub-expression can follow), so this parser
//! commits instead and reports the innermost problem. The accepted language is the same.

use crate::ast::{
    DEFAULT_PERIOD, DEFAULT_PERIODS, Expr, Function, MAX_NAME_CHARS, MAX_PERIOD_VALUE, Operator,
    OperatorStyle, PERIOD_MULTIPLE, SubExpr,
};
use crate::error::{ErrorKind, ParseError};
use crate::lexer::{Lexer, Name, Source, describe_at};

/// The deepest nesting of parentheses accepted. upstream has no set limit (Python's recursion
/// limit aside); this one keeps the parser's recursion, and the tree's, bounded.
pub const MAX_NESTING: usize = 200;

const FUNCTIONS: [(&str, Function); 6] = [
    ("MAX", Function::Max),
    ("MIN", Function::Min),
    ("AVG", Function::Avg),
    ("COUNT", Function::Count),
    ("SUM", Function::Sum),
    ("LAST", Function::Last),
];

/// Longer spellings first, as upstream orders them (`<=` before `<`, `lte` before `lt`).
const OPERATORS: [(&str, (Operator, OperatorStyle)); 8] = [
    ("<=", (Operator::Lte, OperatorStyle::Symbol)),
    ("LTE", (Operator::Lte, OperatorStyle::Word)),
    ("<", (Operator::Lt, OperatorStyle::Symbol)),
    ("LT", (Operator::Lt, OperatorStyle::Word)),
    (">=", (Operator::Gte, OperatorStyle::Symbol)),
    ("GTE", (Operator::Gte, OperatorStyle::Word)),
    (">", (Operator::Gt, OperatorStyle::Symbol)),
    ("GT", (Operator::Gt, OperatorStyle::Word)),
];

const AND: [(&str, ()); 2] = [("AND", ()), ("&&", ())];
const OR: [(&str, ()); 2] = [("OR", ()), ("||", ())];

const EXPECT_SUB_EXPRESSION: &str =
    "a sub-expression (avg, min, max, sum, count or last with '(', a metric name, or '(')";
const EXPECT_OPERATOR: &str = "a relational operator (<, <=, >, >=, lt, lte, gt, gte)";
const EXPECT_THRESHOLD: &str = "a threshold (a number such as 10, -5 or 2.5)";
const EXPECT_PERIOD: &str = "a period (seconds, a multiple of 60)";

/// Parses an alarm expression as monasca-api does.
///
/// ```
/// let expr = alarm_expr::parse("avg(cpu.idle_perc{hostname=web1}, 120) < 10 times 3").unwrap();
/// let sub = expr.sub_expressions()[0];
/// assert_eq!(sub.period, 120);
/// assert_eq!(sub.to_string(), "AVG(cpu.idle_perc{hostname=web1}, 120) < 10.0 times 3");
/// ```
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let source = Source::new(text);
    let mut parser = Parser {
        lx: Lexer::new(source.text()),
        depth: 0,
        times_allowed: false,
        out_of_range: None,
    };
    let result = parser.or_expr().and_then(|expr| {
        if !parser.lx.at_end() {
            Err(parser.expected_continuation(false))
        } else if let Some(err) = parser.out_of_range.take() {
            Err(err)
        } else {
            Ok(expr)
        }
    });
    result.map_err(|raw| raw.into_error(&source))
}

/// An error at a byte offset of the (tab-expanded) text.
struct RawError {
    at: usize,
    expected: String,
    found: Option<String>,
    kind: ErrorKind,
    upstream: Option<String>,
}

impl RawError {
    fn syntax(at: usize, expected: impl Into<String>) -> RawError {
        RawError {
            at,
            expected: expected.into(),
            found: None,
            kind: ErrorKind::Syntax,
            upstream: None,
        }
    }

    fn with(kind: ErrorKind, at: usize, expected: impl Into<String>, found: String) -> RawError {
        RawError {
            at,
            expected: expected.into(),
            found: Some(found),
            kind,
            upstream: None,
        }
    }

    /// For the errors upstream reports itself: its message, with the number as Python's
    /// `int()` reads it.
    fn upstream(mut self, template: &str, digits: &str) -> RawError {
        let stripped = digits.trim_start_matches('0');
        let number = if stripped.is_empty() { "0" } else { stripped };
        self.upstream = Some(template.replace("{}", number));
        self
    }

    fn into_error(self, source: &Source<'_>) -> ParseError {
        ParseError {
            position: source.original_position(self.at),
            expected: self.expected,
            found: self
                .found
                .unwrap_or_else(|| describe_at(source.text(), self.at)),
            kind: self.kind,
            upstream: self.upstream,
        }
    }
}

struct Parser<'s> {
    lx: Lexer<'s>,
    depth: usize,
    /// The last operand parsed was a sub-expression without `times`, so `times` may follow.
    times_allowed: bool,
    /// The first number beyond this crate's own limits. upstream's parser accepts such numbers,
    /// so parsing goes on and any error upstream would report comes first; this one is
    /// reported only if the text is otherwise fine.
    out_of_range: Option<RawError>,
}

impl<'s> Parser<'s> {
    /// `and_expr (('or' | '||') and_expr)*`
    fn or_expr(&mut self) -> Result<Expr, RawError> {
        let first = self.and_expr()?;
        if self.lx.one_of(&OR).is_none() {
            return Ok(first);
        }
        let mut operands = vec![first, self.and_expr()?];
        while self.lx.one_of(&OR).is_some() {
            operands.push(self.and_expr()?);
        }
        Ok(Expr::Or(operands))
    }

    /// `operand (('and' | '&&') operand)*`
    fn and_expr(&mut self) -> Result<Expr, RawError> {
        let first = self.operand()?;
        if self.lx.one_of(&AND).is_none() {
            return Ok(first);
        }
        let mut operands = vec![first, self.operand()?];
        while self.lx.one_of(&AND).is_some() {
            operands.push(self.operand()?);
        }
        Ok(Expr::And(operands))
    }

    /// `sub_expression | '(' or_expr ')'`
    fn operand(&mut self) -> Result<Expr, RawError> {
        let start = self.lx.skip_blanks();
        if !self.lx.punct("(") {
            return self.sub_expression().map(Expr::Sub);
        }
        if self.depth >= MAX_NESTING {
            return Err(RawError::with(
                ErrorKind::NestingTooDeep,
                start,
                format!("at most {MAX_NESTING} nested parentheses"),
                "'('".to_owned(),
            ));
        }
        self.depth += 1;
        let expr = self.or_expr()?;
        if !self.lx.punct(")") {
            return Err(self.expected_continuation(true));
        }
        self.depth -= 1;
        self.times_allowed = false;
        Ok(expr)
    }

    /// What may follow a complete operand: an error at the current position.
    fn expected_continuation(&mut self, in_parens: bool) -> RawError {
        let at = self.lx.skip_blanks();
        let mut options = Vec::with_capacity(4);
        if self.times_allowed {
            options.push("'times'");
        }
        options.push("'and'");
        options.push("'or'");
        options.push(if in_parens { "')'" } else { "end of input" });
        RawError::syntax(at, join_options(&options))
    }

    /// `(function '(' metric [',' deterministic] [',' period] ')' | metric)
    ///  relational_operator threshold ['times' periods]`
    fn sub_expression(&mut self) -> Result<SubExpr, RawError> {
        let start = self.lx.skip_blanks();
        let mut function = None;
        let mut deterministic = false;
        let mut period = DEFAULT_PERIOD;
        let metric_name;
        let dimensions;
        let mut too_long_name = None;

        if let Some(f) = self.lx.one_of(&FUNCTIONS)
            && self.lx.punct("(")
        {
            function = Some(f);
            let name = self.lx.name(false, MAX_NAME_CHARS);
            if name.text.is_empty() {
                return Err(RawError::syntax(name.start, "a metric name"));
            }
            if name.overflowed {
                return Err(too_long(&name, "a metric name"));
            }
            metric_name = name.text;
            dimensions = self.dimensions()?;
            let had_braces = dimensions.is_some();
            let mut expected_close = if had_braces {
                "',' or ')'"
            } else {
                "'{', ',' or ')'"
            };
            if self.lx.punct(",") {
                if self.lx.keyword("DETERMINISTIC") {
                    deterministic = true;
                    expected_close = "',' or ')'";
                    if self.lx.punct(",") {
                        period = self.period(EXPECT_PERIOD)?;
                        expected_close = "')'";
                    }
                } else {
                    period =
                        self.period("'deterministic' or a period (seconds, a multiple of 60)")?;
                    expected_close = "')'";
                }
            }
            if !self.lx.punct(")") {
                let at = self.lx.skip_blanks();
                return Err(RawError::syntax(at, expected_close));
            }
        } else {
            // No function: the text from `start` is a metric name (even if it began like one,
            // as in `max > 5` or `maxfoo > 5`).
            self.lx.reset(start);
            let name = self.lx.name(false, MAX_NAME_CHARS);
            if name.text.is_empty() {
                return Err(RawError::syntax(start, EXPECT_SUB_EXPRESSION));
            }
            if name.overflowed {
                // pyparsing takes the first 255 characters as the name and goes on from there,
                // so `<255 chars>gt 5` still parses; anything else fails, as "too long".
                too_long_name = Some(name);
                dimensions = None;
            } else {
                dimensions = self.dimensions()?;
            }
            metric_name = name.text;
        }

        let op_at = self.lx.skip_blanks();
        let Some((operator, operator_style)) = self.lx.one_of(&OPERATORS) else {
            if let Some(name) = too_long_name {
                return Err(too_long(&name, "a metric name"));
            }
            let expected = if function.is_none() && dimensions.is_none() {
                format!("'{{' or {EXPECT_OPERATOR}")
            } else {
                EXPECT_OPERATOR.to_owned()
            };
            return Err(RawError::syntax(op_at, expected));
        };
        let threshold = self.threshold()?;
        let wrote_times = self.lx.keyword("TIMES");
        let periods = if wrote_times {
            self.periods()?
        } else {
            DEFAULT_PERIODS
        };
        self.times_allowed = !wrote_times;

        Ok(SubExpr {
            function: function.unwrap_or_else(|| operator.default_function()),
            metric_name: metric_name.to_owned(),
            dimensions: dimensions.unwrap_or_default(),
            deterministic,
            operator,
            operator_style,
            threshold,
            period,
            periods,
        })
    }

    /// `'{' [dimension (',' dimension)*] '}'`; `None` without braces.
    fn dimensions(&mut self) -> Result<Option<Vec<(String, String)>>, RawError> {
        if !self.lx.punct("{") {
            return Ok(None);
        }
        let mut dimensions = Vec::new();
        if self.lx.punct("}") {
            return Ok(Some(dimensions));
        }
        loop {
            let first = dimensions.is_empty();
            let name = self.lx.name(true, MAX_NAME_CHARS);
            if name.text.is_empty() {
                let expected = if first {
                    "a dimension name or '}'"
                } else {
                    "a dimension name"
                };
                return Err(RawError::syntax(name.start, expected));
            }
            if name.overflowed {
                return Err(too_long(&name, "a dimension name"));
            }
            if !self.lx.punct("=") {
                let at = self.lx.skip_blanks();
                return Err(RawError::syntax(at, "'='"));
            }
            let value = self.lx.name(true, MAX_NAME_CHARS);
            if value.text.is_empty() {
                return Err(RawError::syntax(value.start, "a dimension value"));
            }
            if value.overflowed {
                return Err(too_long(&value, "a dimension value"));
            }
            dimensions.push((name.text.to_owned(), value.text.to_owned()));
            if self.lx.punct(",") {
                continue;
            }
            if self.lx.punct("}") {
                return Ok(Some(dimensions));
            }
            let at = self.lx.skip_blanks();
            return Err(RawError::syntax(at, "',' or '}'"));
        }
    }

    /// `['-'] digits ['.' digits]` (blanks allowed between the parts, as in upstream).
    fn threshold(&mut self) -> Result<f64, RawError> {
        let start = self.lx.skip_blanks();
        let negative = self.lx.punct("-");
        let (int_at, int_digits) = self.lx.digits();
        if int_digits.is_empty() {
            let expected = if negative {
                "digits after '-'"
            } else {
                EXPECT_THRESHOLD
            };
            return Err(RawError::syntax(int_at, expected));
        }
        let before_fraction = self.lx.pos();
        let mut fraction = "";
        if self.lx.punct(".") {
            let (frac_at, frac_digits) = self.lx.digits();
            if frac_digits.is_empty() {
                return Err(RawError::syntax(frac_at, "digits after '.'"));
            }
            fraction = frac_digits;
        } else {
            self.lx.reset(before_fraction);
        }
        let mut text = String::with_capacity(int_digits.len() + fraction.len() + 2);
        if negative {
            text.push('-');
        }
        text.push_str(int_digits);
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Ok(self.defer(RawError::with(
                ErrorKind::NumberOutOfRange,
                start,
                "a threshold within the range of a double",
                quote_number(&text),
            ))),
        }
    }

    /// Records an out-of-range number (the first one wins) and gives a stand-in value.
    fn defer<T: Default>(&mut self, err: RawError) -> T {
        self.out_of_range.get_or_insert(err);
        T::default()
    }

    /// The period after `,` in a function's arguments.
    fn period(&mut self, expected: &str) -> Result<u32, RawError> {
        let (at, digits) = self.lx.digits();
        if digits.is_empty() {
            return Err(RawError::syntax(at, expected));
        }
        if digits.bytes().all(|b| b == b'0') {
            return Err(RawError::with(
                ErrorKind::PeriodZero,
                at,
                "a period greater than 0",
                quote_number(digits),
            )
            .upstream("Period must not be 0", digits));
        }
        if digits_mod(digits, PERIOD_MULTIPLE) != 0 {
            return Err(RawError::with(
                ErrorKind::PeriodNotMultipleOf60,
                at,
                "a period that is a multiple of 60",
                quote_number(digits),
            )
            .upstream("Period {} must be a multiple of 60", digits));
        }
        Ok(bounded(digits).unwrap_or_else(|| {
            self.defer(RawError::with(
                ErrorKind::NumberOutOfRange,
                at,
                format!("a period of at most {MAX_PERIOD_VALUE}"),
                quote_number(digits),
            ))
        }))
    }

    /// The count after `times`.
    fn periods(&mut self) -> Result<u32, RawError> {
        let (at, digits) = self.lx.digits();
        if digits.is_empty() {
            return Err(RawError::syntax(
                at,
                "the number of periods (an integer of 1 or more)",
            ));
        }
        if digits.bytes().all(|b| b == b'0') {
            return Err(RawError::with(
                ErrorKind::PeriodsLessThanOne,
                at,
                "a number of periods of 1 or greater",
                quote_number(digits),
            )
            .upstream("Periods {} must be 1 or greater", digits));
        }
        Ok(bounded(digits).unwrap_or_else(|| {
            self.defer(RawError::with(
                ErrorKind::NumberOutOfRange,
                at,
                format!("a number of periods of at most {MAX_PERIOD_VALUE}"),
                quote_number(digits),
            ))
        }))
    }
}

fn too_long(name: &Name<'_>, what: &str) -> RawError {
    RawError::with(
        ErrorKind::TooLong,
        name.start,
        format!("{what} of at most {MAX_NAME_CHARS} characters"),
        format!("one of more than {MAX_NAME_CHARS} characters"),
    )
}

fn quote_number(text: &str) -> String {
    const MAX: usize = 24;
    if text.len() > MAX {
        format!("'{}...'", text.get(..MAX).unwrap_or(text))
    } else {
        format!("'{text}'")
    }
}

/// `digits mod m` for a decimal string of any length.
fn digits_mod(digits: &str, m: u32) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| (acc * 10 + u32::from(b - b'0')) % m)
}

/// The value of a decimal string if it is at most [`MAX_PERIOD_VALUE`].
fn bounded(digits: &str) -> Option<u32> {
    let mut value: u64 = 0;
    for b in digits.bytes() {
        value = value * 10 + u64::from(b - b'0');
        if value > u64::from(MAX_PERIOD_VALUE) {
            return None;
        }
    }
    u32::try_from(value).ok()
}

/// `a, b or c`
fn join_options(options: &[&str]) -> String {
    match options {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}
