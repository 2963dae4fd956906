//! `--plot` (a Vigil extension): charts of measurements and statistics drawn by the real
//! `monasca` into a pipe (markers, no colour, 100 columns).

use vigil_testkit::{
    T0,
    chart::{Chart, instant},
};

use crate::common::Env;

/// Two points a minute for six minutes from T0 (at :00 and :30): web1 rising, web2 falling.
async fn seed(env: &Env) {
    let mut body = Vec::new();
    for i in 0..6i64 {
        let base = 10.0 * i as f64;
        for (host, first, second) in [
            ("web1", 10.0 + base, 20.0 + base),
            ("web2", 100.0 - base, 90.0 - base),
        ] {
            for (offset, value) in [(0, first), (30_000, second)] {
                body.push(serde_json::json!({"name": "cpu.idle_perc",
                    "dimensions": {"hostname": host},
                    "timestamp": T0 + i * 60_000 + offset, "value": value}));
            }
        }
    }
    let (status, _) = vigil_testkit::raw(
        http::Method::POST,
        &format!("{}/v2.0/metrics", env.url()),
        Some("acme"),
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 204);
}

/// `marker`'s line ends higher (a smaller row) than it starts when `rising`.
fn check_direction(chart: &Chart, series: &str, rising: bool) {
    let (left, right) = chart.edge_rows(chart.marker(series));
    assert_eq!(
        right < left,
        rising,
        "{series}: row {left} -> {right}\n{}",
        chart.text
    );
}

#[tokio::test]
async fn measurements_and_statistics_charts() {
    let env = Env::start().await;
    seed(&env).await;
    let web1 = r#"cpu.idle_perc{hostname="web1"}"#;
    let web2 = r#"cpu.idle_perc{hostname="web2"}"#;

    // One series per host (Monasca answers 409 for several metrics without a grouping).
    let list = [
        "measurement-list",
        "cpu.idle_perc",
        "2026-01-01T00:00:00Z",
        "--group_by",
        "hostname",
        "--plot",
    ];
    let chart = Chart::parse(&env.ok(&list).await);
    assert_eq!(chart.legend.len(), 2, "{}", chart.text);
    let mut markers = vec![chart.marker(web1), chart.marker(web2)];
    markers.sort_unstable();
    markers.dedup();
    assert_eq!(chart.markers_drawn(), markers, "{}", chart.text);
    check_direction(&chart, web1, true);
    check_direction(&chart, web2, false);
    assert_eq!(
        chart.times,
        [instant(T0), instant(T0 + 330_000)],
        "{}",
        chart.text
    );
    assert_eq!(chart.y_labels.first().map(String::as_str), Some("100"));
    assert_eq!(chart.y_labels.last().map(String::as_str), Some("10"));
    assert!(chart.text.lines().all(|l| l.chars().count() <= 100));
    assert!(!chart.text.contains('\x1b'));

    // One series per statistic and metric.
    let stats = [
        "metric-statistics",
        "cpu.idle_perc",
        "avg,max",
        "2026-01-01T00:00:00Z",
        "--period",
        "60",
        "--group_by",
        "hostname",
        "--plot",
    ];
    let chart = Chart::parse(&env.ok(&stats).await);
    let names = [
        format!("avg({web1})"),
        format!("max({web1})"),
        format!("avg({web2})"),
        format!("max({web2})"),
    ];
    let mut markers: Vec<char> = names.iter().map(|n| chart.marker(n)).collect();
    assert_eq!(chart.legend.len(), 4, "{}", chart.text);
    markers.sort_unstable();
    markers.dedup();
    assert_eq!(markers.len(), 4, "{}", chart.text);
    assert_eq!(chart.markers_drawn(), markers, "{}", chart.text);
    check_direction(&chart, &names[1], true);
    check_direction(&chart, &names[2], false);
    assert_eq!(
        chart.times,
        [instant(T0), instant(T0 + 300_000)],
        "{}",
        chart.text
    );
    assert_eq!(chart.y_labels.first().map(String::as_str), Some("100"));
    assert_eq!(chart.y_labels.last().map(String::as_str), Some("15"));

    // No data: one line, status 0.
    for args in [
        [
            "measurement-list",
            "nothing",
            "2026-01-01T00:00:00Z",
            "--plot",
        ]
        .as_slice(),
        [
            "metric-statistics",
            "nothing",
            "avg",
            "2026-01-01T00:00:00Z",
            "--plot",
        ]
        .as_slice(),
    ] {
        assert_eq!(env.ok(args).await, "no data to plot\n", "{args:?}");
    }
    // --plot replaces the output formatters: with one, a usage error (status 2).
    for extra in [["-j"].as_slice(), &["-f", "json"], &["-c", "name"]] {
        let mut args = list.to_vec();
        args.extend(extra);
        let o = env.run(&args).await;
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains("cannot be used with"), "{}", o.stderr);
        assert!(o.stdout.is_empty());
    }
}
