//! The statistics answer written straight into one buffer: the same bytes serde would write for
//! `Envelope<Statistics>` (field order, escaping, numbers, `null` for values JSON cannot hold),
//! without a map, a column list and a `Value` per element, row and number first. A page of
//! 10,000 groups was otherwise tens of thousands of allocations.

use std::io::{self, Write};

use metric_store::{Bucket, Stat};
use monasca::types::Link;

pub struct StatisticsBody {
    buf: Vec<u8>,
    /// `"name":…,` then the dimensions' opening, and the columns: the same in every element.
    name_json: Vec<u8>,
    columns_json: Vec<u8>,
    elements: usize,
}

impl StatisticsBody {
    /// The answer's start; `size` (elements, rows) sizes the buffer once for the page.
    pub fn new(
        links: &[Link],
        name: &str,
        stats: &[Stat],
        size: (usize, usize),
    ) -> io::Result<Self> {
        // Roughly: an element's id, name, a dimension and columns; a row's time and numbers.
        let (elements, rows) = size;
        let bytes = 512 + elements * (100 + 2 * name.len()) + rows * (26 + 20 * stats.len());
        let mut buf = Vec::with_capacity(bytes);
        buf.extend_from_slice(br#"{"links":"#);
        serde_json::to_writer(&mut buf, links)?;
        buf.extend_from_slice(br#","elements":["#);
        let mut name_json = br#","name":"#.to_vec();
        serde_json::to_writer(&mut name_json, name)?;
        let mut columns_json = br#","columns":["timestamp""#.to_vec();
        for s in stats {
            columns_json.push(b',');
            serde_json::to_writer(&mut columns_json, s.as_str())?;
        }
        columns_json.push(b']');
        Ok(Self {
            buf,
            name_json,
            columns_json,
            elements: 0,
        })
    }

    /// Adds an element: its id, its dimensions (sorted by key, as a map serialises) and a
    /// row a bucket: the period's start, then each statistic (counts as integers).
    pub fn element<'a>(
        &mut self,
        id: usize,
        dimensions: impl Iterator<Item = (&'a str, &'a str)>,
        stats: &[Stat],
        rows: &[Bucket],
    ) -> io::Result<()> {
        let b = &mut self.buf;
        if self.elements > 0 {
            b.push(b',');
        }
        self.elements += 1;
        write!(b, r#"{{"id":"{id}""#)?;
        b.extend_from_slice(&self.name_json);
        b.extend_from_slice(br#","dimensions":{"#);
        for (i, (k, v)) in dimensions.enumerate() {
            if i > 0 {
                b.push(b',');
            }
            serde_json::to_writer(&mut *b, k)?;
            b.push(b':');
            serde_json::to_writer(&mut *b, v)?;
        }
        b.push(b'}');
        b.extend_from_slice(&self.columns_json);
        b.extend_from_slice(br#","statistics":["#);
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.extend_from_slice(b"[\"");
            write_seconds(b, row.start);
            b.push(b'"');
            for (s, v) in stats.iter().zip(&row.values) {
                b.push(b',');
                match s {
                    // InfluxDB reports counts as integers.
                    Stat::Count => serde_json::to_writer(&mut *b, &(*v as u64))?,
                    _ => serde_json::to_writer(&mut *b, v)?,
                }
            }
            b.push(b']');
        }
        b.extend_from_slice(b"]}");
        Ok(())
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"]}");
        self.buf
    }
}

/// Epoch milliseconds as [`monasca::time::format_seconds`] writes them
/// (`2015-03-03T05:25:00Z`), without its formatting machinery for the years it is asked
/// about (1970 to the end of 9999 that its timestamps reach); other times go to it.
fn write_seconds(b: &mut Vec<u8>, ms: i64) {
    /// 9999-12-30T22:00:00Z, where jiff's timestamps end (so that any offset of a day
    /// keeps them in year 9999).
    const END_MS: i64 = 253_402_207_200_000;
    if !(0..END_MS).contains(&ms) {
        b.extend_from_slice(monasca::time::format_seconds(ms).as_bytes());
        return;
    }
    let secs = ms / 1000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = metric_store::civil_from_days(days);
    let mut text = *b"0000-00-00T00:00:00Z";
    let fields = [
        (0..4, year),
        (5..7, month),
        (8..10, day),
        (11..13, day_secs / 3600),
        (14..16, day_secs / 60 % 60),
        (17..19, day_secs % 60),
    ];
    for (span, mut n) in fields {
        for slot in text[span].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    b.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use monasca::types::{Envelope, Statistics};
    use serde_json::Value;

    use super::*;

    #[test]
    fn times_read_as_the_general_formatter_writes_them() {
        let mut samples = vec![0, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000];
        samples.extend([
            253_402_207_199_999,
            253_402_207_200_000,
            253_402_207_200_999,
        ]);
        samples.extend([253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001]);
        samples.extend([i64::MIN, i64::MAX]);
        // Every day boundary of a few centuries' leap-year rules, and scattered instants.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push((x % 253_402_300_800_000) as i64);
            samples.push(253_402_207_200_000 - (x % 86_400_000) as i64);
        }
        samples.extend((0..146_097 * 3).map(|d| d * 86_400_000 + 86_399_000));
        for ms in samples {
            let mut b = Vec::new();
            write_seconds(&mut b, ms);
            assert_eq!(
                String::from_utf8(b).unwrap(),
                monasca::time::format_seconds(ms),
                "{ms}"
            );
        }
    }

    #[test]
    fn the_body_is_what_serde_writes_for_the_envelope() {
        let stats = [Stat::Avg, Stat::Count, Stat::Min, Stat::Max, Stat::Sum];
        let links = vec![
            Link {
                rel: "self".into(),
                href: "http://h/v2.0/metrics/statistics?name=a%22b".into(),
            },
            Link {
                rel: "next".into(),
                href: "http://h/?offset=3_2024-01-01T00:00:00Z".into(),
            },
        ];
        let name = "cpu.\"idle\"\\\u{1}\u{7f}é\u{1F600}";
        let dims: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("hostname", "host-1")],
            vec![("a\nb", "\t\u{0}</script>"), ("z", "")],
        ];
        let rows = |k: usize| -> Vec<Bucket> {
            let odd = [
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                1e300,
                5e-324,
                0.1 + 0.2,
                3.0,
                12_345_678.0,
            ];
            (0..k)
                .map(|i| Bucket {
                    start: 1_700_000_000_000 + i as i64 * 300_000,
                    values: (0..stats.len()).map(|j| odd[(i + j) % odd.len()]).collect(),
                })
                .collect()
        };
        let mut body = StatisticsBody::new(&links, name, &stats, (3, 12)).unwrap();
        let mut elements = Vec::new();
        for (i, d) in dims.iter().enumerate() {
            let r = rows(i * 4);
            body.element(i + 7, d.iter().copied(), &stats, &r).unwrap();
            // As the handler built them before writing straight to a buffer.
            elements.push(Statistics {
                id: (i + 7).to_string(),
                name: name.to_string(),
                dimensions: d
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                columns: ["timestamp", "avg", "count", "min", "max", "sum"]
                    .map(String::from)
                    .to_vec(),
                statistics: r
                    .iter()
                    .map(|b| {
                        let mut row = vec![Value::String(monasca::time::format_seconds(b.start))];
                        row.extend(stats.iter().zip(&b.values).map(|(s, v)| match s {
                            Stat::Count => Value::from(*v as u64),
                            _ => Value::from(*v),
                        }));
                        row
                    })
                    .collect(),
            });
        }
        let want = serde_json::to_vec(&Envelope {
            links: links.clone(),
            elements,
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(body.finish()).unwrap(),
            String::from_utf8(want).unwrap()
        );
        let empty = StatisticsBody::new(&links[..1], "n", &[Stat::Avg], (0, 0)).unwrap();
        let want = serde_json::to_vec(&Envelope::<Statistics> {
            links: links[..1].to_vec(),
            elements: Vec::new(),
        })
        .unwrap();
        assert_eq!(empty.finish(), want);
    }
}
