//! Property tests: printing any expression and parsing the text gives the same expression back,
//! and no input makes the parser panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alarm_expr::{Expr, Function, Operator, OperatorStyle, SubExpr, parse};
use proptest::prelude::*;

const ASCII_NAME_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_#!$%&'*+/:;?@[\\]^`|~";

/// One character that may appear in a metric name.
fn name_char() -> impl Strategy<Value = char> {
    let ascii: Vec<char> = ASCII_NAME_CHARS.chars().collect();
    prop_oneof![
        8 => prop::sample::select(ascii),
        1 => prop::char::range('\u{80}', '\u{FFFF}').prop_filter("not white space", |c| !c.is_whitespace()),
        1 => prop::sample::select(vec!['千', 'é', 'д', 'ı', 'ſ', '\u{FFFF}', '\u{80}']),
    ]
}

fn metric_name() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => prop::collection::vec(name_char(), 1..24),
        1 => prop::collection::vec(name_char(), 200..=255),
        // Names that read like keywords.
        2 => prop::sample::select(vec!["lt", "gt", "and", "or", "max", "times", "deterministic", "a||b", "x&&y"])
            .prop_map(|s| s.chars().collect()),
    ]
    .prop_map(|chars| chars.into_iter().collect())
}

/// A dimension name or value: name characters and inner or trailing spaces, never a leading one.
fn dimension_part() -> impl Strategy<Value = String> {
    (
        name_char(),
        prop::collection::vec(prop_oneof![6 => name_char(), 1 => Just(' ')], 0..16),
    )
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

fn threshold() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i32..1000).prop_map(f64::from),
        (-100_000i64..100_000).prop_map(|n| n as f64 / 100.0),
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        Just(1e16),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        // An exact tie between two shortest forms (Python prints ...215.2).
        Just(1_042_505_960_489_215.0 + 0.25),
    ]
}

fn sub_expr() -> impl Strategy<Value = SubExpr> {
    let function = prop::sample::select(Function::ALL.to_vec());
    let operator = prop::sample::select(vec![
        Operator::Lt,
        Operator::Lte,
        Operator::Gt,
        Operator::Gte,
    ]);
    let style = prop::sample::select(vec![OperatorStyle::Symbol, OperatorStyle::Word]);
    let period = prop_oneof![
        4 => Just(60u32),
        4 => (1u32..=60).prop_map(|k| k * 60),
        1 => (1u32..=35_791_394).prop_map(|k| k * 60),
    ];
    let periods = prop_oneof![4 => Just(1u32), 4 => 1u32..=10, 1 => 1u32..=2_147_483_647];
    (
        function,
        metric_name(),
        prop::collection::vec((dimension_part(), dimension_part()), 0..4),
        any::<bool>(),
        operator,
        style,
        threshold(),
        period,
        periods,
    )
        .prop_map(
            |(
                function,
                metric_name,
                dimensions,
                deterministic,
                operator,
                operator_style,
                threshold,
                period,
                periods,
            )| {
                SubExpr {
                    function,
                    metric_name,
                    dimensions,
                    deterministic,
                    operator,
                    operator_style,
                    threshold,
                    period,
                    periods,
                }
            },
        )
}

/// Any tree the parser can produce: `And`/`Or` with two or more operands.
fn expr() -> impl Strategy<Value = Expr> {
    sub_expr()
        .prop_map(Expr::Sub)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
            ]
        })
}

/// Optional blanks between tokens.
fn blanks() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", "  ", "\t", "\n ", " \r\n"])
}

/// At least one blank (between a name and a word that would otherwise join it).
fn some_blanks() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "  ", "\t", "\n"])
}

/// A keyword in a random case (and, for `i` and `s`, sometimes `ı` and `ſ`, which Python
/// upper-cases to `I` and `S`).
fn spelled(word: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..4, word.len()).prop_map(move |picks| {
        word.chars()
            .zip(picks)
            .map(|(c, pick)| match (c, pick) {
                ('i', 3) => 'ı',
                ('s', 3) => 'ſ',
                (c, 0 | 3) => c.to_ascii_uppercase(),
                (c, _) => c,
            })
            .collect()
    })
}

fn threshold_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "", "-", "- "]),
        "[0-9]{1,20}",
        prop::option::of((blanks(), blanks(), "[0-9]{1,12}")),
    )
        .prop_map(|(sign, int, frac)| match frac {
            Some((b1, b2, digits)) => format!("{sign}{int}{b1}.{b2}{digits}"),
            None => format!("{sign}{int}"),
        })
}

fn dimensions_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            blanks(),
            dimension_part(),
            blanks(),
            blanks(),
            dimension_part(),
            blanks(),
        ),
        0..3,
    )
    .prop_map(|dims| {
        let items: Vec<String> = dims
            .into_iter()
            .map(|(b1, name, b2, b3, value, b4)| format!("{b1}{name}{b2}={b3}{value}{b4}"))
            .collect();
        format!("{{{}}}", items.join(","))
    })
}

/// A sub-expression as a person might write it: any case, blanks anywhere, optional parts.
fn sub_expr_text() -> impl Strategy<Value = String> {
    let function = prop::sample::select(vec!["avg", "min", "max", "sum", "count", "last"])
        .prop_flat_map(spelled);
    let operator = prop_oneof![
        prop::sample::select(vec!["<", "<=", ">", ">="]).prop_map(str::to_owned),
        prop::sample::select(vec!["lt", "lte", "gt", "gte"]).prop_flat_map(spelled),
    ];
    let head = prop_oneof![
        // function(metric{dims}, deterministic, period)
        (
            function,
            blanks(),
            blanks(),
            metric_name(),
            prop::option::of((blanks(), dimensions_text())),
            prop::option::of((blanks(), blanks(), spelled("deterministic"))),
            prop::option::of((
                blanks(),
                blanks(),
                prop::sample::select(vec!["60", "120", "0300", "3600"])
            )),
            blanks(),
        )
            .prop_map(|(f, b1, b2, name, dims, det, period, b3)| {
                let mut out = format!("{f}{b1}({b2}{name}");
                if let Some((b, d)) = dims {
                    out.push_str(b);
                    out.push_str(&d);
                }
                if let Some((b, c, d)) = det {
                    out.push_str(&format!("{b},{c}{d}"));
                }
                if let Some((b, c, p)) = period {
                    out.push_str(&format!("{b},{c}{p}"));
                }
                out.push_str(b3);
                out.push(')');
                out
            }),
        // a bare metric, always followed by a blank so that a word operator stays separate
        (
            metric_name(),
            prop::option::of((blanks(), dimensions_text())),
            some_blanks()
        )
            .prop_map(|(name, dims, b)| match dims {
                Some((b1, d)) => format!("{name}{b1}{d}{b}"),
                None => format!("{name}{b}"),
            }),
    ];
    (
        head,
        blanks(),
        operator,
        blanks(),
        threshold_text(),
        prop::option::of((
            blanks(),
            spelled("times"),
            blanks(),
            "0{0,2}[1-9][0-9]{0,2}",
        )),
    )
        .prop_map(|(head, b1, op, b2, threshold, times)| {
            let mut out = format!("{head}{b1}{op}{b2}{threshold}");
            if let Some((b, t, c, n)) = times {
                out.push_str(&format!("{b}{t}{c}{n}"));
            }
            out
        })
}

/// A whole expression as a person might write it.
fn expression_text() -> impl Strategy<Value = String> {
    sub_expr_text().prop_recursive(3, 12, 3, |inner| {
        let joiner = prop_oneof![
            spelled("and").prop_map(|s| format!(" {s} ")),
            spelled("or").prop_map(|s| format!(" {s} ")),
            prop::sample::select(vec!["&&", "||", " && ", "\n||\n"]).prop_map(str::to_owned),
        ];
        prop_oneof![
            (inner.clone(), joiner, inner.clone()).prop_map(|(a, j, b)| format!("{a}{j}{b}")),
            (blanks(), inner, blanks()).prop_map(|(b1, e, b2)| format!("({b1}{e}{b2})")),
        ]
    })
}

/// A small edit: delete, insert or replace one character.
fn mutate(text: &str, at: usize, op: u8, c: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    match op % 3 {
        0 if at < chars.len() => {
            chars.remove(at);
        }
        1 if at < chars.len() => chars[at] = c,
        _ => chars.insert(at, c),
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_gives_the_same_expression(e in expr()) {
        let text = e.to_string();
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{:?} did not parse: {:?}", text, parsed);
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &e, "text {:?}", text);
        prop_assert_eq!(parsed.to_string(), text);
        let before: Vec<String> = e.sub_expressions().iter().map(|s| s.fmtd_sub_expr_str()).collect();
        let after: Vec<String> = parsed.sub_expressions().iter().map(|s| s.fmtd_sub_expr_str()).collect();
        prop_assert_eq!(before, after);
    }

    #[test]
    fn sub_expression_display_round_trips(s in sub_expr()) {
        let text = s.to_string();
        prop_assert_eq!(parse(&text).unwrap(), Expr::Sub(s), "text {:?}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_text(&text)?;
    }

    #[test]
    fn hand_written_texts_parse_and_normalize(text in expression_text()) {
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{:?} did not parse: {}", text, parsed.unwrap_err());
        check_text(&text)?;
    }

    #[test]
    fn edited_texts_never_panic(
        text in expression_text(),
        at in any::<usize>(),
        op in any::<u8>(),
        c in prop::sample::select(vec!['(', ')', '{', '}', ',', '=', '<', '>', ' ', '-', '.', '0', '6', 'a', 't', '|', '&', '\t', '"', '😀']),
    ) {
        check_text(&mutate(&text, at, op, c))?;
    }
}

fn check_text(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(e) => {
            let printed = e.to_string();
            prop_assert_eq!(
                parse(&printed).ok(),
                Some(e),
                "{:?} printed as {:?}",
                text,
                printed
            );
        }
        Err(err) => {
            prop_assert!(err.position <= text.chars().count(), "{:?}: {}", text, err);
            let rendered = err.render(text);
            prop_assert!(rendered.ends_with('^'));
        }
    }
    Ok(())
}
