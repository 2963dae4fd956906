//! Prometheus's type check over the tree the grammar pass built: argument types and
//! counts, operand types, selectors that select everything.

use promql_parser::parser::token::{T_COUNT_VALUES, T_EQL, T_EQL_REGEX, T_LAND, T_LOR, T_NEQ};

use super::grammar::{is_comparison, is_set};
use super::{Found, Kind, Matcher, Node, Type, found, go_quote};

/// Prometheus's type check: the type of `node`, or its first error.
pub(super) fn check(node: &Node) -> Result<Type, Found> {
    match &node.kind {
        Kind::Number => Ok(Type::Scalar),
        Kind::String => Ok(Type::String),
        Kind::Matrix { .. } => Ok(Type::Matrix),
        Kind::Paren(inner) => check(inner),
        Kind::Selector { name, matchers, .. } => {
            if let Some(name) = name {
                if let Some(m) = matchers.iter().find(|m| m.0 == "__name__") {
                    return Err(found(
                        node.start,
                        format!(
                            "metric name must not be set twice: {} or {}",
                            go_quote(name),
                            go_quote(&m.2)
                        ),
                    ));
                }
            } else if matchers.iter().all(matches_empty) {
                return Err(found(
                    node.start,
                    "vector selector must contain at least one non-empty matcher",
                ));
            }
            Ok(Type::Vector)
        }
        Kind::Subquery { inner, .. } => {
            let t = check(inner)?;
            if t != Type::Vector {
                return Err(found(
                    node.start,
                    format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        t.short()
                    ),
                ));
            }
            Ok(Type::Matrix)
        }
        Kind::Unary(inner) => {
            let t = check(inner)?;
            if !matches!(t, Type::Scalar | Type::Vector) {
                return Err(found(
                    node.start,
                    format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got \"{}\"",
                        t.documented()
                    ),
                ));
            }
            Ok(t)
        }
        Kind::Aggregate { op, args } => {
            let (param, expr) = match args.as_slice() {
                [param, expr] => (Some(param), expr),
                [expr] => (None, expr),
                _ => return Ok(Type::Vector),
            };
            expect(expr, Type::Vector, "aggregation expression")?;
            if let Some(param) = param {
                let want = if *op == T_COUNT_VALUES {
                    Type::String
                } else {
                    Type::Scalar
                };
                expect(param, want, "aggregation parameter")?;
            }
            Ok(Type::Vector)
        }
        Kind::Call { name, args } => check_call(node.start, name, args),
        Kind::Binary {
            lhs,
            rhs,
            op,
            op_at,
            bool_modifier,
            on,
            matching,
            grouped,
        } => {
            let (lt, rt) = (check(lhs)?, check(rhs)?);
            if *bool_modifier && !is_comparison(*op) {
                return Err(found(
                    *op_at,
                    "bool modifier can only be used on comparison operators",
                ));
            }
            if is_comparison(*op) && !bool_modifier && lt == Type::Scalar && rt == Type::Scalar {
                return Err(found(
                    *op_at,
                    "comparisons between scalars must use BOOL modifier",
                ));
            }
            if *on
                && let Some(label) = matching
                    .iter()
                    .find(|l| grouped.iter().flatten().any(|g| g == *l))
            {
                return Err(found(
                    *op_at,
                    format!(
                        "label {} must not occur in ON and GROUP clause at once",
                        go_quote(label)
                    ),
                ));
            }
            for (side, t) in [(lhs, lt), (rhs, rt)] {
                if !matches!(t, Type::Scalar | Type::Vector) {
                    return Err(found(
                        side.start,
                        "binary expression must contain only scalar and instant vector types",
                    ));
                }
            }
            let op_text = op_name(*op);
            if lt != Type::Vector || rt != Type::Vector {
                if !matching.is_empty() {
                    return Err(found(
                        node.start,
                        "vector matching only allowed between instant vectors",
                    ));
                }
            } else if is_set(*op) && grouped.is_some() {
                return Err(found(
                    node.start,
                    format!("no grouping allowed for \"{op_text}\" operation"),
                ));
            }
            if (lt == Type::Scalar || rt == Type::Scalar) && is_set(*op) {
                return Err(found(
                    node.start,
                    format!("set operator \"{op_text}\" not allowed in binary scalar expression"),
                ));
            }
            Ok(if lt == Type::Scalar && rt == Type::Scalar {
                Type::Scalar
            } else {
                Type::Vector
            })
        }
    }
}

fn check_call(start: usize, name: &str, args: &[Node]) -> Result<Type, Found> {
    let Some(&(_, types, variadic, returns)) = FUNCTIONS.iter().find(|f| f.0 == name) else {
        return Ok(Type::Vector);
    };
    let types = types.as_bytes();
    let (wanted, given) = (types.len(), args.len());
    let quoted = go_quote(name);
    if variadic == 0 {
        if wanted != given {
            return Err(found(
                start,
                format!("expected {wanted} argument(s) in call to {quoted}, got {given}"),
            ));
        }
    } else {
        let least = wanted - 1;
        if least > given {
            return Err(found(
                start,
                format!("expected at least {least} argument(s) in call to {quoted}, got {given}"),
            ));
        }
        let most = least + variadic.unsigned_abs() as usize;
        if variadic > 0 && most < given {
            return Err(found(
                start,
                format!("expected at most {most} argument(s) in call to {quoted}, got {given}"),
            ));
        }
    }
    for (i, arg) in args.iter().enumerate() {
        let Some(&code) = types
            .get(i)
            .or(if variadic == 0 { None } else { types.last() })
        else {
            break;
        };
        expect(arg, Type::of(code), &format!("call to function {quoted}"))?;
    }
    Ok(Type::of(returns))
}

fn expect(node: &Node, want: Type, context: &str) -> Result<(), Found> {
    let t = check(node)?;
    if t != want {
        return Err(found(
            node.start,
            format!(
                "expected type {} in {context}, got {}",
                want.documented(),
                t.documented()
            ),
        ));
    }
    Ok(())
}

fn op_name(id: u16) -> &'static str {
    match id {
        T_LAND => "and",
        T_LOR => "or",
        _ => "unless",
    }
}

/// Whether a matcher matches the empty string (then it selects everything).
fn matches_empty(m: &Matcher) -> bool {
    let (_, op, value, _) = m;
    let regex_empty =
        || regex::Regex::new(&format!("^(?s:{value})$")).is_ok_and(|r| r.is_match(""));
    match *op {
        T_EQL => value.is_empty(),
        T_NEQ => !value.is_empty(),
        T_EQL_REGEX => regex_empty(),
        _ => !regex_empty(),
    }
}

/// PromQL's functions: name, argument types (`v` instant vector, `m` range vector, `s`
/// scalar, `t` string), how many of the last type may follow (0 none, below 0 any number),
/// result type. The `promql-parser` crate's list, which keeps its own private.
pub(super) const FUNCTIONS: &[(&str, &str, i32, u8)] = &[
    ("abs", "v", 0, b'v'),
    ("absent", "v", 0, b'v'),
    ("absent_over_time", "m", 0, b'v'),
    ("acos", "v", 0, b'v'),
    ("acosh", "v", 0, b'v'),
    ("asin", "v", 0, b'v'),
    ("asinh", "v", 0, b'v'),
    ("atan", "v", 0, b'v'),
    ("atanh", "v", 0, b'v'),
    ("avg_over_time", "m", 0, b'v'),
    ("ceil", "v", 0, b'v'),
    ("changes", "m", 0, b'v'),
    ("clamp", "vss", 0, b'v'),
    ("clamp_max", "vs", 0, b'v'),
    ("clamp_min", "vs", 0, b'v'),
    ("cos", "v", 0, b'v'),
    ("cosh", "v", 0, b'v'),
    ("count_over_time", "m", 0, b'v'),
    ("days_in_month", "v", 1, b'v'),
    ("day_of_month", "v", 1, b'v'),
    ("day_of_week", "v", 1, b'v'),
    ("day_of_year", "v", 1, b'v'),
    ("deg", "v", 0, b'v'),
    ("delta", "m", 0, b'v'),
    ("deriv", "m", 0, b'v'),
    ("end", "", 0, b's'),
    ("exp", "v", 0, b'v'),
    ("first_over_time", "m", 0, b'v'),
    ("floor", "v", 0, b'v'),
    ("histogram_avg", "v", 0, b'v'),
    ("histogram_count", "v", 0, b'v'),
    ("histogram_fraction", "ssv", 0, b'v'),
    ("histogram_quantile", "sv", 0, b'v'),
    ("histogram_quantiles", "vtss", 9, b'v'),
    ("histogram_stddev", "v", 0, b'v'),
    ("histogram_stdvar", "v", 0, b'v'),
    ("histogram_sum", "v", 0, b'v'),
    ("info", "vv", 1, b'v'),
    ("double_exponential_smoothing", "mss", 0, b'v'),
    ("hour", "v", 1, b'v'),
    ("idelta", "m", 0, b'v'),
    ("increase", "m", 0, b'v'),
    ("integral", "ms", 1, b'v'),
    ("irate", "m", 0, b'v'),
    ("label_replace", "vtttt", 0, b'v'),
    ("label_join", "vttt", -1, b'v'),
    ("max_of", "ss", 0, b's'),
    ("last_over_time", "m", 0, b'v'),
    ("min_of", "ss", 0, b's'),
    ("ln", "v", 0, b'v'),
    ("log10", "v", 0, b'v'),
    ("log2", "v", 0, b'v'),
    ("mad_over_time", "m", 0, b'v'),
    ("max_over_time", "m", 0, b'v'),
    ("min_over_time", "m", 0, b'v'),
    ("ts_of_first_over_time", "m", 0, b'v'),
    ("ts_of_last_over_time", "m", 0, b'v'),
    ("ts_of_max_over_time", "m", 0, b'v'),
    ("ts_of_min_over_time", "m", 0, b'v'),
    ("minute", "v", 1, b'v'),
    ("month", "v", 1, b'v'),
    ("pi", "", 0, b's'),
    ("range", "", 0, b's'),
    ("predict_linear", "ms", 0, b'v'),
    ("present_over_time", "m", 0, b'v'),
    ("quantile_over_time", "sm", 0, b'v'),
    ("rad", "v", 0, b'v'),
    ("rate", "m", 0, b'v'),
    ("resets", "m", 0, b'v'),
    ("round", "vs", 1, b'v'),
    ("scalar", "v", 0, b's'),
    ("sgn", "v", 0, b'v'),
    ("start", "", 0, b's'),
    ("start_timestamp", "v", 0, b'v'),
    ("step", "", 0, b's'),
    ("sin", "v", 0, b'v'),
    ("sinh", "v", 0, b'v'),
    ("sort", "v", 0, b'v'),
    ("sort_desc", "v", 0, b'v'),
    ("sort_by_label", "vt", -1, b'v'),
    ("sort_by_label_desc", "vt", -1, b'v'),
    ("sqrt", "v", 0, b'v'),
    ("stddev_over_time", "m", 0, b'v'),
    ("stdvar_over_time", "m", 0, b'v'),
    ("sum_over_time", "m", 0, b'v'),
    ("tan", "v", 0, b'v'),
    ("tanh", "v", 0, b'v'),
    ("time", "", 0, b's'),
    ("timestamp", "v", 0, b'v'),
    ("vector", "s", 0, b'v'),
    ("year", "v", 1, b'v'),
];
