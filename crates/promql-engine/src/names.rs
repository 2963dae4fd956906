//! How Monasca names become Prometheus names, reversibly.
//!
//! A tenant (Monasca project) is the scope of every query. A Monasca metric `name` becomes
//! the Prometheus metric name (`__name__`) and each dimension a label, by these rules:
//!
//! * **Metric names.** A name made of `[A-Za-z0-9_.]`, not starting with a digit or with
//!   `U__`, has each `.` written `:` (`cpu.idle_perc` → `cpu:idle_perc`). `:` is legal in
//!   Prometheus metric names and Monasca names almost never hold one, so the common names stay
//!   readable and the mapping is undone by turning `:` back into `.`.
//! * **Label names.** A dimension key made of `[A-Za-z0-9_]`, not starting with a digit, `__`
//!   or `U__`, is its own label name (`hostname`, `mount_point`).
//! * **Everything else** (a metric name holding `:`, `-`, `/`, a space…, a key holding a `.`)
//!   is written in Prometheus's "values" escaping: `U__`, then each ASCII letter or digit as
//!   itself, `_` as `__`, and any other character as `_` + its code point in hex + `_`
//!   (`disk-io` → `U__disk_2d_io`, `k8s.pod` → `U__k8s_2e_pod`). A name starting with `U__`
//!   is always decoded this way, which is why plain names starting with `U__` are escaped too.
//!
//! Label values (dimension values) are unchanged: Prometheus allows any UTF-8 there.

/// The prefix of an escaped name.
const ESCAPED: &str = "U__";

/// The Prometheus metric name of Monasca metric `name`.
pub fn metric_to_prom(name: &str) -> String {
    if is_plain(name, true) {
        name.replace('.', ":")
    } else {
        escape(name)
    }
}

/// The Monasca metric name of Prometheus metric name `name`; `None` when `name` is an
/// escaped name that no Monasca name maps to.
pub fn metric_from_prom(name: &str) -> Option<String> {
    match name.strip_prefix(ESCAPED) {
        Some(rest) => unescape(rest),
        None => Some(name.replace(':', ".")),
    }
}

/// The Prometheus label name of Monasca dimension key `key`.
pub fn dimension_to_label(key: &str) -> String {
    if is_plain(key, false) && !key.starts_with("__") {
        key.to_string()
    } else {
        escape(key)
    }
}

/// The Monasca dimension key of Prometheus label `label`; `None` for a reserved label
/// (`__name__`, `__…`) or an escape no key maps to.
pub fn dimension_from_label(label: &str) -> Option<String> {
    match label.strip_prefix(ESCAPED) {
        Some(rest) => unescape(rest),
        None if label.starts_with("__") => None,
        None => Some(label.to_string()),
    }
}

/// Whether `s` maps to itself (with `.` as `:` when `dots` are allowed).
fn is_plain(s: &str, dots: bool) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (dots && c == '.'))
        && !s.starts_with(ESCAPED)
}

fn escape(s: &str) -> String {
    let mut out = String::from(ESCAPED);
    for c in s.chars() {
        match c {
            '_' => out.push_str("__"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            c => out.push_str(&format!("_{:x}_", u32::from(c))),
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        let mut hex = String::new();
        loop {
            match chars.next()? {
                '_' if hex.is_empty() => {
                    out.push('_');
                    break;
                }
                '_' => {
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    break;
                }
                h if h.is_ascii_hexdigit() => hex.push(h),
                _ => return None,
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_stay_readable() {
        assert_eq!(metric_to_prom("cpu.idle_perc"), "cpu:idle_perc");
        assert_eq!(metric_to_prom("http_status"), "http_status");
        assert_eq!(dimension_to_label("hostname"), "hostname");
        assert_eq!(
            metric_from_prom("cpu:idle_perc").as_deref(),
            Some("cpu.idle_perc")
        );
    }

    #[test]
    fn other_names_are_escaped_and_come_back() {
        for name in [
            "disk-io", "a:b", "9lives", "U__x", "k8s.pod", "é.x", "a b", "_", "__x", ".",
        ] {
            let m = metric_to_prom(name);
            assert!(
                m.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "{m}"
            );
            assert_eq!(metric_from_prom(&m).as_deref(), Some(name), "{m}");
            let l = dimension_to_label(name);
            assert!(
                l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{l}"
            );
            assert_eq!(dimension_from_label(&l).as_deref(), Some(name), "{l}");
        }
        assert_eq!(metric_to_prom("disk-io"), "U__disk_2d_io");
        assert_eq!(dimension_to_label("k8s.pod_name"), "U__k8s_2e_pod__name");
        assert_eq!(dimension_from_label("__name__"), None);
        assert_eq!(metric_from_prom("U___zz_"), None);
    }
}
