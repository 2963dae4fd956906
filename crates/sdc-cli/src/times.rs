//! Times in tables: epoch milliseconds, microseconds or nanoseconds as ISO-8601 (UTC with `Z`, or the local
//! time zone with its offset under `--local`) and microsecond spans as `1h30m`. `--json`
//! output never comes here: it stays the API's numbers.

use jiff::{Timestamp, tz::TimeZone};

/// What the number in a time field counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds since the epoch (`createdOn`, `dateCreated`, event `timestamp`).
    EpochMs,
    /// Microseconds since the epoch (alert notification `timestamp`).
    EpochUs,
    /// Nanoseconds since the epoch (Secure policy and audit event `timestamp`).
    EpochNs,
    /// A span in microseconds (alert `timespan`).
    SpanUs,
}

/// `value` in `unit` as table text; `None` when it is no representable time.
pub fn render(value: i64, unit: Unit, local: bool) -> Option<String> {
    let t = match unit {
        Unit::EpochMs => Timestamp::from_millisecond(value).ok()?,
        Unit::EpochUs => Timestamp::from_microsecond(value).ok()?,
        Unit::EpochNs => Timestamp::from_nanosecond(i128::from(value)).ok()?,
        Unit::SpanUs => return Some(span_us(value)),
    };
    Some(if local {
        instant_in(t, &TimeZone::system())
    } else {
        cli_kit::instant_utc(t)
    })
}

/// `2024-01-02T08:34:05+05:30`: the wall time in `zone` and its offset.
pub fn instant_in(t: Timestamp, zone: &TimeZone) -> String {
    t.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `10m`, `1h30m`, `1d2h`, `1s500ms`; `0s` for nothing.
pub fn span_us(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    let (secs, sub) = (us / 1_000_000, us % 1_000_000);
    let mut out = String::from(sign);
    for (n, suffix) in [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "m"),
        (secs % 60, "s"),
    ] {
        if n > 0 {
            out.push_str(&format!("{n}{suffix}"));
        }
    }
    if sub % 1_000 == 0 && sub > 0 {
        out.push_str(&format!("{}ms", sub / 1_000));
    } else if sub > 0 {
        out.push_str(&format!("{sub}µs"));
    }
    if out.len() == sign.len() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_durations() {
        for (us, text) in [
            (600_000_000, "10m"),
            (5_400_000_000, "1h30m"),
            (60_000_000, "1m"),
            (86_400_000_000, "1d"),
            (90_061_000_000, "1d1h1m1s"),
            (1_500_000, "1s500ms"),
            (250, "250µs"),
            (0, "0s"),
            (-300_000_000, "-5m"),
        ] {
            assert_eq!(span_us(us), text, "{us}");
        }
    }

    #[test]
    fn instants_are_iso_8601() {
        let ms = 1_704_164_645_123;
        assert_eq!(
            render(ms, Unit::EpochMs, false).unwrap(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            render(ms * 1000 + 456, Unit::EpochUs, false).unwrap(),
            "2024-01-02T03:04:05Z"
        );
        let t = Timestamp::from_millisecond(ms).unwrap();
        let ist = TimeZone::fixed(jiff::tz::Offset::from_seconds(5 * 3600 + 1800).unwrap());
        assert_eq!(instant_in(t, &ist), "2024-01-02T08:34:05+05:30");
        assert_eq!(render(i64::MAX, Unit::EpochMs, false), None);
        assert_eq!(render(5_400_000_000, Unit::SpanUs, true).unwrap(), "1h30m");
    }
}
