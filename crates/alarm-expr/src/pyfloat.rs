//! Formatting of thresholds.
//!
//! monasca-api prints a threshold with Python's `str(float)` (`"{}".format(x)`), which is
//! `repr`: the shortest digit string that reads back as the same double, in positional notation
//! while the decimal exponent is in `-4..16`, in scientific notation (`1e+16`, `1e-05`)
//! otherwise, and always with a `.0` when positional and integral.
//!
//! The expression grammar itself has no exponent, so for text that must parse again
//! ([`crate::SubExpr`]'s `Display`) [`positional`] spells the same shortest digits out in full.

/// Splits Rust's `{:e}` form (`-1.25e-7`) into sign, digits without the point, and exponent.
fn split_exp(s: &str) -> (bool, String, i32) {
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (negative, digits, exp)
}

/// Shortest round-trip digits of a finite `x` (no sign, no leading zeros) and the decimal
/// exponent of the first digit: `x = ±0.d1d2... × 10^decpt` means `decpt = exp + 1`.
fn shortest_digits(x: f64) -> (bool, String, i32) {
    // Rust's `{:e}` gives the shortest digits that round-trip, closest to `x`, like Python's
    // repr (David Gay's dtoa, mode 0). They differ on an exact tie between two shortest
    // candidates: Rust rounds the last digit up, Python to even.
    let (negative, mut digits, exp) = split_exp(&format!("{:e}", x));
    if let Some(even) = tie_to_even(x.abs(), &digits, exp) {
        digits = even;
    }
    (negative, digits, exp + 1)
}

/// When `x` (positive) lies exactly halfway between `digits` and the same digits with the
/// last one lowered by one, and that lower candidate is even and also reads back as `x`,
/// returns it (Python's choice).
fn tie_to_even(x: f64, digits: &str, exp: i32) -> Option<String> {
    let (head, last) = digits.split_at(digits.len().checked_sub(1)?);
    let last = last.bytes().next()?;
    if last == b'0' || !(last - b'1').is_multiple_of(2) {
        return None;
    }
    let mut lower = String::with_capacity(digits.len());
    lower.push_str(head);
    lower.push(char::from(last - 1));
    let (first, rest) = lower.split_at(1);
    let candidate = format!("{first}.{rest}e{exp}");
    if candidate.parse::<f64>().ok()? != x {
        return None;
    }
    // A double's exact decimal expansion has at most 767 significant digits.
    let (_, exact, exact_exp) = split_exp(&format!("{:.800e}", x));
    let exact = exact.trim_end_matches('0');
    if exact_exp != exp || exact.len() != lower.len() + 1 || !exact.ends_with('5') {
        return None;
    }
    if !exact.starts_with(lower.as_str()) {
        return None;
    }
    let trimmed = lower.trim_end_matches('0');
    Some(if trimmed.is_empty() { "0" } else { trimmed }.to_owned())
}

/// Python's `repr(x)` for a finite float (`10.0`, `0.0001`, `1e-05`, `1.5e+16`, `-0.0`).
pub(crate) fn python_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let (negative, digits, decpt) = shortest_digits(x);
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let exp = decpt - 1;
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else {
        push_positional(&mut out, &digits, decpt);
    }
    out
}

/// The same digits as [`python_repr`] but always positional (`10000000000000000.0`,
/// `0.00001`), so that the expression grammar (which has no exponent) reads it back.
pub(crate) fn positional(x: f64) -> String {
    if !x.is_finite() {
        return python_repr(x);
    }
    let (negative, digits, decpt) = shortest_digits(x);
    let mut out = String::with_capacity(digits.len() + decpt.unsigned_abs() as usize + 4);
    if negative {
        out.push('-');
    }
    push_positional(&mut out, &digits, decpt);
    out
}

fn push_positional(out: &mut String, digits: &str, decpt: i32) {
    if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..decpt.unsigned_abs() {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let point = decpt.unsigned_abs() as usize;
        if point >= digits.len() {
            out.push_str(digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// Whether [`python_repr`] would use scientific notation for `x`.
pub(crate) fn repr_is_positional(x: f64) -> bool {
    if !x.is_finite() {
        return false;
    }
    let (_, _, decpt) = shortest_digits(x);
    !(decpt <= -4 || decpt > 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // The tie cases are exact binary values that Rust's shortest form would print differently.
    #[allow(clippy::excessive_precision)]
    fn matches_python_repr() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (3.0, "3.0"),
            (-5.5, "-5.5"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (0.0000123, "1.23e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (9999999999999998.0, "9999999999999998.0"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (1e100, "1e+100"),
            (0.30000000000000004, "0.30000000000000004"),
            // Exact ties between two shortest candidates go to the even digit, as in Python.
            (1042505960489215.25, "1042505960489215.2"),
            (-225529724544015.125, "-225529724544015.12"),
            (730429883530943.25, "730429883530943.2"),
            (1042505960489215.75, "1042505960489215.8"),
        ];
        for (x, want) in cases {
            assert_eq!(python_repr(*x), *want, "repr of {x:?}");
        }
    }

    #[test]
    fn positional_never_uses_exponent() {
        assert_eq!(positional(1e16), "10000000000000000.0");
        assert_eq!(positional(0.00001), "0.00001");
        assert_eq!(positional(-1.23e-5), "-0.0000123");
        assert_eq!(positional(10.0), "10.0");
        assert_eq!(positional(0.0), "0.0");
        for x in [1e16, 0.00001, 5e-324, f64::MAX, 1.2345678901234568e17] {
            assert_eq!(positional(x).parse::<f64>().ok(), Some(x));
        }
    }
}
