//! A reader of the script format of Prometheus's PromQL test files (`promql/testdata/*.test`
//! in 2.x, `promql/promqltest/testdata/*.test` in 3.x), written from the format's description:
//! `load <step>` and its series lines, `clear`, `eval[_fail|_ordered|_warn|_info] instant [at
//! <time>] <expr>` and `eval[_fail|_warn|_info] range from <t> to <t> step <d> <expr>` with
//! their expected lines, `expected_fail_message`/`expected_fail_regexp`, and the `expect` lines
//! of 3.4+ (`expect fail|warn|no_warn|info|no_info|ordered [msg:…|regex:…]`, `expect range
//! vector from … to … step …`, `expect string "…"`). What it does not read (native histograms,
//! start timestamps) it keeps as a reason to skip.

use std::collections::BTreeMap;

pub use promql_engine::STALE_NAN_BITS;

/// A label set as written in a series line, `__name__` included.
pub type LabelSet = BTreeMap<String, String>;

/// One value of a series line: a number (the stale marker among them) or `_`, none.
pub type SeqValue = Option<f64>;

#[derive(Debug)]
pub enum Command {
    Clear,
    /// Series, each value `step_ms` after the one before, the first at 0.
    Load {
        step_ms: i64,
        series: Vec<(LabelSet, Vec<SeqValue>)>,
        /// Why this load cannot be replayed (a native histogram).
        unsupported: Option<String>,
        /// The names of native histograms, which only Prometheus can read: those loaded
        /// (`{{…}}`), and those `load_with_nhcb` makes of classic ones (`x` of `x_bucket`,
        /// `x_count`, `x_sum`).
        native_names: Vec<String>,
    },
    Eval(Eval),
}

/// What an `expect` line wants of a message.
#[derive(Debug, Clone)]
pub enum Wanted {
    Message(String),
    Pattern(String),
}

#[derive(Debug, Default)]
pub struct Eval {
    pub line: usize,
    pub expr: String,
    /// `Some((start, end, step))` for `eval range`, all in ms; `None` for `eval instant`.
    pub range: Option<(i64, i64, i64)>,
    pub at_ms: i64,
    pub fail: bool,
    pub ordered: bool,
    pub warn: bool,
    pub info: bool,
    pub fail_message: Option<String>,
    pub fail_regexp: Option<String>,
    /// The `expect` lines of the 3.4+ format: `fail`, `warn`, `no_warn`, `info`, `no_info`,
    /// `ordered`, each with the message (`msg:`) or pattern (`regex:`) it wants, if any.
    pub expects: Vec<(String, Option<Wanted>)>,
    /// `expect range vector from … to … step …`: the instant query (at the end) returns these
    /// points.
    pub range_vector: Option<(i64, i64, i64)>,
    /// `expect string "…"`: the result is this string.
    pub string: Option<String>,
    /// A bare number: the result is a scalar.
    pub scalar: Option<f64>,
    /// Label sets in the order written (the position matters for `eval_ordered`).
    pub series: Vec<(LabelSet, Vec<SeqValue>)>,
    /// Why this eval cannot be checked here (a directive or value the reader does not know).
    pub unsupported: Option<String>,
}

/// The commands of a file, or what is wrong with it at which line.
pub fn parse_file(text: &str) -> Result<Vec<Command>, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let word = l.split_whitespace().next().unwrap_or("").to_lowercase();
        let block_end = |from: usize| {
            (from..lines.len())
                .find(|&j| lines[j].is_empty())
                .unwrap_or(lines.len())
        };
        if l.is_empty() {
            i += 1;
        } else if word == "clear" {
            out.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let end = block_end(i + 1);
            out.push(parse_load(&lines[i..end], i + 1)?);
            i = end;
        } else if word.starts_with("eval") {
            let end = block_end(i + 1);
            out.push(Command::Eval(parse_eval(&lines[i..end], i + 1)?));
            i = end;
        } else {
            return Err(format!("line {}: unknown command {l:?}", i + 1));
        }
    }
    Ok(out)
}

fn parse_load(block: &[&str], line: usize) -> Result<Command, String> {
    let mut words = block[0].split_whitespace();
    let command = words.next().unwrap_or("");
    let step = words.next().unwrap_or("");
    let step_ms = parse_duration(step).ok_or(format!("line {line}: bad load step {step:?}"))?;
    let with_nhcb = command == "load_with_nhcb";
    if !with_nhcb && command != "load" {
        return Err(format!("line {line}: unknown command {command:?}"));
    }
    let mut unsupported = None;
    let mut series: Vec<(LabelSet, Vec<SeqValue>)> = Vec::new();
    let mut native_names = Vec::new();
    for (k, def) in block[1..].iter().enumerate() {
        if def.contains("{{") {
            // A native histogram is not loaded; evals naming it are skipped.
            let name = metric_end(def)
                .filter(|_| !def.starts_with('{'))
                .and_then(|end| parse_labels(def[..end].trim()).ok())
                .and_then(|labels| labels.get("__name__").cloned());
            match name {
                Some(name) => native_names.push(name),
                None => unsupported = Some("native histogram samples (`{{…}}`)".into()),
            }
            continue;
        }
        if def.contains('@') && def.rfind('}').is_none_or(|end| def[end..].contains('@')) {
            unsupported =
                Some("start timestamps in series values (`@`, 3.x's newest format)".into());
            continue;
        }
        series.push(parse_series(def).map_err(|e| format!("line {}: {e}", line + k + 1))?);
    }
    if with_nhcb {
        for (labels, _) in &series {
            let name = labels.get("__name__").map_or("", String::as_str);
            for suffix in ["_bucket", "_count", "_sum"] {
                if let Some(base) = name.strip_suffix(suffix) {
                    native_names.push(base.to_string());
                }
            }
        }
    }
    Ok(Command::Load {
        step_ms,
        series,
        unsupported,
        native_names,
    })
}

fn parse_eval(block: &[&str], line: usize) -> Result<Eval, String> {
    let head = block[0];
    let (command, rest) = head.split_once(char::is_whitespace).unwrap_or((head, ""));
    let modifier = command.strip_prefix("eval").unwrap_or("");
    let mut ev = Eval {
        line,
        fail: modifier == "_fail",
        ordered: modifier == "_ordered",
        warn: modifier == "_warn",
        info: modifier == "_info",
        ..Eval::default()
    };
    if !matches!(modifier, "" | "_fail" | "_ordered" | "_warn" | "_info") {
        return Err(format!("line {line}: unknown command {command:?}"));
    }
    let rest = rest.trim_start();
    let bad = |what: &str| format!("line {line}: bad {what} in {head:?}");
    if let Some(rest) = rest.strip_prefix("instant") {
        let rest = rest.trim_start();
        let (at, expr) = match rest.strip_prefix("at ") {
            Some(r) => r
                .trim_start()
                .split_once(char::is_whitespace)
                .ok_or(bad("time"))?,
            None => ("0s", rest),
        };
        ev.at_ms = parse_duration(at).ok_or(bad("time"))?;
        ev.expr = expr.trim().to_string();
    } else if let Some(rest) = rest.strip_prefix("range") {
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [from_kw, from, to_kw, to, step_kw, step, ..] = words[..] else {
            return Err(bad("range"));
        };
        if (from_kw, to_kw, step_kw) != ("from", "to", "step") {
            return Err(bad("range"));
        }
        let time = |t: &str| parse_duration(t).ok_or(bad("range"));
        ev.range = Some((time(from)?, time(to)?, time(step)?));
        // The expression is what follows the step, spaces inside it kept.
        let after_step = rest.find(" step ").ok_or(bad("range"))? + " step ".len();
        let tail = rest[after_step..].trim_start();
        ev.expr = tail[step.len()..].trim().to_string();
    } else {
        return Err(bad("evaluation"));
    }
    for (k, def) in block[1..].iter().enumerate() {
        let def_line = line + k + 1;
        if ev.unsupported.is_some() {
            // The rest of the block is in a notation the reader does not know.
            break;
        }
        if let Some(m) = def.strip_prefix("expected_fail_message") {
            ev.fail_message = Some(m.trim().to_string());
        } else if let Some(r) = def.strip_prefix("expected_fail_regexp") {
            ev.fail_regexp = Some(r.trim().to_string());
        } else if let Some(range) = def.strip_prefix("expect range vector") {
            let words: Vec<&str> = range.split_whitespace().collect();
            let [from_kw, from, to_kw, to, step_kw, step] = words[..] else {
                return Err(format!("line {def_line}: bad {def:?}"));
            };
            let time = |t: &str| parse_duration(t).ok_or(format!("line {def_line}: bad {def:?}"));
            if (from_kw, to_kw, step_kw) != ("from", "to", "step") {
                return Err(format!("line {def_line}: bad {def:?}"));
            }
            let (start, end) = (time(from)?, time(to)?);
            ev.range_vector = Some((start, end, time(step)?));
            ev.at_ms = end;
        } else if let Some(text) = def.strip_prefix("expect string") {
            ev.string = Some(unquote(text.trim()).ok_or(format!("line {def_line}: bad {def:?}"))?);
        } else if def.split_whitespace().next() == Some("expect") {
            ev.expects
                .push(parse_expect(def).ok_or(format!("line {def_line}: bad {def:?}"))?);
        } else if def.contains("{{") {
            ev.unsupported = Some("native histogram results (`{{…}}`)".into());
        } else if let Some(v) = parse_number(def) {
            ev.scalar = Some(v);
        } else {
            let (labels, values) =
                parse_series(def).map_err(|e| format!("line {def_line}: {e}"))?;
            if ev.range.is_none() && ev.range_vector.is_none() && values.len() > 1 {
                return Err(format!(
                    "line {def_line}: several values in an instant eval"
                ));
            }
            ev.series.push((labels, values));
        }
    }
    Ok(ev)
}

/// `expect <kind>` with an optional `msg:<text>` or `regex:<pattern>`.
fn parse_expect(def: &str) -> Option<(String, Option<Wanted>)> {
    let rest = def.strip_prefix("expect")?.trim_start();
    let (kind, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !matches!(
        kind,
        "fail" | "warn" | "no_warn" | "info" | "no_info" | "ordered"
    ) {
        return None;
    }
    let tail = tail.trim_start();
    let wanted = if let Some(m) = tail.strip_prefix("msg:") {
        Some(Wanted::Message(m.trim().to_string()))
    } else if let Some(r) = tail.strip_prefix("regex:") {
        Some(Wanted::Pattern(r.trim().to_string()))
    } else if tail.is_empty() {
        None
    } else {
        return None;
    };
    Some((kind.to_string(), wanted))
}

/// A Go string literal: `"…"` with escapes, or `` `…` `` raw.
fn unquote(text: &str) -> Option<String> {
    if let Some(raw) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        return Some(raw.to_string());
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            c @ ('"' | '\\' | '\'') => c,
            _ => return None,
        });
    }
    Some(out)
}

/// A test's time or step: Prometheus's duration units, several in a row (`1h30m`), or `0`.
pub fn parse_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

/// A bare number as an expected scalar: an integer (`0x` hex too) or a float.
fn parse_number(s: &str) -> Option<f64> {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => (-1.0, d),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    if let Some(hex) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|n| sign * n as f64);
    }
    let plain = digits
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && !digits.is_empty();
    let word = matches!(digits.to_lowercase().as_str(), "inf" | "infinity" | "nan");
    (plain || word).then(|| s.parse::<f64>().ok()).flatten()
}

/// `name{l="v", …} values…`: the label set and the expanded values.
pub fn parse_series(def: &str) -> Result<(LabelSet, Vec<SeqValue>), String> {
    let split = metric_end(def).ok_or(format!("unterminated label set in {def:?}"))?;
    let (metric, values) = def.split_at(split);
    Ok((parse_labels(metric.trim())?, parse_values(values)?))
}

/// Where the metric part of a series line ends: after its `{…}` (quotes respected), or at
/// the first space when it has none.
fn metric_end(def: &str) -> Option<usize> {
    let Some(open) = def.find(['{', ' ', '\t']) else {
        return Some(def.len());
    };
    if def.as_bytes()[open] != b'{' {
        return Some(open);
    }
    let mut in_quote: Option<char> = None;
    let mut escaped = false;
    for (k, c) in def[open..].char_indices() {
        match (in_quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => in_quote = None,
            (None, '"' | '\'' | '`') => in_quote = Some(c),
            (None, '}') => return Some(open + k + 1),
            _ => {}
        }
    }
    None
}

/// The label set of a metric written as a selector of equality matchers.
fn parse_labels(metric: &str) -> Result<LabelSet, String> {
    use promql_parser::{label::MatchOp, parser::Expr};
    // The empty set, which no selector may be.
    if metric == "{}" {
        return Ok(LabelSet::new());
    }
    let expr =
        promql_parser::parser::parse(metric).map_err(|e| format!("metric {metric:?}: {e}"))?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!("metric {metric:?} is not a selector"));
    };
    let mut labels = LabelSet::new();
    if let Some(name) = vs.name {
        labels.insert("__name__".into(), name);
    }
    for m in vs.matchers.matchers {
        if m.op != MatchOp::Equal {
            return Err(format!("metric {metric:?}: only `=` in a label set"));
        }
        labels.insert(m.name, m.value);
    }
    Ok(labels)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    Space,
    Plus,
    Minus,
    Times,
    Blank,
    Number(f64),
    Stale,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        let start = k;
        k += 1;
        match c {
            ' ' | '\t' => {
                while k < chars.len() && matches!(chars[k], ' ' | '\t') {
                    k += 1;
                }
                out.push(Token::Space);
            }
            '+' => out.push(Token::Plus),
            '-' => out.push(Token::Minus),
            'x' => out.push(Token::Times),
            '_' => out.push(Token::Blank),
            c if c.is_ascii_digit() || c == '.' => {
                // Digits, a fraction, an exponent; never hex (`0x3` is 0 repeated).
                while k < chars.len() && (chars[k].is_ascii_digit() || chars[k] == '.') {
                    k += 1;
                }
                if k < chars.len() && matches!(chars[k], 'e' | 'E') {
                    k += 1;
                    if k < chars.len() && matches!(chars[k], '+' | '-') {
                        k += 1;
                    }
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                }
                let s: String = chars[start..k].iter().collect();
                out.push(Token::Number(
                    s.parse().map_err(|_| format!("number {s:?}"))?,
                ));
            }
            c if c.is_ascii_alphabetic() => {
                while k < chars.len() && chars[k].is_ascii_alphanumeric() {
                    k += 1;
                }
                let word: String = chars[start..k].iter().collect();
                out.push(match word.to_lowercase().as_str() {
                    "stale" => Token::Stale,
                    "inf" => Token::Number(f64::INFINITY),
                    "nan" => Token::Number(f64::NAN),
                    _ => return Err(format!("unexpected {word:?} in series values")),
                });
            }
            c => return Err(format!("unexpected {c:?} in series values")),
        }
    }
    Ok(out)
}

/// Expands `a`, `a+bxn`, `a-bxn`, `axn`, `_`, `_xn` and `stale`, space-separated.
fn parse_values(text: &str) -> Result<Vec<SeqValue>, String> {
    let toks = tokens(text)?;
    let mut out = Vec::new();
    for item in toks.split(|t| *t == Token::Space).filter(|i| !i.is_empty()) {
        let bad = || format!("bad series item {item:?} in {text:?}");
        let signed = |t: &[Token]| -> Option<(f64, usize)> {
            match t {
                [Token::Number(n), ..] => Some((*n, 1)),
                [Token::Plus, Token::Number(n), ..] => Some((*n, 2)),
                [Token::Minus, Token::Number(n), ..] => Some((-n, 2)),
                [Token::Stale, ..] => Some((f64::from_bits(STALE_NAN_BITS), 1)),
                _ => None,
            }
        };
        let times = |t: &[Token]| -> Option<u64> {
            match t {
                [Token::Times, Token::Number(n)] if n.fract() == 0.0 && *n >= 0.0 => {
                    Some(*n as u64)
                }
                _ => None,
            }
        };
        if item[0] == Token::Blank {
            let n = if item.len() == 1 {
                1
            } else {
                times(&item[1..]).ok_or_else(bad)?
            };
            out.extend((0..n).map(|_| None));
            continue;
        }
        let (first, used) = signed(item).ok_or_else(bad)?;
        let rest = &item[used..];
        if rest.is_empty() {
            out.push(Some(first));
        } else if let Some(n) = times(rest) {
            out.extend((0..=n).map(|_| Some(first)));
        } else {
            // `a+b xn`: b must carry its sign.
            if !matches!(rest.first(), Some(Token::Plus | Token::Minus)) {
                return Err(bad());
            }
            let (delta, used) = signed(rest).ok_or_else(bad)?;
            let n = times(&rest[used..]).ok_or_else(bad)?;
            let mut v = first;
            for _ in 0..=n {
                out.push(Some(v));
                v += delta;
            }
        }
    }
    Ok(out)
}

#[test]
fn series_notation_expands() {
    let (labels, values) =
        parse_series(r#"m{a="x y}", b="2"} 1+2x2 _x2 -1 stale 3x1 _ 1-1x1"#).expect("parses");
    assert_eq!(labels["__name__"], "m");
    assert_eq!(labels["a"], "x y}");
    let shown: Vec<String> = values
        .iter()
        .map(|v| match v {
            None => "_".into(),
            Some(x) if x.to_bits() == STALE_NAN_BITS => "stale".into(),
            Some(x) => x.to_string(),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "1", "3", "5", "_", "_", "-1", "stale", "3", "3", "_", "1", "0"
        ]
    );
    assert_eq!(parse_duration("1h30m"), Some(5_400_000));
    assert_eq!(parse_number("0x10"), Some(16.0));
    assert_eq!(parse_number("{} 1"), None);
}
