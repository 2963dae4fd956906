//! The reason text monasca-thresh writes into state history, with Java's number formatting.

use std::collections::BTreeMap;

use alarm_expr::{Function, SubExpr};

/// Java's `Double.toString`: shortest round-trip digits, `E` notation at or above 1e7 and
/// below 1e-3, and always a fractional digit (`5.0`, `1.5E7`).
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e7).contains(&a) {
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        return format!("{mantissa}E{exp}");
    }
    let s = format!("{x:?}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// `DecimalFormat("0.0##############")`: at least one and at most 15 fractional digits.
pub fn threshold(x: f64) -> String {
    let s = format!("{x:.15}");
    let trimmed = s.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

/// `AlarmSubExpression.getExpression()`: `avg(cpu{hostname=web1}, 120) > 10.0 times 3`.
pub fn sub_expression(s: &SubExpr) -> String {
    let mut out = String::new();
    out.push_str(s.function.as_lower());
    out.push('(');
    out.push_str(&s.metric_name);
    if !s.dimensions.is_empty() {
        let dims: BTreeMap<&str, &str> = s
            .dimensions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let inner: Vec<String> = dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push('{');
        out.push_str(&inner.join(", "));
        out.push('}');
    }
    if s.deterministic {
        out.push_str(", deterministic");
    }
    if s.period != alarm_expr::DEFAULT_PERIOD && s.function != Function::Last {
        out.push_str(&format!(", {}", s.period));
    }
    let op = match s.operator {
        alarm_expr::Operator::Lt => "<",
        alarm_expr::Operator::Lte => "<=",
        alarm_expr::Operator::Gt => ">",
        alarm_expr::Operator::Gte => ">=",
    };
    out.push_str(&format!(") {op} {}", threshold(s.threshold)));
    if s.periods != alarm_expr::DEFAULT_PERIODS {
        out.push_str(&format!(" times {}", s.periods));
    }
    out
}

pub fn values(v: &[f64]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| java_double(*x))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn numbers_print_as_java_does() {
        assert_eq!(java_double(5.0), "5.0");
        assert_eq!(java_double(29.23069852941176), "29.23069852941176");
        assert_eq!(java_double(1.5e7), "1.5E7");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1e-4), "1.0E-4");
        assert_eq!(threshold(15.0), "15.0");
        assert_eq!(threshold(0.5), "0.5");
        assert_eq!(values(&[5.0, 4.0, 3.5]), "[5.0, 4.0, 3.5]");
    }

    #[test]
    fn sub_expressions_print_as_thresh_does() {
        let e = alarm_expr::parse("avg(mysql.slow{b=2,a=1}, 120) > 10 times 3").unwrap();
        assert_eq!(
            sub_expression(e.sub_expressions()[0]),
            "avg(mysql.slow{a=1, b=2}, 120) > 10.0 times 3"
        );
        let e = alarm_expr::parse("cpu.system_perc > 15").unwrap();
        assert_eq!(
            sub_expression(e.sub_expressions()[0]),
            "max(cpu.system_perc) > 15.0"
        );
    }
}
