//! Prometheus's syntax error messages, `line:column:` included.
//!
//! The `promql-parser` crate rejects what Prometheus rejects but reports grammar and type
//! errors without a position and in words of its own. For a query it rejects, this module
//! parses the query again over the crate's tokens, by Prometheus 2.42's grammar: the first
//! grammar error with the context Prometheus's error rules name ("in grouping opts",
//! "in aggregation", …), or, when the grammar holds, the first error of its type check, at the
//! node Prometheus points to ([`grammar`], [`check`]); a lexical error, at the character
//! where lexing fails.

mod check;
mod grammar;

use lrpar::{Lexeme, Lexer};
use promql_parser::parser::token::T_EOF;

/// `parse error: …` as Prometheus words the error `message` of the `promql-parser` crate on
/// `query`, with `line:column:` in front: for a lexical error (an unexpected character, an
/// unterminated string) the character where lexing fails, for any other the token or node
/// [`locate`] finds.
pub(crate) fn syntax_error(query: &str, message: &str) -> String {
    let (offset, message) = if promql_parser::parser::lexer(query).is_ok() {
        match locate(query) {
            Some(found) => found,
            None => return format!("parse error: {}", message.replace('\'', "\"")),
        }
    } else if query.len() > 4096 {
        // Finding the character re-lexes every prefix: not for huge input.
        return format!("parse error: {message}");
    } else {
        lexical_error(query, message)
    };
    let line = query[..offset].matches('\n').count() + 1;
    let column = query[..offset]
        .rfind('\n')
        .map_or(offset, |nl| offset - nl - 1)
        + 1;
    format!("{line}:{column}: parse error: {message}")
}

/// Where a lexical error is, and Prometheus's words for it.
fn lexical_error(query: &str, message: &str) -> (usize, String) {
    // The lexer fails at the same character on every longer prefix: the end of the
    // shortest prefix failing with this message is that character.
    let end = query
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .find(|&end| promql_parser::parser::lexer(&query[..end]).err().as_deref() == Some(message))
        .unwrap_or(query.len());
    let mut offset = query[..end].char_indices().last().map_or(0, |(i, _)| i);
    // What is still open is only known at the end of the input: Prometheus points there.
    if message.starts_with("unclosed") || message.starts_with("unexpected end of input") {
        offset = query.len();
    }
    // Prometheus's wording (and, for these, position) where this lexer's differs.
    let message = match message {
        m if m.starts_with("unterminated quoted string") => {
            if query[offset..].starts_with('`') {
                "unterminated raw string".into()
            } else {
                "unterminated quoted string".into()
            }
        }
        "unexpected end of input inside brackets" => "unclosed left bracket".into(),
        m if m.starts_with("unexpected right parenthesis") => {
            offset = end;
            m.into()
        }
        "unexpected right brace '}'" => "unexpected character: '}'".into(),
        "unexpected second colon(:) in brackets" => "unexpected colon ':'".into(),
        m => match m.strip_prefix("bad number or duration syntax: ") {
            // Prometheus names the digits before the bad unit, from where they start.
            Some(text) => {
                let digits = text
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(text.len());
                offset = offset.saturating_sub(digits);
                let after_bracket = query[..offset].trim_end().ends_with('[');
                format!(
                    "bad {}duration syntax: {}",
                    if after_bracket { "" } else { "number or " },
                    go_quote(&text[..digits])
                )
            }
            None => m.into(),
        },
    };
    (offset, message)
}

/// The offset and message (without `parse error: `) of the first error Prometheus reports
/// for `query`; `None` when the query does not lex or this pass finds nothing wrong.
pub(crate) fn locate(query: &str) -> Option<(usize, String)> {
    match tree(query)?.and_then(|node| check::check(&node).map(|_| ())) {
        Err(e) => Some((e.at, e.message)),
        Ok(()) => None,
    }
}

/// The offsets of each call's arguments and of each aggregation's parameter (if any), calls
/// and aggregations in the order they start.
pub(crate) type Sites = (Vec<Vec<usize>>, Vec<Option<usize>>);

/// Where annotations may point, in a query that parses.
pub(crate) fn sites(query: &str) -> Option<Sites> {
    fn walk(node: &Node, calls: &mut Vec<Vec<usize>>, aggregations: &mut Vec<Option<usize>>) {
        match &node.kind {
            Kind::Call { args, .. } => {
                calls.push(args.iter().map(|a| a.start).collect());
                args.iter().for_each(|a| walk(a, calls, aggregations));
            }
            Kind::Aggregate { args, .. } => {
                aggregations.push((args.len() == 2).then(|| args[0].start));
                args.iter().for_each(|a| walk(a, calls, aggregations));
            }
            Kind::Binary { lhs, rhs, .. } => {
                walk(lhs, calls, aggregations);
                walk(rhs, calls, aggregations);
            }
            Kind::Paren(inner) | Kind::Unary(inner) | Kind::Subquery { inner, .. } => {
                walk(inner, calls, aggregations);
            }
            Kind::Number | Kind::String | Kind::Selector { .. } | Kind::Matrix { .. } => {}
        }
    }
    let node = tree(query)?.ok()?;
    let (mut calls, mut aggregations) = (Vec::new(), Vec::new());
    walk(&node, &mut calls, &mut aggregations);
    Some((calls, aggregations))
}

/// The grammar pass over `query`: its tree or first grammar error; `None` when it does not
/// lex.
fn tree(query: &str) -> Option<Result<Node, Found>> {
    let lexer = promql_parser::parser::lexer(query).ok()?;
    let mut tokens: Vec<Tok> = lexer
        .iter()
        .filter_map(Result::ok)
        .filter(|l| l.tok_id() != T_EOF)
        .map(|l| Tok {
            id: l.tok_id(),
            start: l.span().start(),
            end: l.span().end(),
        })
        .collect();
    tokens.push(Tok {
        id: EOF,
        start: query.len(),
        end: query.len(),
    });
    if tokens.len() == 1 {
        return Some(Err(found(0, "no expression found in input")));
    }
    let mut p = grammar::Parser::new(query, tokens);
    Some(p.expr(0).and_then(|node| match p.peek().id {
        EOF => Ok(node),
        _ => Err(p.unexpected("", "")),
    }))
}

const EOF: u16 = u16::MAX;

#[derive(Clone, Copy, Debug)]
struct Tok {
    id: u16,
    start: usize,
    end: usize,
}

struct Found {
    at: usize,
    message: String,
}

fn found(at: usize, message: impl Into<String>) -> Found {
    Found {
        at,
        message: message.into(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Type {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl Type {
    /// Prometheus's `DocumentedType`.
    fn documented(self) -> &'static str {
        match self {
            Type::Scalar => "scalar",
            Type::Vector => "instant vector",
            Type::Matrix => "range vector",
            Type::String => "string",
        }
    }

    /// Prometheus's `ValueType` as `%s` prints it.
    fn short(self) -> &'static str {
        match self {
            Type::Scalar => "scalar",
            Type::Vector => "vector",
            Type::Matrix => "matrix",
            Type::String => "string",
        }
    }

    fn of(code: u8) -> Type {
        match code {
            b's' => Type::Scalar,
            b'm' => Type::Matrix,
            b't' => Type::String,
            _ => Type::Vector,
        }
    }
}

/// A label matcher: name, operator token, unquoted value, its offset.
type Matcher = (String, u16, String, usize);

/// An expression node: where it starts and what it is.
struct Node {
    start: usize,
    kind: Kind,
}

enum Kind {
    Number,
    String,
    Selector {
        name: Option<String>,
        matchers: Vec<Matcher>,
        offset: bool,
        at: bool,
    },
    Matrix {
        offset: bool,
        at: bool,
    },
    Subquery {
        inner: Box<Node>,
        offset: bool,
        at: bool,
    },
    Call {
        name: String,
        args: Vec<Node>,
    },
    Aggregate {
        op: u16,
        args: Vec<Node>,
    },
    Binary {
        lhs: Box<Node>,
        rhs: Box<Node>,
        op: u16,
        op_at: usize,
        bool_modifier: bool,
        on: bool,
        matching: Vec<String>,
        grouped: Option<Vec<String>>,
    },
    Unary(Box<Node>),
    Paren(Box<Node>),
}

/// Go's `%q` of a string: Rust's debug quoting agrees on the printable ASCII queries use.
fn go_quote(text: &str) -> String {
    format!("{text:?}")
}
