//! Monasca alarm-definition expressions, parsed exactly as `openstack/monasca-api` accepts them.
//!
//! ```
//! use alarm_expr::{Expr, Function, Operator, parse};
//!
//! let expr = parse(
//!     "avg(cpu.idle_perc{hostname=web1, service=compute}, 120) < 10 times 3 \
//!      or count(log.error{component=mysql}, deterministic) >= 1",
//! )
//! .unwrap();
//! assert!(matches!(expr, Expr::Or(_)));
//!
//! let subs = expr.sub_expressions();
//! assert_eq!(subs[0].function, Function::Avg);
//! assert_eq!(subs[0].dimensions[1], ("service".to_owned(), "compute".to_owned()));
//! assert_eq!((subs[0].period, subs[0].periods), (120, 3));
//! assert_eq!(subs[1].operator, Operator::Gte);
//! assert!(subs[1].deterministic);
//!
//! // upstream's normalized text of each sub-expression (`fmtd_sub_expr_str`)...
//! assert_eq!(
//!     subs[0].fmtd_sub_expr_str(),
//!     "AVG(cpu.idle_perc{hostname=web1,service=compute}, 120) < 10.0 times 3"
//! );
//! // ...and the same with `deterministic` kept, which parses back to the same tree.
//! assert_eq!(
//!     expr.to_string(),
//!     "AVG(cpu.idle_perc{hostname=web1,service=compute}, 120) < 10.0 times 3 \
//!      or COUNT(log.error{component=mysql}, deterministic) >= 1.0"
//! );
//! assert_eq!(parse(&expr.to_string()).unwrap(), expr);
//!
//! let err = parse("max(cpu.idle_perc, 90) > 10").unwrap_err();
//! assert_eq!(err.to_string(), "expected a period that is a multiple of 60 at position 19, found '90'");
//! assert_eq!(err.upstream_message(), Some("Period 90 must be a multiple of 60"));
//! assert_eq!(err.render("max(cpu.idle_perc, 90) > 10"), "max(cpu.idle_perc, 90) > 10\n                   ^");
//! ```
//!
//! # The grammar
//!
//! As `monasca_api/expression_parser/alarm_expr_parser.py` defines it (pyparsing):
//!
//! ```text
//! expression     = and_expr { ("or" | "||") and_expr }
//! and_expr       = operand { ("and" | "&&") operand }          -- and binds tighter than or
//! operand        = sub_expression | "(" expression ")"
//! sub_expression = ( function "(" metric [ "," "deterministic" ] [ "," period ] ")" | metric )
//!                  relational_operator threshold [ "times" periods ]
//! function       = "avg" | "min" | "max" | "sum" | "count" | "last"
//! metric         = metric_name [ "{" [ dimension { "," dimension } ] "}" ]
//! dimension      = dimension_name "=" dimension_value
//! relational_operator = "<=" | "lte" | "<" | "lt" | ">=" | "gte" | ">" | "gt"
//! threshold      = [ "-" ] digits [ "." digits ]
//! period, periods = digits
//! ```
//!
//! - Keywords (functions, operators, `and`, `or`, `times`, `deterministic`) are matched in any
//!   case and need no word boundary: `x > 0or y > 1` is two sub-expressions. As with Python's
//!   `str.upper()`, `ı` counts as `i` and `ſ` as `s`.
//! - Blanks (space, tab, `\n`, `\r`) may appear between any two tokens, even inside a number
//!   (`- 5 . 5` is `-5.5`). Tabs are first expanded to spaces as pyparsing does.
//! - A metric name is 1 to 255 characters from: ASCII letters and digits,
//!   ``.-_#!$%&'*+/:;?@[\]^`|~``, and any character from U+0080 to U+FFFF that is not white
//!   space. So `a||b` and `it's` are metric names. There is no quoting.
//! - Dimension names and values take the same characters plus the space, 1 to 255 each; they
//!   never start with a blank but keep blanks before `=`, `,` and `}` (`{a = b }` is `"a "` =
//!   `"b "`, as upstream stores it).
//! - Without a function, the function is `max` for `>`/`>=` and `min` for `<`/`<=`.
//! - The period must not be 0 and must be a multiple of 60; `times` must be 1 or more.
//!   Both default (60 and 1) when not written. No exponent, `+` or leading `.` in a threshold.
//!
//! Beyond upstream's parser, three limits keep what it would accept and then fail to store or
//! evaluate out: a period or `times` above 2147483647 ([`MAX_PERIOD_VALUE`], a 32-bit database
//! column), a threshold beyond the range of a double (upstream reads it as infinity), and more
//! than [`MAX_NESTING`] nested parentheses. The Java API's limit of two weeks on
//! `period × periods` is not applied; see [`SubExpr::window_seconds`].

mod ast;
mod error;
mod lexer;
mod parser;
mod pyfloat;

pub use ast::{
    DEFAULT_PERIOD, DEFAULT_PERIODS, Expr, Function, JAVA_MAX_WINDOW_SECONDS, MAX_NAME_CHARS,
    MAX_PERIOD_VALUE, Operator, OperatorStyle, PERIOD_MULTIPLE, SubExpr,
};
pub use error::{ErrorKind, ParseError};
pub use parser::{MAX_NESTING, parse};

impl std::str::FromStr for Expr {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Expr, ParseError> {
        parse(s)
    }
}
