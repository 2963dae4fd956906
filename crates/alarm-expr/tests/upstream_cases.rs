//! Expressions monasca-api accepts and refuses, with what it makes of them.
//!
//! The expected `fmtd_sub_expr_str` texts are what upstream's
//! `monasca_api/expression_parser/alarm_expr_parser.py` prints for the same input (its own test
//! `monasca_api/tests/test_alarm_expression.py`, the examples in its `main()` and in
//! `docs/monasca-api-spec.md`, and edge cases checked against it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alarm_expr::{ErrorKind, Expr, Function, Operator, OperatorStyle, ParseError, SubExpr, parse};

fn subs(text: &str) -> Vec<SubExpr> {
    match parse(text) {
        Ok(expr) => expr.sub_expressions().into_iter().cloned().collect(),
        Err(err) => panic!("{text:?} should parse: {err}\n{}", err.render(text)),
    }
}

fn fmtd(text: &str) -> Vec<String> {
    subs(text).iter().map(SubExpr::fmtd_sub_expr_str).collect()
}

fn refused(text: &str) -> ParseError {
    match parse(text) {
        Ok(expr) => panic!("{text:?} should be refused, parsed as {expr:?}"),
        Err(err) => err,
    }
}

/// (input, upstream's `fmtd_sub_expr_str` of each sub-expression)
const ACCEPTED: &[(&str, &[&str])] = &[
    // upstream's test_alarm_expression.py
    (
        "max(cpu.idle_perc{hostname=fred}, 60) <= 3 times 4 OR avg(CPU.PERCENT)<5 OR min(cpu.percent, deterministic) gte 3",
        &[
            "MAX(cpu.idle_perc{hostname=fred}) <= 3.0 times 4",
            "AVG(CPU.PERCENT{}) < 5.0",
            "MIN(cpu.percent{}) gte 3.0",
        ],
    ),
    // the API spec's examples
    (
        "cpu.system_perc{hostname=host.domain.com} > 95",
        &["MAX(cpu.system_perc{hostname=host.domain.com}) > 95.0"],
    ),
    (
        "avg(cpu.system_perc{hostname=host.domain.com}, 120) > 95 times 3",
        &["AVG(cpu.system_perc{hostname=host.domain.com}, 120) > 95.0 times 3"],
    ),
    (
        "avg(cpu.system_perc{hostname=hostname.domain.com}) > 90 or avg(disk_read_ops{hostname=hostname.domain.com, device=vda}, 120) > 1000",
        &[
            "AVG(cpu.system_perc{hostname=hostname.domain.com}) > 90.0",
            "AVG(disk_read_ops{hostname=hostname.domain.com,device=vda}, 120) > 1000.0",
        ],
    ),
    (
        "count(log.error{}, deterministic) > 1 or count(log.warning{}, deterministic) > 1 and avg(cpu.user_perc{}) > 10",
        &[
            "COUNT(log.error{}) > 1.0",
            "COUNT(log.warning{}) > 1.0",
            "AVG(cpu.user_perc{}) > 10.0",
        ],
    ),
    (
        "count(log.error{hostname=compute_node_1,component=kafka},deterministic) >= 1",
        &["COUNT(log.error{hostname=compute_node_1,component=kafka}) >= 1.0"],
    ),
    // upstream's test_sub_alarm_definition.py
    (
        "avg(darth.vader{over=9000}, deterministic, 60) GT 10.0 times 1",
        &["AVG(darth.vader{over=9000}) gt 10.0"],
    ),
    // the examples in alarm_expr_parser.main()
    (
        "max  (  3test_metric5  {  this  =  that  })  lt  5 times    3",
        &["MAX(3test_metric5{this  =that  }) lt 5.0 times 3"],
    ),
    ("3test_metric5 lt 3", &["MIN(3test_metric5{}) lt 3.0"]),
    (
        "ntp.offset > 1 or ntp.offset < -5",
        &["MAX(ntp.offset{}) > 1.0", "MIN(ntp.offset{}) < -5.0"],
    ),
    (
        "max(3test_metric5{it's this=that's it}) lt 5 times 3",
        &["MAX(3test_metric5{it's this=that's it}) lt 5.0 times 3"],
    ),
    (
        "count(log.error{test=1}, deterministic, 120) > 1.0",
        &["COUNT(log.error{test=1}, 120) > 1.0"],
    ),
    (
        "last(test_metric{hold=here}) < 13",
        &["LAST(test_metric{hold=here}) < 13.0"],
    ),
    (
        "test_metric{this=that, that =  this} < 1",
        &["MIN(test_metric{this=that,that =this}) < 1.0"],
    ),
    (
        "max(foo{hostname=mini-mon,千=千}, 120) > 100 and (max(bar)>100  or max(biz)>100)",
        &[
            "MAX(foo{hostname=mini-mon,千=千}, 120) > 100.0",
            "MAX(bar{}) > 100.0",
            "MAX(biz{}) > 100.0",
        ],
    ),
    (
        "max(-_.千幸福的笑脸{घोड़ा=馬,  dn2=dv2,千幸福的笑脸घ=千幸福的笑脸घ}) gte 100 times 3 && (min(ເຮືອນ{dn3=dv3,家=дом}) < 10 or sum(biz{dn5=dv5}) >99 and count(fizzle) lt 0or count(baz) > 1)",
        &[
            "MAX(-_.千幸福的笑脸{घोड़ा=馬,dn2=dv2,千幸福的笑脸घ=千幸福的笑脸घ}) gte 100.0 times 3",
            "MIN(ເຮືອນ{dn3=dv3,家=дом}) < 10.0",
            "SUM(biz{dn5=dv5}) > 99.0",
            "COUNT(fizzle{}) lt 0.0",
            "COUNT(baz{}) > 1.0",
        ],
    ),
    // keywords: any case, word and symbol forms, no word boundary needed
    (
        "MAX(a) GtE 1 && b LTE 2 || c >= 3",
        &["MAX(a{}) gte 1.0", "MIN(b{}) lte 2.0", "MAX(c{}) >= 3.0"],
    ),
    ("a >1 andb > 2", &["MAX(a{}) > 1.0", "MAX(b{}) > 2.0"]),
    (
        "a > 1 times 2and b < 1",
        &["MAX(a{}) > 1.0 times 2", "MIN(b{}) < 1.0"],
    ),
    ("a GT 1 TIMES 2", &["MAX(a{}) gt 1.0 times 2"]),
    ("a > 1 times2", &["MAX(a{}) > 1.0 times 2"]),
    // Python's str.upper(): dotless i and long s
    ("ſum(a) > 1", &["SUM(a{}) > 1.0"]),
    ("mın(a) > 1 tımes 2", &["MIN(a{}) > 1.0 times 2"]),
    ("max(a, determiniſtic) > 1", &["MAX(a{}) > 1.0"]),
    // names are greedy: what looks like a keyword can be a name
    ("a||b > 1", &["MAX(a||b{}) > 1.0"]),
    ("a&&b > 1", &["MAX(a&&b{}) > 1.0"]),
    ("lt lt 1", &["MIN(lt{}) lt 1.0"]),
    ("max > 1", &["MAX(max{}) > 1.0"]),
    ("max[a] > 1", &["MAX(max[a]{}) > 1.0"]),
    ("and > 1", &["MAX(and{}) > 1.0"]),
    ("it's > 1", &["MAX(it's{}) > 1.0"]),
    ("a > 1 order > 2", &["MAX(a{}) > 1.0", "MAX(der{}) > 2.0"]),
    (
        "a.b-c_d#e!f$g%h&i'j*k+l/m:n;o?p@q[r\\s]t^u`v|w~x > 1",
        &["MAX(a.b-c_d#e!f$g%h&i'j*k+l/m:n;o?p@q[r\\s]t^u`v|w~x{}) > 1.0"],
    ),
    ("cpu{ключ=значение} > 1", &["MAX(cpu{ключ=значение}) > 1.0"]),
    // blanks: between any tokens, kept inside dimensions, tabs expanded to the next stop
    ("a > - 5 . 5", &["MAX(a{}) > -5.5"]),
    ("max (a) > 1", &["MAX(a{}) > 1.0"]),
    ("a {b=c} > 1", &["MAX(a{b=c}) > 1.0"]),
    ("max(a {b=c}) > 1", &["MAX(a{b=c}) > 1.0"]),
    ("a{ a = b } > 1", &["MAX(a{a =b }) > 1.0"]),
    ("a{a=b\tc} > 1", &["MAX(a{a=b   c}) > 1.0"]),
    ("a{a\t=b\t} > 1", &["MAX(a{a     =b      }) > 1.0"]),
    ("\n a >\r\n1 \n", &["MAX(a{}) > 1.0"]),
    // thresholds as Python prints floats
    ("a > 100000000000000000", &["MAX(a{}) > 1e+17"]),
    ("a > 1000000000000000", &["MAX(a{}) > 1000000000000000.0"]),
    ("a > 0.00001", &["MAX(a{}) > 1e-05"]),
    ("a > 0.0001", &["MAX(a{}) > 0.0001"]),
    ("a > -0", &["MAX(a{}) > -0.0"]),
    ("a > 007", &["MAX(a{}) > 7.0"]),
    ("a > 1.50", &["MAX(a{}) > 1.5"]),
    (
        "a > 1042505960489215.25",
        &["MAX(a{}) > 1042505960489215.2"],
    ),
    // period and periods as integers
    ("max(a, 0120)>1", &["MAX(a{}, 120) > 1.0"]),
    ("sum(a) > 1 times 007", &["SUM(a{}) > 1.0 times 7"]),
    ("max(a, 60) > 1 times 1", &["MAX(a{}) > 1.0"]),
    // dimensions: empty braces, duplicates kept
    ("a{} > 1", &["MAX(a{}) > 1.0"]),
    ("a{x=1,x=2} > 1", &["MAX(a{x=1,x=2}) > 1.0"]),
    // parentheses
    ("((a > 1))", &["MAX(a{}) > 1.0"]),
    (
        "(a>1 and b>1) and c>1",
        &["MAX(a{}) > 1.0", "MAX(b{}) > 1.0", "MAX(c{}) > 1.0"],
    ),
    (
        "a>1 and (b>2 or c>3)",
        &["MAX(a{}) > 1.0", "MAX(b{}) > 2.0", "MAX(c{}) > 3.0"],
    ),
];

#[test]
fn accepted_expressions_print_as_upstream() {
    for (text, want) in ACCEPTED {
        assert_eq!(fmtd(text), *want, "input {text:?}");
    }
}

#[test]
fn accepted_expressions_round_trip_through_display() {
    for (text, _) in ACCEPTED {
        let expr = parse(text).unwrap();
        let printed = expr.to_string();
        let again = parse(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
        assert_eq!(again, expr, "input {text:?}, printed {printed:?}");
        assert_eq!(again.to_string(), printed);
    }
}

#[test]
fn upstream_test_alarm_expression_fields() {
    let s = subs(
        "max(cpu.idle_perc{hostname=fred}, 60) <= 3 times 4 OR \
         avg(CPU.PERCENT)<5 OR min(cpu.percent, deterministic) gte 3",
    );
    assert_eq!(s.len(), 3);
    let dims: Vec<String> = s.iter().map(SubExpr::dimensions_str).collect();
    assert_eq!(dims, ["hostname=fred", "", ""]);
    let funcs: Vec<Function> = s.iter().map(|x| x.function).collect();
    assert_eq!(funcs, [Function::Max, Function::Avg, Function::Min]);
    let names: Vec<&str> = s.iter().map(|x| x.metric_name.as_str()).collect();
    assert_eq!(names, ["cpu.idle_perc", "CPU.PERCENT", "cpu.percent"]);
    let ops: Vec<&str> = s
        .iter()
        .map(|x| x.operator.spelled(x.operator_style))
        .collect();
    assert_eq!(ops, ["<=", "<", "gte"]);
    let normalized: Vec<&str> = s.iter().map(|x| x.operator.normalized()).collect();
    assert_eq!(normalized, ["LTE", "LT", "GTE"]);
    let thresholds: Vec<f64> = s.iter().map(|x| x.threshold).collect();
    assert_eq!(thresholds, [3.0, 5.0, 3.0]);
    let periods: Vec<(u32, u32)> = s.iter().map(|x| (x.period, x.periods)).collect();
    assert_eq!(periods, [(60, 4), (60, 1), (60, 1)]);
    let deterministic: Vec<bool> = s.iter().map(|x| x.deterministic).collect();
    assert_eq!(deterministic, [false, false, true]);
}

#[test]
fn sub_alarm_definition_expression_matches_upstream() {
    // upstream's test_sub_alarm_definition.test_build_expression_all_parameters
    let text = "avg(darth.vader{over=9000}, deterministic, 60) GT 10.0 times 1";
    assert_eq!(subs(text)[0].sub_alarm_definition_expression(), text);
    let s = &subs("max(cpu{a=b}) <= 3")[0];
    assert_eq!(
        s.sub_alarm_definition_expression(),
        "max(cpu{a=b}, 60) LTE 3.0 times 1"
    );
    let s = &subs("count(x) > 1")[0];
    assert_eq!(
        s.sub_alarm_definition_expression(),
        "count(x, 60) GT 1.0 times 1"
    );
}

#[test]
fn bare_metric_gets_max_or_min() {
    for (text, function) in [
        ("a > 1", Function::Max),
        ("a >= 1", Function::Max),
        ("a gt 1", Function::Max),
        ("a gte 1", Function::Max),
        ("a < 1", Function::Min),
        ("a <= 1", Function::Min),
        ("a lt 1", Function::Min),
        ("a lte 1", Function::Min),
    ] {
        assert_eq!(subs(text)[0].function, function, "{text}");
    }
}

#[test]
fn operators_keep_their_spelling() {
    let cases = [
        ("<", Operator::Lt, OperatorStyle::Symbol),
        ("lt", Operator::Lt, OperatorStyle::Word),
        ("LT", Operator::Lt, OperatorStyle::Word),
        ("<=", Operator::Lte, OperatorStyle::Symbol),
        ("lTe", Operator::Lte, OperatorStyle::Word),
        (">", Operator::Gt, OperatorStyle::Symbol),
        ("Gt", Operator::Gt, OperatorStyle::Word),
        (">=", Operator::Gte, OperatorStyle::Symbol),
        ("GTE", Operator::Gte, OperatorStyle::Word),
    ];
    for (op, operator, style) in cases {
        let s = &subs(&format!("avg(x) {op} 1"))[0];
        assert_eq!((s.operator, s.operator_style), (operator, style), "{op}");
        assert_eq!(
            s.fmtd_sub_expr_str(),
            format!("AVG(x{{}}) {} 1.0", op.to_lowercase())
        );
    }
}

#[test]
fn tree_shape_and_precedence() {
    let expr = parse("a > 1 or b > 2 and c > 3 or d > 4").unwrap();
    let Expr::Or(operands) = &expr else {
        panic!("{expr:?}")
    };
    assert_eq!(operands.len(), 3);
    assert!(matches!(&operands[1], Expr::And(inner) if inner.len() == 2));
    assert_eq!(
        expr.to_string(),
        "MAX(a{}) > 1.0 or MAX(b{}) > 2.0 and MAX(c{}) > 3.0 or MAX(d{}) > 4.0"
    );

    // A parenthesised group stays a node of its own, and prints with its parentheses.
    let expr = parse("(a > 1 and b > 2) and c > 3").unwrap();
    assert_eq!(
        expr.to_string(),
        "(MAX(a{}) > 1.0 and MAX(b{}) > 2.0) and MAX(c{}) > 3.0"
    );
    let expr = parse("(a > 1 or b > 2) and c > 3").unwrap();
    assert_eq!(
        expr.to_string(),
        "(MAX(a{}) > 1.0 or MAX(b{}) > 2.0) and MAX(c{}) > 3.0"
    );
    // Redundant parentheses around one sub-expression vanish.
    let expr = parse("((a > 1)) or (b > 2)").unwrap();
    assert_eq!(expr.to_string(), "MAX(a{}) > 1.0 or MAX(b{}) > 2.0");

    let expr = parse("(a > 1 or (b > 2 and c > 3)) and d > 4").unwrap();
    let names: Vec<&str> = expr
        .sub_expressions()
        .iter()
        .map(|s| s.metric_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
}

#[test]
fn evaluate_and_determinism() {
    let expr = parse("a > 1 or b > 2 and c > 3").unwrap();
    let only =
        |names: &'static [&'static str]| move |s: &SubExpr| names.contains(&s.metric_name.as_str());
    assert!(expr.evaluate(&mut only(&["a"])));
    assert!(!expr.evaluate(&mut only(&["b"])));
    assert!(expr.evaluate(&mut only(&["b", "c"])));
    assert!(
        !parse("count(a, deterministic) > 1 or b > 1")
            .unwrap()
            .is_deterministic()
    );
    assert!(
        parse("count(a, deterministic) > 1 or count(b, deterministic) > 1")
            .unwrap()
            .is_deterministic()
    );
}

#[test]
fn deterministic_is_printed_by_display_only() {
    let s = &subs("count(log.error{component=mysql}, deterministic, 120) >= 1 times 2")[0];
    assert_eq!(
        s.fmtd_sub_expr_str(),
        "COUNT(log.error{component=mysql}, 120) >= 1.0 times 2"
    );
    assert_eq!(
        s.to_string(),
        "COUNT(log.error{component=mysql}, deterministic, 120) >= 1.0 times 2"
    );
}

#[test]
fn display_spells_out_thresholds_python_would_print_with_an_exponent() {
    let s = &subs("a > 100000000000000000")[0];
    assert_eq!(s.fmtd_sub_expr_str(), "MAX(a{}) > 1e+17");
    assert_eq!(s.to_string(), "MAX(a{}) > 100000000000000000.0");
    let s = &subs("a > -0.0000123")[0];
    assert_eq!(s.fmtd_sub_expr_str(), "MAX(a{}) > -1.23e-05");
    assert_eq!(s.to_string(), "MAX(a{}) > -0.0000123");
}

#[test]
fn name_lengths() {
    let n255 = "a".repeat(255);
    let n256 = "a".repeat(256);
    assert_eq!(subs(&format!("{n255} > 1"))[0].metric_name, n255);
    assert_eq!(subs(&format!("max({n255}) > 1"))[0].metric_name, n255);
    // pyparsing takes 255 characters and goes on, so an operator word may follow directly.
    let s = &subs(&format!("{n255}gt 5"))[0];
    assert_eq!((s.metric_name.len(), s.operator), (255, Operator::Gt));

    let err = refused(&format!("{n256} > 1"));
    assert_eq!((err.kind, err.position), (ErrorKind::TooLong, 0));
    let err = refused(&format!("max({n256}) > 1"));
    assert_eq!((err.kind, err.position), (ErrorKind::TooLong, 4));

    let b255 = "b".repeat(255);
    assert_eq!(subs(&format!("a{{{b255}=c}} > 1"))[0].dimensions[0].0, b255);
    assert_eq!(subs(&format!("a{{c={b255}}} > 1"))[0].dimensions[0].1, b255);
    // Trailing blanks count.
    let err = refused(&format!("a{{c={b255} }} > 1"));
    assert_eq!((err.kind, err.position), (ErrorKind::TooLong, 4));
    let err = refused(&format!("a{{{b255}  =c}} > 1"));
    assert_eq!((err.kind, err.position), (ErrorKind::TooLong, 2));
    let mixed = format!("{} ", "b".repeat(254));
    assert_eq!(
        subs(&format!("a{{{mixed}=c}} > 1"))[0].dimensions[0].0,
        mixed
    );
}

/// (input, kind, position)
const REFUSED: &[(&str, ErrorKind, usize)] = &[
    ("", ErrorKind::Syntax, 0),
    ("   ", ErrorKind::Syntax, 3),
    // upstream's _ensure_parse_fails cases
    (
        "max(cpu.idle_perc{hostname=fred}, 60) times 4",
        ErrorKind::Syntax,
        38,
    ),
    ("max(cpu.idle_perc{=fred}) <= 3", ErrorKind::Syntax, 18),
    ("max({hostname=fred}) <= 3", ErrorKind::Syntax, 4),
    (
        "max(cpu.idle_perc, 42) <= 3",
        ErrorKind::PeriodNotMultipleOf60,
        19,
    ),
    ("max(cpu.idle_perc, 0) <= 3", ErrorKind::PeriodZero, 19),
    ("max(cpu.idle_perc, 000) <= 3", ErrorKind::PeriodZero, 19),
    ("max(cpu.idle_perc, -60) <= 3", ErrorKind::Syntax, 19),
    (
        "max(cpu.idle_perc) <= 3 times 0",
        ErrorKind::PeriodsLessThanOne,
        30,
    ),
    ("a > 1 times -1", ErrorKind::Syntax, 12),
    // grammar
    ("a > 1 and", ErrorKind::Syntax, 9),
    ("a > 1 or ", ErrorKind::Syntax, 9),
    ("and a > 1", ErrorKind::Syntax, 4),
    ("(a > 1", ErrorKind::Syntax, 6),
    ("a > 1)", ErrorKind::Syntax, 5),
    ("()", ErrorKind::Syntax, 1),
    ("a > 1 b > 2", ErrorKind::Syntax, 6),
    ("a = 1", ErrorKind::Syntax, 2),
    ("a => 1", ErrorKind::Syntax, 2),
    ("a == 1", ErrorKind::Syntax, 2),
    ("a < = 1", ErrorKind::Syntax, 4),
    ("a <> 1", ErrorKind::Syntax, 3),
    ("a > +1", ErrorKind::Syntax, 4),
    ("a > 1e5", ErrorKind::Syntax, 5),
    ("a > 5.", ErrorKind::Syntax, 6),
    ("a > .5", ErrorKind::Syntax, 4),
    ("a > 1.5.5", ErrorKind::Syntax, 7),
    ("a > -", ErrorKind::Syntax, 5),
    ("a > x", ErrorKind::Syntax, 4),
    ("a > 1 times 2 times 3", ErrorKind::Syntax, 14),
    ("a > 1 timesheet > 2", ErrorKind::Syntax, 11),
    ("a{a=b,} > 1", ErrorKind::Syntax, 6),
    ("a{,} > 1", ErrorKind::Syntax, 2),
    ("a{a=b=c} > 1", ErrorKind::Syntax, 5),
    ("a{=b} > 1", ErrorKind::Syntax, 2),
    ("a{a=} > 1", ErrorKind::Syntax, 4),
    ("a{a} > 1", ErrorKind::Syntax, 3),
    ("a{a=b > 1", ErrorKind::Syntax, 6),
    ("a{b=c}{d=e} > 1", ErrorKind::Syntax, 6),
    ("max(a,120,deterministic)>1", ErrorKind::Syntax, 9),
    (
        "max(a,deterministic,deterministic)>1",
        ErrorKind::Syntax,
        20,
    ),
    ("max(a, deterministicx) > 1", ErrorKind::Syntax, 20),
    ("max(a, determ) > 1", ErrorKind::Syntax, 7),
    ("max(a, 60, 120) > 1", ErrorKind::Syntax, 9),
    ("max(a b) > 1", ErrorKind::Syntax, 6),
    ("maxfoo(x) > 1", ErrorKind::Syntax, 6),
    ("max(a) 1", ErrorKind::Syntax, 7),
    ("max(a > 1", ErrorKind::Syntax, 6),
    ("avg(a) > 1 deterministic", ErrorKind::Syntax, 11),
    ("median(a) > 1", ErrorKind::Syntax, 6),
    // characters outside the name class
    ("a\"b > 1", ErrorKind::Syntax, 1),
    ("a😀 > 1", ErrorKind::Syntax, 1),
    ("a\u{a0}> 1", ErrorKind::Syntax, 1),
    ("a\u{85}b > 1", ErrorKind::Syntax, 1),
    ("a\u{b}> 1", ErrorKind::Syntax, 1),
    ("a\u{c}> 1", ErrorKind::Syntax, 1),
    ("a{x=\"y\"} > 1", ErrorKind::Syntax, 4),
    // limits of this crate, beyond upstream's parser
    ("max(a, 2147483700) > 1", ErrorKind::NumberOutOfRange, 7),
    ("a > 1 times 2147483648", ErrorKind::NumberOutOfRange, 12),
];

#[test]
fn refused_expressions() {
    for (text, kind, position) in REFUSED {
        let err = refused(text);
        assert_eq!(
            (err.kind, err.position),
            (*kind, *position),
            "input {text:?}: {err}\n{}",
            err.render(text)
        );
    }
}

#[test]
fn limits_at_the_edge() {
    assert_eq!(subs("max(a, 2147483640) > 1")[0].period, 2_147_483_640);
    assert_eq!(subs("a > 1 times 2147483647")[0].periods, 2_147_483_647);
    let huge = "9".repeat(400);
    let err = refused(&format!("a > {huge}"));
    assert_eq!((err.kind, err.position), (ErrorKind::NumberOutOfRange, 4));
    // An error upstream would report comes before this crate's own limits.
    let err = refused(&format!("a > {huge} times 0"));
    assert_eq!(err.kind, ErrorKind::PeriodsLessThanOne);
    // upstream's messages carry the number as Python's int() reads it, however long.
    let long = format!("max(a, 0{}9) > 1", "1".repeat(40));
    let err = refused(&long);
    assert_eq!(
        err.upstream_message(),
        Some(format!("Period {}9 must be a multiple of 60", "1".repeat(40)).as_str())
    );
    let err = refused("a > 1 times 0000");
    assert_eq!(
        err.upstream_message(),
        Some("Periods 0 must be 1 or greater")
    );
    let nested = format!("{}a > 1{}", "(".repeat(200), ")".repeat(200));
    assert!(parse(&nested).is_ok());
    let nested = format!("{}a > 1{}", "(".repeat(201), ")".repeat(201));
    assert_eq!(refused(&nested).kind, ErrorKind::NestingTooDeep);
}

#[test]
fn error_messages() {
    let cases = [
        (
            "max(cpu, 90) > 10",
            "expected a period that is a multiple of 60 at position 9, found '90'",
            Some("Period 90 must be a multiple of 60"),
        ),
        (
            "max(cpu, 0) > 10",
            "expected a period greater than 0 at position 9, found '0'",
            Some("Period must not be 0"),
        ),
        (
            "max(cpu) > 10 times 00",
            "expected a number of periods of 1 or greater at position 20, found '00'",
            Some("Periods 0 must be 1 or greater"),
        ),
        (
            "avg(cpu) > 10 and",
            "expected a sub-expression (avg, min, max, sum, count or last with '(', a metric name, or '(') at position 17, found end of input",
            None,
        ),
        (
            "avg(cpu{host=a) > 10",
            "expected ',' or '}' at position 14, found ')'",
            None,
        ),
        (
            "avg(cpu) >> 10",
            "expected a threshold (a number such as 10, -5 or 2.5) at position 10, found '>'",
            None,
        ),
        (
            "(avg(cpu) > 10 times 2",
            "expected 'and', 'or' or ')' at position 22, found end of input",
            None,
        ),
        (
            "avg(cpu) > 10 xor b > 1",
            "expected 'times', 'and', 'or' or end of input at position 14, found 'xor'",
            None,
        ),
        (
            "cpu = 10",
            "expected '{' or a relational operator (<, <=, >, >=, lt, lte, gt, gte) at position 4, found '='",
            None,
        ),
        (
            "avg(cpu, deterministic 60) > 1",
            "expected ',' or ')' at position 23, found '60'",
            None,
        ),
    ];
    for (text, message, upstream) in cases {
        let err = refused(text);
        assert_eq!(err.to_string(), message, "input {text:?}");
        assert_eq!(err.upstream_message(), upstream, "input {text:?}");
    }
}

#[test]
fn caret_rendering_and_positions_in_characters() {
    let text = "avg(cpu.idle_perc{hostname=web1}, 61) < 10";
    let err = refused(text);
    assert_eq!(err.position, 34);
    assert_eq!(err.render(text), format!("{text}\n{}^", " ".repeat(34)));
    // Positions count characters, not bytes.
    let text = "avg(千{ключ=значение}) < 10 and";
    let err = refused(text);
    assert_eq!(err.position, text.chars().count());
    assert_eq!(
        err.render(text).lines().nth(1).unwrap().len(),
        text.chars().count() + 1
    );
    // Second line of a multi-line text; tabs map back to the original position.
    let text = "avg(a) < 10 or\n\tavg(b, 61) < 1";
    let err = refused(text);
    assert_eq!(err.kind, ErrorKind::PeriodNotMultipleOf60);
    assert_eq!(err.position, 23);
    assert_eq!(err.line_col(text), (2, 9));
    assert_eq!(err.render(text), "\tavg(b, 61) < 1\n\t       ^");
}

#[test]
fn from_str_and_constructors() {
    let expr: Expr = "avg(cpu) > 1".parse().unwrap();
    let mut sub = SubExpr::new(Function::Avg, "cpu", Operator::Gt, 1.0);
    assert_eq!(expr, Expr::Sub(sub.clone()));
    sub.dimensions.push(("host".into(), "web 1".into()));
    sub.period = 300;
    sub.periods = 2;
    sub.deterministic = true;
    sub.operator_style = OperatorStyle::Word;
    assert_eq!(
        sub.to_string(),
        "AVG(cpu{host=web 1}, deterministic, 300) gt 1.0 times 2"
    );
    assert_eq!(sub.window_seconds(), 600);
    assert_eq!(parse(&sub.to_string()).unwrap(), Expr::from(sub));
}
