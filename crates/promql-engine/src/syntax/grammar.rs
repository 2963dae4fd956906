//! The grammar pass: Prometheus 2.42's grammar by recursive descent, its error rules'
//! contexts included.

use promql_parser::parser::token::{
    T_ADD, T_AT, T_ATAN2, T_AVG, T_BOOL, T_BOTTOMK, T_BY, T_COLON, T_COMMA, T_COUNT,
    T_COUNT_VALUES, T_DIV, T_DURATION, T_END, T_EQL, T_EQL_REGEX, T_EQLC, T_GROUP, T_GROUP_LEFT,
    T_GROUP_RIGHT, T_GTE, T_GTR, T_IDENTIFIER, T_IGNORING, T_LAND, T_LEFT_BRACE, T_LEFT_BRACKET,
    T_LEFT_PAREN, T_LIMIT_RATIO, T_LIMITK, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MAX,
    T_METRIC_IDENTIFIER, T_MIN, T_MOD, T_MUL, T_NEQ, T_NEQ_REGEX, T_NUMBER, T_OFFSET, T_ON, T_POW,
    T_QUANTILE, T_RIGHT_BRACE, T_RIGHT_BRACKET, T_RIGHT_PAREN, T_START, T_STDDEV, T_STDVAR,
    T_STRING, T_SUB, T_SUM, T_TOPK, T_WITHOUT,
};

use super::check::FUNCTIONS;
use super::{EOF, Found, Kind, Node, Tok, found, go_quote};

pub(super) struct Parser<'q> {
    query: &'q str,
    tokens: Vec<Tok>,
    at: usize,
    /// How many aggregations are open: their error rule catches what nothing nearer does.
    aggregations: usize,
}

/// Binary operators by precedence, loosest first; `^` binds to the right.
fn precedence(id: u16) -> Option<u8> {
    Some(match id {
        T_LOR => 1,
        T_LAND | T_LUNLESS => 2,
        T_EQLC | T_NEQ | T_GTR | T_GTE | T_LSS | T_LTE => 3,
        T_ADD | T_SUB => 4,
        T_MUL | T_DIV | T_MOD | T_ATAN2 => 5,
        T_POW => 6,
        _ => return None,
    })
}

pub(super) fn is_comparison(id: u16) -> bool {
    matches!(id, T_EQLC | T_NEQ | T_GTR | T_GTE | T_LSS | T_LTE)
}

pub(super) fn is_set(id: u16) -> bool {
    matches!(id, T_LAND | T_LOR | T_LUNLESS)
}

fn is_aggregator(id: u16) -> bool {
    matches!(
        id,
        T_SUM
            | T_AVG
            | T_COUNT
            | T_MIN
            | T_MAX
            | T_GROUP
            | T_STDDEV
            | T_STDVAR
            | T_TOPK
            | T_BOTTOMK
            | T_COUNT_VALUES
            | T_QUANTILE
            | T_LIMITK
            | T_LIMIT_RATIO
    )
}

fn is_keyword(id: u16) -> bool {
    matches!(
        id,
        T_BOOL | T_BY | T_GROUP_LEFT | T_GROUP_RIGHT | T_IGNORING | T_OFFSET | T_ON | T_WITHOUT
    )
}

/// Tokens a metric name may be (Prometheus's `metric_identifier`).
fn is_metric_name(id: u16) -> bool {
    is_aggregator(id)
        || matches!(
            id,
            T_IDENTIFIER
                | T_METRIC_IDENTIFIER
                | T_BY
                | T_WITHOUT
                | T_OFFSET
                | T_LAND
                | T_LOR
                | T_LUNLESS
                | T_START
                | T_END
        )
}

/// Tokens a grouping label may be (Prometheus's `maybe_label`).
fn is_label(id: u16) -> bool {
    (is_metric_name(id) && id != T_METRIC_IDENTIFIER) || is_keyword(id) || id == T_ATAN2
}

impl<'q> Parser<'q> {
    pub(super) fn new(query: &'q str, tokens: Vec<Tok>) -> Self {
        Self {
            query,
            tokens,
            at: 0,
            aggregations: 0,
        }
    }

    pub(super) fn peek(&self) -> Tok {
        self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek2(&self) -> Tok {
        self.tokens[(self.at + 1).min(self.tokens.len() - 1)]
    }

    pub(super) fn next(&mut self) -> Tok {
        let t = self.peek();
        self.at += 1;
        t
    }

    fn text(&self, t: Tok) -> &str {
        &self.query[t.start..t.end]
    }

    /// Prometheus's description of a token in `unexpected …`.
    fn describe(&self, t: Tok) -> String {
        let text = self.text(t);
        match t.id {
            EOF => "end of input".into(),
            T_IDENTIFIER | T_METRIC_IDENTIFIER => format!("identifier {}", go_quote(text)),
            T_NUMBER => format!("number {}", go_quote(text)),
            T_STRING => format!("string {}", go_quote(text)),
            T_DURATION => format!("duration {}", go_quote(text)),
            id if is_keyword(id) => format!("<{text}>"),
            id if is_aggregator(id) => format!("<aggr:{text}>"),
            id if precedence(id).is_some() || id == T_AT => format!("<op:{text}>"),
            _ => go_quote(text),
        }
    }

    /// `unexpected <token>[ in <context>][, expected <what>]` at the next token; an open
    /// aggregation names itself when no nearer rule does.
    pub(super) fn unexpected(&self, context: &str, expected: &str) -> Found {
        let t = self.peek();
        let context = if context.is_empty() && self.aggregations > 0 {
            "aggregation"
        } else {
            context
        };
        let mut message = format!("unexpected {}", self.describe(t));
        if !context.is_empty() {
            message.push_str(&format!(" in {context}"));
        }
        if !expected.is_empty() {
            message.push_str(&format!(", expected {expected}"));
        }
        found(t.start, message)
    }

    fn expect(&mut self, id: u16, context: &str, expected: &str) -> Result<Tok, Found> {
        if self.peek().id == id {
            Ok(self.next())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    pub(super) fn expr(&mut self, min: u8) -> Result<Node, Found> {
        let mut lhs = self.unary()?;
        while let Some(prec) = precedence(self.peek().id) {
            if prec < min {
                break;
            }
            let op = self.next();
            let bool_modifier = self.peek().id == T_BOOL;
            if bool_modifier {
                self.next();
            }
            let (mut on, mut matching, mut grouped) = (false, Vec::new(), None);
            if matches!(self.peek().id, T_ON | T_IGNORING) {
                on = self.next().id == T_ON;
                matching = self.grouping()?;
                if matches!(self.peek().id, T_GROUP_LEFT | T_GROUP_RIGHT) {
                    self.next();
                    grouped = Some(if self.peek().id == T_LEFT_PAREN {
                        self.grouping()?
                    } else {
                        Vec::new()
                    });
                }
            }
            let next_min = if op.id == T_POW { prec } else { prec + 1 };
            let rhs = self.expr(next_min)?;
            lhs = Node {
                start: lhs.start,
                kind: Kind::Binary {
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                    op: op.id,
                    op_at: op.start,
                    bool_modifier,
                    on,
                    matching,
                    grouped,
                },
            };
        }
        Ok(lhs)
    }

    /// A unary `+`/`-` binds as `*` does: looser than `^` and the postfix modifiers.
    fn unary(&mut self) -> Result<Node, Found> {
        if matches!(self.peek().id, T_ADD | T_SUB) {
            let op = self.next();
            let inner = self.expr(6)?;
            let kind = match inner.kind {
                Kind::Number => Kind::Number,
                other => Kind::Unary(Box::new(Node {
                    start: inner.start,
                    kind: other,
                })),
            };
            return Ok(Node {
                start: op.start,
                kind,
            });
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn primary(&mut self) -> Result<Node, Found> {
        let t = self.peek();
        match t.id {
            T_NUMBER => {
                self.next();
                Ok(Node {
                    start: t.start,
                    kind: Kind::Number,
                })
            }
            T_STRING => {
                self.next();
                Ok(Node {
                    start: t.start,
                    kind: Kind::String,
                })
            }
            T_LEFT_PAREN => {
                self.next();
                let inner = self.expr(0)?;
                self.expect(T_RIGHT_PAREN, "", "")?;
                Ok(Node {
                    start: t.start,
                    kind: Kind::Paren(Box::new(inner)),
                })
            }
            T_LEFT_BRACE => self.selector(None, t.start),
            id if is_aggregator(id)
                && matches!(self.peek2().id, T_LEFT_PAREN | T_BY | T_WITHOUT) =>
            {
                self.aggregation()
            }
            T_IDENTIFIER if self.peek2().id == T_LEFT_PAREN => {
                self.next();
                let args = self.call_body()?;
                let name = self.text(t).to_string();
                if !FUNCTIONS.iter().any(|f| f.0 == name) {
                    return Err(found(
                        t.start,
                        format!("unknown function with name {}", go_quote(&name)),
                    ));
                }
                Ok(Node {
                    start: t.start,
                    kind: Kind::Call { name, args },
                })
            }
            id if is_metric_name(id) => {
                self.next();
                let name = self.text(t).to_string();
                self.selector(Some(name), t.start)
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    /// `{…}` after an optional metric name.
    fn selector(&mut self, name: Option<String>, start: usize) -> Result<Node, Found> {
        let mut matchers = Vec::new();
        if self.peek().id == T_LEFT_BRACE {
            self.next();
            const CONTEXT: &str = "label matching";
            loop {
                if self.peek().id == T_RIGHT_BRACE {
                    self.next();
                    break;
                }
                let label = self.expect(T_IDENTIFIER, CONTEXT, "identifier or \"}\"")?;
                let op = self.peek();
                if !matches!(op.id, T_EQL | T_NEQ | T_EQL_REGEX | T_NEQ_REGEX) {
                    return Err(self.unexpected(CONTEXT, "label matching operator"));
                }
                self.next();
                let value = self.expect(T_STRING, CONTEXT, "string")?;
                let value_text = unquote(self.text(value));
                if matches!(op.id, T_EQL_REGEX | T_NEQ_REGEX)
                    && let Err(e) = regex::Regex::new(&format!("^(?s:{value_text})$"))
                {
                    let reason = e.to_string();
                    let reason = reason.lines().last().unwrap_or_default();
                    return Err(found(
                        label.start,
                        format!(
                            "error parsing regexp: {}",
                            reason.trim_start_matches("error: ")
                        ),
                    ));
                }
                matchers.push((self.text(label).to_string(), op.id, value_text, label.start));
                match self.peek().id {
                    T_COMMA => {
                        self.next();
                    }
                    T_RIGHT_BRACE => {}
                    _ => return Err(self.unexpected(CONTEXT, "\",\" or \"}\"")),
                }
            }
        }
        Ok(Node {
            start,
            kind: Kind::Selector {
                name,
                matchers,
                offset: false,
                at: false,
            },
        })
    }

    fn grouping(&mut self) -> Result<Vec<String>, Found> {
        const CONTEXT: &str = "grouping opts";
        self.expect(T_LEFT_PAREN, CONTEXT, "\"(\"")?;
        let mut labels = Vec::new();
        loop {
            if self.peek().id == T_RIGHT_PAREN {
                self.next();
                return Ok(labels);
            }
            if !is_label(self.peek().id) {
                return Err(self.unexpected(CONTEXT, "label"));
            }
            let t = self.next();
            labels.push(self.text(t).to_string());
            match self.peek().id {
                T_COMMA => {
                    self.next();
                }
                T_RIGHT_PAREN => {}
                _ => return Err(self.unexpected(CONTEXT, "\",\" or \")\"")),
            }
        }
    }

    /// `(args)`, refusing a trailing comma.
    fn call_body(&mut self) -> Result<Vec<Node>, Found> {
        self.expect(T_LEFT_PAREN, "", "")?;
        let mut args = Vec::new();
        if self.peek().id == T_RIGHT_PAREN {
            self.next();
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            match self.peek().id {
                T_RIGHT_PAREN => {
                    self.next();
                    return Ok(args);
                }
                T_COMMA => {
                    let comma = self.next();
                    if self.peek().id == T_RIGHT_PAREN {
                        return Err(found(
                            comma.start,
                            "trailing commas not allowed in function call args",
                        ));
                    }
                }
                _ => return Err(self.unexpected("", "")),
            }
        }
    }

    fn aggregation(&mut self) -> Result<Node, Found> {
        let op = self.next();
        self.aggregations += 1;
        let parsed = (|| {
            if matches!(self.peek().id, T_BY | T_WITHOUT) {
                self.next();
                self.grouping()?;
                self.call_body()
            } else {
                let args = self.call_body()?;
                if matches!(self.peek().id, T_BY | T_WITHOUT) {
                    self.next();
                    self.grouping()?;
                }
                Ok(args)
            }
        })();
        self.aggregations -= 1;
        let args = parsed?;
        let wanted = if matches!(
            op.id,
            T_TOPK | T_BOTTOMK | T_COUNT_VALUES | T_QUANTILE | T_LIMITK | T_LIMIT_RATIO
        ) {
            2
        } else {
            1
        };
        if args.is_empty() {
            return Err(found(
                op.start,
                "no arguments for aggregate expression provided",
            ));
        }
        if args.len() != wanted {
            return Err(found(
                op.start,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {wanted}, got {}",
                    args.len()
                ),
            ));
        }
        Ok(Node {
            start: op.start,
            kind: Kind::Aggregate { op: op.id, args },
        })
    }

    /// `offset`, `@` and `[…]` after an operand, any number of them.
    fn postfix(&mut self, mut node: Node) -> Result<Node, Found> {
        loop {
            match self.peek().id {
                T_OFFSET => {
                    self.next();
                    if self.peek().id == T_SUB {
                        self.next();
                    }
                    let d = self.expect(T_DURATION, "offset", "duration")?;
                    self.duration(d)?;
                    set_modifier(&mut node, true)?;
                }
                T_AT => {
                    self.next();
                    let t = self.peek();
                    match t.id {
                        T_ADD | T_SUB => {
                            self.next();
                            let n = self.expect(T_NUMBER, "@", "timestamp")?;
                            let sign = if t.id == T_SUB { -1.0 } else { 1.0 };
                            self.timestamp(&node, sign * number(self.text(n)))?;
                        }
                        T_NUMBER => {
                            self.next();
                            self.timestamp(&node, number(self.text(t)))?;
                        }
                        T_START | T_END => {
                            self.next();
                            if self.peek().id != T_LEFT_PAREN || self.peek2().id != T_RIGHT_PAREN {
                                if self.peek().id == T_LEFT_PAREN {
                                    self.next();
                                }
                                return Err(self.unexpected("@", "timestamp"));
                            }
                            self.next();
                            self.next();
                        }
                        _ => return Err(self.unexpected("@", "timestamp")),
                    }
                    set_modifier(&mut node, false)?;
                }
                T_LEFT_BRACKET => node = self.range(node)?,
                _ => return Ok(node),
            }
        }
    }

    fn duration(&self, t: Tok) -> Result<(), Found> {
        match promql_parser::util::parse_duration(self.text(t)) {
            Ok(d) if d.is_zero() => Err(found(t.start, "duration must be greater than 0")),
            Ok(_) => Ok(()),
            Err(e) => Err(found(t.start, e)),
        }
    }

    fn timestamp(&self, node: &Node, ts: f64) -> Result<(), Found> {
        if !ts.is_finite() || ts >= i64::MAX as f64 || ts <= i64::MIN as f64 {
            let shown = if ts.is_nan() {
                "NaN".to_string()
            } else if ts.is_infinite() {
                if ts > 0.0 { "+Inf" } else { "-Inf" }.to_string()
            } else {
                format!("{ts:.6}")
            };
            return Err(found(
                node.start,
                format!("timestamp out of bounds for @ modifier: {shown}"),
            ));
        }
        Ok(())
    }

    fn range(&mut self, node: Node) -> Result<Node, Found> {
        let open = self.next();
        if self.peek().id == T_RIGHT_BRACKET {
            return Err(found(
                self.peek().start,
                "missing unit character in duration",
            ));
        }
        let range = self.expect(T_DURATION, "subquery selector", "duration")?;
        self.duration(range)?;
        match self.peek().id {
            T_RIGHT_BRACKET => {
                self.next();
                let problem = match &node.kind {
                    Kind::Selector { offset: true, .. } => {
                        Some("no offset modifiers allowed before range")
                    }
                    Kind::Selector { at: true, .. } => Some("no @ modifiers allowed before range"),
                    Kind::Selector { .. } => None,
                    _ => Some("ranges only allowed for vector selectors"),
                };
                if let Some(problem) = problem {
                    return Err(found(open.start, problem));
                }
                Ok(Node {
                    start: node.start,
                    kind: Kind::Matrix {
                        offset: false,
                        at: false,
                    },
                })
            }
            T_COLON => {
                self.next();
                if self.peek().id == T_DURATION {
                    let step = self.next();
                    self.duration(step)?;
                    self.expect(T_RIGHT_BRACKET, "subquery selector", "\"]\"")?;
                } else {
                    self.expect(T_RIGHT_BRACKET, "subquery selector", "duration or \"]\"")?;
                }
                Ok(Node {
                    start: node.start,
                    kind: Kind::Subquery {
                        inner: Box::new(node),
                        offset: false,
                        at: false,
                    },
                })
            }
            _ => Err(self.unexpected("subquery or range", "\":\" or \"]\"")),
        }
    }
}

/// Records an `offset` (`offset` true) or `@` on `node`, as Prometheus allows them.
fn set_modifier(node: &mut Node, offset: bool) -> Result<(), Found> {
    let what = if offset { "offset" } else { "@" };
    let (has_offset, has_at) = match &mut node.kind {
        Kind::Selector { offset, at, .. }
        | Kind::Matrix { offset, at }
        | Kind::Subquery { offset, at, .. } => (offset, at),
        _ => {
            return Err(found(
                node.start,
                format!(
                    "{what} modifier must be preceded by an instant vector selector or range vector selector or a subquery"
                ),
            ));
        }
    };
    let slot = if offset { has_offset } else { has_at };
    if *slot {
        return Err(twice(node.start, offset));
    }
    *slot = true;
    Ok(())
}

fn twice(at: usize, offset: bool) -> Found {
    found(
        at,
        if offset {
            "offset may not be set multiple times"
        } else {
            "@ <timestamp> may not be set multiple times"
        },
    )
}

/// A string token's value, its quotes and escapes removed (enough to tell emptiness and
/// compile a regular expression).
fn unquote(text: &str) -> String {
    let inner = text
        .get(1..text.len().saturating_sub(1))
        .unwrap_or_default();
    if text.starts_with('`') {
        return inner.to_string();
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A number token's value as Prometheus reads it (hexadecimal, `Inf`, `NaN` included).
fn number(text: &str) -> f64 {
    let lower = text.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).map_or(f64::NAN, |v| v as f64);
    }
    match lower.as_str() {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        "nan" => f64::NAN,
        _ => lower.parse().unwrap_or(f64::NAN),
    }
}
