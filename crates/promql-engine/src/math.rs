//! The numeric kernels, computed as Prometheus computes them (Kahan sums, its extrapolation,
//! its quantile interpolation) so results agree to the last bits where it matters.

/// Adds `v` to the compensated sum `(sum, c)`.
pub(crate) fn kahan_add(v: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + v;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= v.abs() {
        c + ((sum - t) + v)
    } else {
        c + ((v - t) + sum)
    };
    (t, c)
}

/// A mean as Prometheus 3 takes one: the compensated sum divided by the count while the sum
/// stays finite; once it would overflow, a running mean (each value's share added), so that
/// the mean of huge values is not ±Inf.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Mean {
    count: f64,
    sum: f64,
    c: f64,
    mean: f64,
    running: bool,
}

impl Mean {
    pub fn add(&mut self, v: f64) {
        self.count += 1.0;
        if !self.running {
            let (sum, c) = kahan_add(v, self.sum, self.c);
            if self.count == 1.0 || !sum.is_infinite() {
                (self.sum, self.c) = (sum, c);
                return;
            }
            self.running = true;
            self.mean = self.sum / (self.count - 1.0);
            self.c /= self.count - 1.0;
        }
        // An infinite mean stays: adding a finite value, or the same infinity, cannot move
        // it (and `Inf - Inf` would make it NaN).
        if self.mean.is_infinite()
            && ((v.is_infinite() && (self.mean > 0.0) == (v > 0.0)) || v.is_finite())
        {
            return;
        }
        let current = self.mean + self.c;
        (self.mean, self.c) = kahan_add(v / self.count - current / self.count, self.mean, self.c);
    }

    pub fn value(&self) -> f64 {
        if self.running {
            self.mean + self.c
        } else {
            (self.sum + self.c) / self.count
        }
    }
}

/// The mean of `values` ([`Mean`]).
pub(crate) fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let mut m = Mean::default();
    values.for_each(|v| m.add(v));
    m.value()
}

/// Label values in natural order, as `sort_by_label` sorts them: runs of digits compare as
/// numbers (`cpu2` before `cpu10`), other runs as text, and a value that runs out of runs
/// first comes first. Values that compare equal so (`01`, `1`) fall back to their bytes, so
/// that the order stays total.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, c) in s.char_indices().skip(1) {
            let prev_digit = s[..i]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_digit());
            if c.is_ascii_digit() != prev_digit {
                out.push(&s[start..i]);
                start = i;
            }
        }
        if !s.is_empty() {
            out.push(&s[start..]);
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(&rb) {
        let o = match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(m), Ok(n)) if x.bytes().all(|c| c.is_ascii_digit()) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    ra.len().cmp(&rb.len()).then_with(|| a.cmp(b))
}

/// The population variance, by Welford's method with compensated sums.
pub(crate) fn variance(values: impl Iterator<Item = f64>) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for v in values {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_add(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_add(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// The φ-quantile of `values`, interpolated between the closest ranks.
pub(crate) fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN ranks lowest, as in Prometheus's sort.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Least-squares slope (per second) and the intercept at `intercept_ms`.
pub(crate) fn linear_regression(points: &[(i64, f64)], intercept_ms: i64) -> (f64, f64) {
    let n = points.len() as f64;
    let first = points.first().map_or(0.0, |p| p.1);
    if points.iter().all(|p| p.1 == first) {
        if first.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first);
    }
    let (mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    for &(ts, y) in points {
        let x = (ts - intercept_ms) as f64 / 1000.0;
        (sx, cx) = kahan_add(x, sx, cx);
        (sy, cy) = kahan_add(y, sy, cy);
        (sxy, cxy) = kahan_add(x * y, sxy, cxy);
        (sx2, cx2) = kahan_add(x * x, sx2, cx2);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov_xy = sxy - sx * sy / n;
    let var_x = sx2 - sx * sx / n;
    let slope = cov_xy / var_x;
    (slope, sy / n - slope * sx / n)
}

/// `rate`, `increase` and `delta`: the change over `(from, to]`, extrapolated to the
/// window's edges (but not past half a sample interval beyond the first and last points, nor
/// below zero for counters), per second for `rate`.
pub(crate) fn extrapolated_rate(
    p: &[(i64, f64)],
    from: i64,
    to: i64,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    let [first, .., last] = p else { return None };
    let mut change = last.1 - first.1;
    if counter {
        for w in p.windows(2) {
            if w[1].1 < w[0].1 {
                change += w[0].1;
            }
        }
    }
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let mut to_start = (first.0 - from) as f64 / 1000.0;
    let mut to_end = (to - last.0) as f64 / 1000.0;
    let average_gap = sampled / (p.len() - 1) as f64;
    let threshold = average_gap * 1.1;
    if to_start >= threshold {
        to_start = average_gap / 2.0;
    }
    if counter && change > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / change);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average_gap / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if per_second {
        factor /= (to - from) as f64 / 1000.0;
    }
    Some(change * factor)
}

/// Whether `a` and `b` differ by less than `epsilon` relatively (absolutely near zero); NaN
/// equals NaN.
pub(crate) fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Bucket counts closer than this (relatively) are rounding noise, not a decrease.
const BUCKET_NOISE: f64 = 1e-12;

/// The φ-quantile of a classic histogram's `(upper bound, cumulative count)` buckets,
/// interpolated linearly inside the bucket it falls in, as `histogram_quantile` does; and
/// whether a count going down had to be raised to the one before (Prometheus 3 says so in
/// an info).
pub(crate) fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return (f64::NAN, false);
    }
    // Buckets of one bound add up.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for (bound, count) in buckets {
        match merged.last_mut() {
            Some(last) if last.0 == bound => last.1 += count,
            _ => merged.push((bound, count)),
        }
    }
    // Counts never go down (a scrape may see them out of step): a lower one, or one within
    // rounding noise of the count before, takes that count.
    let mut forced = false;
    let mut prev = merged[0].1;
    for b in &mut merged[1..] {
        if b.1 == prev {
            continue;
        }
        if almost_equal(prev, b.1, BUCKET_NOISE) {
            b.1 = prev;
        } else if b.1 < prev {
            b.1 = prev;
            forced = true;
        } else {
            prev = b.1;
        }
    }
    let n = merged.len();
    if n < 2 {
        return (f64::NAN, false);
    }
    let observations = merged[n - 1].1;
    if observations == 0.0 {
        return (f64::NAN, false);
    }
    let mut rank = q * observations;
    let b = merged[..n - 1].partition_point(|x| x.1 < rank);
    if b == n - 1 {
        return (merged[n - 2].0, forced);
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return (merged[0].0, forced);
    }
    let (mut start, end, mut count) = (0.0, merged[b].0, merged[b].1);
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    (start + (end - start) * (rank / count), forced)
}

/// Holt's double exponential smoothing of the values (`double_exponential_smoothing`, once
/// `holt_winters`): the smoothed level after the last point, with smoothing factor `sf` and
/// trend factor `tf`.
pub(crate) fn double_smoothing(p: &[(i64, f64)], sf: f64, tf: f64) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (mut previous, mut level) = (0.0, p[0].1);
    let mut trend = p[1].1 - p[0].1;
    for (i, &(_, v)) in p.iter().enumerate().skip(1) {
        if i > 1 {
            trend = tf * (level - previous) + (1.0 - tf) * trend;
        }
        let next = sf * v + (1.0 - sf) * (level + trend);
        previous = level;
        level = next;
    }
    Some(level)
}

/// The element-wise math functions by name.
pub(crate) fn elementwise(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sqrt" => f64::sqrt,
        "sgn" => |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        },
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => f64::to_degrees,
        "rad" => f64::to_radians,
        _ => return None,
    })
}

/// A calendar field (UTC) of the time `secs` seconds since the epoch.
pub(crate) fn date_part(name: &str, secs: f64) -> f64 {
    let secs = secs.floor() as i64;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (y, m, d) = metric_store::civil_from_days(days);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (match name {
        "minute" => of_day / 60 % 60,
        "hour" => of_day / 3600,
        "day_of_month" => d,
        // 1970-01-01 was a Thursday (4).
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_year" => month_days[..(m - 1) as usize].iter().sum::<i64>() + d,
        "days_in_month" => month_days[(m - 1) as usize],
        "month" => m,
        _ => y,
    }) as f64
}

/// A sample value as the Prometheus API writes it (Go's shortest `'f'` format).
pub fn format_value(v: f64) -> String {
    ValueText(v).to_string()
}

/// [`format_value`] without the allocation, for writers of many values.
#[derive(Clone, Copy, Debug)]
pub struct ValueText(pub f64);

impl std::fmt::Display for ValueText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str("NaN")
        } else if v == f64::INFINITY {
            f.write_str("+Inf")
        } else if v == f64::NEG_INFINITY {
            f.write_str("-Inf")
        } else {
            write!(f, "{v}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let t = 1_709_214_300.0;
        assert_eq!(date_part("year", t), 2024.0);
        assert_eq!(date_part("month", t), 2.0);
        assert_eq!(date_part("day_of_month", t), 29.0);
        assert_eq!(date_part("days_in_month", t), 29.0);
        assert_eq!(date_part("day_of_year", t), 60.0);
        assert_eq!(date_part("day_of_week", t), 4.0);
        assert_eq!(date_part("hour", t), 13.0);
        assert_eq!(date_part("minute", t), 45.0);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(0.5, vec![1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(quantile(0.0, vec![3.0, 1.0]), 1.0);
        assert_eq!(quantile(2.0, vec![1.0]), f64::INFINITY);
    }

    #[test]
    fn bucket_quantiles() {
        let b = vec![(0.5, 5.0), (0.1, 2.0), (f64::INFINITY, 7.0), (1.0, 6.0)];
        assert!((bucket_quantile(0.5, b.clone()).0 - 0.3).abs() < 1e-12);
        // Past the last finite bucket: its bound.
        assert_eq!(bucket_quantile(0.99, b.clone()), (1.0, false));
        assert!(bucket_quantile(0.5, vec![(1.0, 3.0)]).0.is_nan());
        assert_eq!(bucket_quantile(-1.0, b), (f64::NEG_INFINITY, false));
        // A count going down is raised, and said so; rounding noise is evened out silently.
        let down = vec![(1.0, 4.0), (2.0, 3.0), (f64::INFINITY, 4.0)];
        assert_eq!(bucket_quantile(0.5, down), (0.5, true));
        let noise = vec![(1.0, 4.0), (2.0, 4.0 * (1.0 + 1e-14)), (f64::INFINITY, 4.0)];
        assert_eq!(bucket_quantile(0.5, noise), (0.5, false));
    }

    #[test]
    fn values_print_as_go_does() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(1e21), "1000000000000000000000");
    }
}
