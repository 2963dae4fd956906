//! The `process_*` figures Prometheus client libraries export (CPU seconds, resident and
//! virtual memory, open and maximum file descriptors, start time), read from `/proc/self`
//! at each scrape. Elsewhere than Linux they are not registered.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::{counter::Counter, gauge::Gauge};

use crate::telemetry::Telemetry;

/// What `/proc/self` tells about this process.
#[derive(Debug, Default, PartialEq)]
struct ProcessFigures {
    cpu_seconds: f64,
    resident_bytes: i64,
    virtual_bytes: i64,
    start_time_seconds: f64,
}

/// Registers `process_*` figures (without the `vigil_` prefix, as every exporter names them).
pub fn register(telemetry: &mut Telemetry) {
    let Some(ticks) = clock_ticks() else {
        return;
    };
    let page = page_size();
    let boot = boot_time_seconds().unwrap_or(0.0);
    let cpu = Counter::<f64, AtomicU64>::default();
    let rss = Gauge::<i64>::default();
    let vsize = Gauge::<i64>::default();
    let start = Gauge::<f64, AtomicU64>::default();
    let open_fds = Gauge::<i64>::default();
    let max_fds = Gauge::<i64>::default();
    let root = telemetry.root_registry_mut();
    root.register(
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds",
        cpu.clone(),
    );
    root.register(
        "process_resident_memory_bytes",
        "Resident memory size in bytes",
        rss.clone(),
    );
    root.register(
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes",
        vsize.clone(),
    );
    root.register(
        "process_start_time_seconds",
        "Start time of the process since the Unix epoch in seconds",
        start.clone(),
    );
    root.register(
        "process_open_fds",
        "Number of open file descriptors",
        open_fds.clone(),
    );
    root.register(
        "process_max_fds",
        "Maximum number of open file descriptors",
        max_fds.clone(),
    );
    telemetry.before_scrape(move || {
        if let Some(f) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s, ticks, page, boot))
        {
            crate::telemetry::count_seconds_up_to(&cpu, f.cpu_seconds);
            rss.set(f.resident_bytes);
            vsize.set(f.virtual_bytes);
            start.set(f.start_time_seconds);
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            open_fds.set(i64::try_from(dir.count()).unwrap_or(i64::MAX));
        }
        if let Some(n) = max_open_files() {
            max_fds.set(n);
        }
    });
}

/// Parses `/proc/self/stat` (fields after the parenthesised command name, which may hold
/// spaces): utime 14, stime 15, starttime 22, vsize 23, rss 24 (in pages).
fn parse_stat(stat: &str, ticks: f64, page: i64, boot: f64) -> Option<ProcessFigures> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // `rest` starts at field 3 (state).
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    Some(ProcessFigures {
        cpu_seconds: (field(14)? + field(15)?) / ticks,
        start_time_seconds: boot + field(22)? / ticks,
        virtual_bytes: field(23)? as i64,
        resident_bytes: field(24)? as i64 * page,
    })
}

fn clock_ticks() -> Option<f64> {
    // USER_HZ is 100 on every Linux architecture Vigil builds for; /proc says so nowhere.
    cfg!(target_os = "linux").then_some(100.0)
}

fn page_size() -> i64 {
    // The `KernelPageSize` of the first mapping; 4 KiB otherwise.
    std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("KernelPageSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map_or(4096, |kb| kb * 1024)
}

fn boot_time_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn max_open_files() -> Option<i64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_stat_line_past_a_command_with_spaces() {
        let stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 \
                    8 0 5000 104857600 2560 18446744073709551615";
        let f = parse_stat(stat, 100.0, 4096, 1_700_000_000.0).unwrap();
        assert_eq!(
            f,
            ProcessFigures {
                cpu_seconds: 4.0,
                resident_bytes: 2560 * 4096,
                virtual_bytes: 104_857_600,
                start_time_seconds: 1_700_000_050.0,
            }
        );
    }
}
