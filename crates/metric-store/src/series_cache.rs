//! How many series the ingest path keeps shared keys for. A known series costs a hash and a
//! reference count; a series outside the caches costs building its key (seven allocations),
//! hashing it twice and freeing it, about twice the CPU of the whole write. A fleet bigger than
//! the caches misses on every sample, so their size follows the machine's memory, as the
//! series a server holds do, rather than a fixed count.

use std::sync::OnceLock;

/// Bytes a cached series costs at most: its shared key (~0.7 KiB with two dimensions, mostly
/// the dimension map's node) and the store's entry finding its id from the key's address.
const BYTES_PER_SERIES: u64 = 1024;
/// The share of the memory the caches may take when full.
const MEMORY_SHARE: u64 = 32;
const MIN_SERIES: usize = 1 << 15;
const MAX_SERIES: usize = 1 << 23;
/// Assumed when neither `/proc/meminfo` nor a cgroup limit can be read.
const FALLBACK_MEMORY: u64 = 4 << 30;

/// The series whose keys the ingest path shares (and whose ids the embedded store finds from
/// the key's address): `VIGIL_SERIES_CACHE` when set, else a thirty-second of the memory
/// (the smaller of the machine's and its cgroup's limit) at 1 KiB a series, within 32 Ki to
/// 8 Mi series: 24 GiB gives ~786,000. Memory is taken only as series arrive.
pub fn series_cache_capacity() -> usize {
    static CAPACITY: OnceLock<usize> = OnceLock::new();
    *CAPACITY.get_or_init(|| {
        let set = std::env::var("VIGIL_SERIES_CACHE")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok());
        match set {
            Some(n) => n.max(1024),
            None => capacity_for_memory(memory_bytes().unwrap_or(FALLBACK_MEMORY)),
        }
    })
}

fn capacity_for_memory(bytes: u64) -> usize {
    let n = bytes / MEMORY_SHARE / BYTES_PER_SERIES;
    usize::try_from(n)
        .unwrap_or(MAX_SERIES)
        .clamp(MIN_SERIES, MAX_SERIES)
}

/// The machine's memory, or its cgroup's limit when that is lower (a container).
fn memory_bytes() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| meminfo_total(&s));
    let limit = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok());
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

fn meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_memory_within_bounds() {
        assert_eq!(capacity_for_memory(24 << 30), 786_432);
        assert_eq!(capacity_for_memory(512 << 20), MIN_SERIES);
        assert_eq!(capacity_for_memory(u64::MAX), MAX_SERIES);
        assert!(series_cache_capacity() >= 1024);
    }

    #[test]
    fn reads_meminfo() {
        let s = "MemTotal:       24676112 kB\nMemFree:        1 kB\n";
        assert_eq!(meminfo_total(s), Some(24_676_112 * 1024));
        assert_eq!(meminfo_total("MemFree: 1 kB\n"), None);
        assert_eq!(meminfo_total("MemTotal: lots kB\n"), None);
    }
}
