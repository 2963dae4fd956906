//! How many alarm expressions per second `alarm_expr::parse` gets through.
//!
//! ```sh
//! cargo run --release -p alarm-expr --example parse_rate [ROUNDS]
//! ```
//!
//! Parses a set of realistic expressions ROUNDS times (default 20000) and prints the rate, plus
//! the rate of printing them back.

use std::hint::black_box;
use std::time::Instant;

const EXPRESSIONS: &[&str] = &[
    "avg(cpu.idle_perc{hostname=web1}) < 10",
    "cpu.system_perc{hostname=host.domain.com} > 95",
    "avg(cpu.system_perc{hostname=host.domain.com}, 120) > 95 times 3",
    "max(disk.space_used_perc{service=monitoring, mount_point=/}) > 90",
    "avg(cpu.idle_perc{service=monitoring}) < 10 or avg(cpu.user_perc{service=monitoring}) > 60",
    "count(log.error{component=mysql}, deterministic) >= 1",
    "count(log.error{hostname=compute_node_1,component=kafka},deterministic) >= 1 and \
     avg(disk.space_used_perc{hostname=compute_node_1},deterministic) >= 99",
    "max(http_status{url=http://192.168.10.4:5000/v2.0, service=identity}, 60) > 0 times 3",
    "min(mem.usable_perc{hostname=db-01.example.org}) lt 5 and last(process.pid_count{process_name=mysqld}) lte 0",
    "sum(net.in_bytes_sec{device=eth0}, 300) gte 1048576.5 times 2 || \
     (avg(net.out_bytes_sec{device=eth0}, 300) > 1048576 && max(net.in_errors_sec{device=eth0}) > 0)",
    "ntp.offset > 1 or ntp.offset < -5",
    "avg(vm.cpu.utilization_perc{resource_id=5c7a2f4e-3c0e-4a60-9e1b-7f0b3c2d1e90, tenant_id=abc}) > 80 times 5",
];

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);

    // Every expression must parse; show the normalized form once.
    let mut parsed = Vec::with_capacity(EXPRESSIONS.len());
    for text in EXPRESSIONS {
        match alarm_expr::parse(text) {
            Ok(expr) => parsed.push(expr),
            Err(err) => {
                eprintln!("{err}\n{}", err.render(text));
                std::process::exit(1);
            }
        }
    }
    for expr in &parsed {
        println!("{expr}");
    }

    let bytes: usize = EXPRESSIONS.iter().map(|e| e.len()).sum();
    let start = Instant::now();
    let mut subs = 0usize;
    for _ in 0..rounds {
        for text in EXPRESSIONS {
            if let Ok(expr) = alarm_expr::parse(black_box(text)) {
                subs += black_box(expr).sub_expressions().len();
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let count = (rounds * EXPRESSIONS.len()) as f64;
    println!(
        "\nparse: {count:.0} expressions ({subs} sub-expressions) in {elapsed:.3} s: {:.0} expressions/s, {:.1} MB/s",
        count / elapsed,
        (rounds * bytes) as f64 / elapsed / 1e6,
    );

    let start = Instant::now();
    let mut len = 0usize;
    for _ in 0..rounds {
        for expr in &parsed {
            len += black_box(expr).to_string().len();
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "print: {count:.0} expressions ({len} bytes) in {elapsed:.3} s: {:.0} expressions/s",
        count / elapsed
    );
}
