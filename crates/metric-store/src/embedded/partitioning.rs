//! Which block (partition key) a point is sealed into.
//!
//! Points near the data's present get one partition each [`EmbeddedOptions::partition`]
//! wide. A client may send any timestamp, though (monasca-api has no range rule): a thousand
//! points spread over fifty years would otherwise make a block file per partition they touch,
//! and each seal another set. So the farther a point is from the present, the wider its
//! bucket: a week beyond the last weeks, a year (52 weeks) beyond the last year, 64 years
//! beyond 32 years. Each level holds a bounded number of buckets, so the keys are a few
//! hundred at most whatever the timestamps, and merges bring each key down to one block.
//!
//! A key is the index of the first partition of its bucket, so keys stay in one space and
//! block names keep reading as partitions. Which width a bucket gets depends on where the
//! present is when it is sealed, so a wide bucket can overlap partitions sealed when they were
//! recent; reads apply blocks by sequence whatever their key, and merges only combine blocks
//! no other overlapping block sits between (`compact::merge_plans`).
//!
//! [`EmbeddedOptions::partition`]: super::EmbeddedOptions::partition

use std::ops::Range;

const DAY_MS: i64 = 86_400_000;
/// How far ahead of the present points still get their own partition (clock skew).
const AHEAD_MS: i64 = DAY_MS;
const YEAR_MS: i64 = 365 * DAY_MS;

/// The bucket levels, widest first: a bucket's width as a multiple of the next level's, and
/// how far behind and ahead of the present a bucket must reach for it to be cut finer.
const LEVELS: [(i64, i64, i64); 3] = [
    // 64 "years" of 52 weeks, within 32 years.
    (64, 32 * YEAR_MS, 32 * YEAR_MS),
    // 52 weeks, within a year.
    (52, YEAR_MS, YEAR_MS),
    // A week, within the last five weeks (late and backfilled data stays as finely cut as
    // live data) and the next day.
    (1, 35 * DAY_MS, AHEAD_MS),
];

/// The present the buckets are cut around: the newest timestamp written, but never past the
/// wall clock's day ahead, so one point from the year 9999 does not make today "far".
pub(super) fn present(newest: i64, now_ms: i64) -> i64 {
    newest.min(now_ms.saturating_add(AHEAD_MS))
}

/// `range` and `other` share an instant.
fn meets(range: &Range<i64>, other: &Range<i64>) -> bool {
    range.start < other.end && other.start < range.end
}

/// The partition key of timestamp `ts` with partitions `pms` wide, cut around `present`. Never
/// decreases as `ts` grows, so a series' sorted points fall into runs of one key.
pub(super) fn partition_key(ts: i64, pms: i64, present: i64) -> i64 {
    let p = ts.div_euclid(pms);
    let present_p = present.div_euclid(pms);
    // Widths in partitions, nested: each bucket holds whole buckets of the next level.
    let week = (7 * DAY_MS / pms).max(1);
    let year = week.saturating_mul(LEVELS[1].0);
    let widths = [year.saturating_mul(LEVELS[0].0), year, week];
    for (width, (_, back, ahead)) in widths.into_iter().zip(LEVELS) {
        let start = p.div_euclid(width).saturating_mul(width);
        let bucket = start..start.saturating_add(width);
        let near = present_p.saturating_sub(back.div_euclid(pms))
            ..present_p
                .saturating_add(ahead.div_euclid(pms))
                .saturating_add(1);
        if !meets(&bucket, &near) {
            return start;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const H2: i64 = 2 * 3_600_000;
    /// 2026-12-01.
    const NOW: i64 = 1_796_083_200_000;

    #[test]
    fn recent_points_keep_their_partition_and_old_ones_share_a_bucket() {
        let key = |ts| partition_key(ts, H2, NOW);
        for ts in [NOW, NOW - 3_600_000, NOW - 20 * DAY_MS, NOW + 3_600_000] {
            assert_eq!(key(ts), ts.div_euclid(H2), "{ts}");
        }
        // Points of 1970 share a year bucket, as do those of last year.
        assert_eq!(key(1), 0);
        assert_eq!(key(1), key(YEAR_MS / 2));
        assert_ne!(key(1), key(YEAR_MS * 20));
        // Half a year ago: its week's bucket; three years ago, its year's (52 weeks).
        for (ago, width) in [(180, 7 * DAY_MS), (3 * 365, 364 * DAY_MS)] {
            let then = NOW - ago * DAY_MS;
            let start = then.div_euclid(width) * width;
            assert_eq!(key(then), start.div_euclid(H2), "{ago} days");
            assert_eq!(key(start + width - 1), key(then), "{ago} days");
            assert_ne!(key(start + width), key(then), "{ago} days");
        }
        // A far future is cut as coarsely as a far past.
        let y9999 = 253_402_300_799_999;
        assert_eq!(key(y9999), key(y9999 - 10 * YEAR_MS));
    }

    #[test]
    fn keys_never_decrease_and_stay_few_whatever_the_spread() {
        for pms in [1_000, H2, 7 * DAY_MS] {
            let mut last = i64::MIN;
            let mut keys = std::collections::BTreeSet::new();
            // Every 3 days from 1970 to 2200.
            let mut ts = 0;
            while ts < 230 * YEAR_MS {
                let k = partition_key(ts, pms, NOW);
                assert!(k >= last, "{ts}: {k} < {last}");
                assert!(k <= ts.div_euclid(pms));
                last = k;
                keys.insert(k);
                ts += 3 * DAY_MS;
            }
            // Partitions of the last weeks (a point every 3 days: about 17), weeks of the
            // years near the present (at most 4 years: 208), years of the wide buckets near
            // it (at most 3: 192), wide buckets (4 up to 2200).
            assert!(
                keys.len() <= 17 + 4 * 52 + 3 * 64 + 4,
                "{pms}: {}",
                keys.len()
            );
        }
    }

    #[test]
    fn the_present_is_the_newest_point_but_not_past_tomorrow() {
        assert_eq!(present(1_000, NOW), 1_000);
        assert_eq!(present(253_402_300_799_999, NOW), NOW + AHEAD_MS);
    }
}
