//! Retry delays: exponential from a base, capped, with full jitter (a uniform draw between
//! zero and the cap of the attempt), so receivers that fail together are not retried in step.

/// The delay before retry number `failed` (1 after the first failure), ms: uniform in
/// `[0, min(max, base * 2^(failed-1))]`, and at least 1 ms.
pub fn retry_delay_ms(base_ms: u64, max_ms: u64, failed: u32) -> u64 {
    let ceiling = ceiling_ms(base_ms, max_ms, failed);
    fastrand::u64(1..=ceiling.max(1))
}

/// The upper bound of [`retry_delay_ms`].
pub fn ceiling_ms(base_ms: u64, max_ms: u64, failed: u32) -> u64 {
    let doublings = failed.saturating_sub(1).min(63);
    base_ms.saturating_mul(1u64 << doublings).min(max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_maximum() {
        let c: Vec<u64> = (1..=6).map(|n| ceiling_ms(500, 5_000, n)).collect();
        assert_eq!(c, [500, 1_000, 2_000, 4_000, 5_000, 5_000]);
        assert_eq!(ceiling_ms(500, 300_000, 200), 300_000);
    }

    #[test]
    fn delays_stay_within_their_ceiling_and_vary() {
        let drawn: Vec<u64> = (0..200).map(|_| retry_delay_ms(500, 5_000, 3)).collect();
        assert!(drawn.iter().all(|d| (1..=2_000).contains(d)));
        assert!(drawn.iter().any(|d| *d != drawn[0]));
        assert_eq!(retry_delay_ms(0, 0, 1), 1);
    }
}
