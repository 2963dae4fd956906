//! Timestamps as Monasca writes and reads them.

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};

/// Formats epoch milliseconds as measurements print them: `2015-03-03T05:24:55.123Z`.
pub fn format_millis(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// Formats epoch milliseconds to whole seconds, as statistics print them: `2015-03-03T05:25:00Z`.
pub fn format_seconds(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// Formats a timestamp for a query parameter: seconds, plus milliseconds when it has them.
pub fn format_query(t: Timestamp) -> String {
    if t.subsec_nanosecond() == 0 {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()
    }
}

/// Parses an ISO 8601 time the way Monasca's `start_time`/`end_time` accept it: a full RFC 3339
/// time, a time with a numeric offset, basic format (`20150303T052455Z`), minutes only, a date
/// alone, a space instead of `T`, or no zone at all (taken as UTC).
///
/// # Errors
/// A message naming the string, as upstream's `Unable to parse date string '...'`.
pub fn parse_iso8601(s: &str) -> Result<Timestamp, String> {
    let err = || format!("Unable to parse date string '{s}'");
    let t = s.trim();
    if t.is_empty() {
        return Err(err());
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    let normalized = normalize(t).ok_or_else(err)?;
    if let Ok(ts) = normalized.parse::<Timestamp>() {
        return Ok(ts);
    }
    // No zone designator: UTC.
    let dt: DateTime = normalized.parse().map_err(|_| err())?;
    TimeZone::UTC.to_timestamp(dt).map_err(|_| err())
}

/// Rewrites the looser ISO 8601 spellings into the extended form jiff parses.
fn normalize(s: &str) -> Option<String> {
    let s = s.replacen(' ', "T", 1);
    let (date, rest) = match s.split_once('T') {
        Some((d, r)) => (d.to_string(), Some(r.to_string())),
        None => (s.clone(), None),
    };
    let date = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..])
    } else {
        date
    };
    let Some(rest) = rest else {
        return Some(format!("{date}T00:00:00"));
    };
    // Split the clock from its zone suffix.
    let zone_at = rest
        .find(['Z', 'z', '+'])
        .or_else(|| rest.rfind('-'))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let clock = if !clock.contains(':')
        && clock.len() >= 4
        && clock[..4].bytes().all(|b| b.is_ascii_digit())
    {
        // Basic format: HHMM[SS[.fff]].
        let (hm, sec) = clock.split_at(4);
        let sec = if sec.is_empty() {
            "00".to_string()
        } else {
            sec.to_string()
        };
        format!("{}:{}:{}", &hm[..2], &hm[2..], sec)
    } else if clock.matches(':').count() == 1 {
        format!("{clock}:00")
    } else {
        clock.to_string()
    };
    let zone = if zone.len() == 5
        && !zone.contains(':')
        && (zone.starts_with('+') || zone.starts_with('-'))
    {
        format!("{}:{}", &zone[..3], &zone[3..])
    } else if zone.len() == 3 && (zone.starts_with('+') || zone.starts_with('-')) {
        format!("{zone}:00")
    } else {
        zone.to_string()
    };
    Some(format!("{date}T{clock}{zone}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        parse_iso8601(s).map(|t| t.as_millisecond()).unwrap_or(-1)
    }

    #[test]
    fn parses_the_forms_upstream_accepts() {
        let base = 1_425_360_295_000;
        assert_eq!(ms("2015-03-03T05:24:55Z"), base);
        assert_eq!(ms("2015-03-03T05:24:55.123Z"), base + 123);
        assert_eq!(ms("2015-03-03T05:24:55.123456789Z"), base + 123);
        assert_eq!(ms("2015-03-03T06:24:55+01:00"), base);
        assert_eq!(ms("2015-03-03T06:24:55+0100"), base);
        assert_eq!(ms("2015-03-03T05:24:55"), base);
        assert_eq!(ms("2015-03-03 05:24:55"), base);
        assert_eq!(ms("20150303T052455Z"), base);
        assert_eq!(ms("2015-03-03T05:24Z"), base - 55_000);
        assert_eq!(ms("2015-03-03"), 1_425_340_800_000);
        assert!(parse_iso8601("xyz").is_err());
        assert!(parse_iso8601("2015-13-03T05:24:55Z").is_err());
        assert!(parse_iso8601("1425360295").is_err());
        assert!(parse_iso8601("").is_err());
    }

    #[test]
    fn formats_like_upstream() {
        assert_eq!(format_millis(1_425_360_295_123), "2015-03-03T05:24:55.123Z");
        assert_eq!(format_millis(1_425_360_295_000), "2015-03-03T05:24:55.000Z");
        assert_eq!(format_seconds(1_425_360_295_123), "2015-03-03T05:24:55Z");
    }
}
