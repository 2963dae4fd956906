//! `--plot`: charts of what the server holds, drawn by the real `sdc` into a pipe (markers,
//! no colour, 100 columns).

use vigil_testkit::chart::{Chart, instant};

use crate::common::Env;

/// Posts `cpu.used.percent` for web1 (rising 10, 20, ...) and web2 (falling 60, 50, ...) once
/// a minute for six minutes, the last at `end_s`, into project `tenant`.
async fn post_minutes(env: &Env, tenant: &str, end_s: i64) {
    let mut body = Vec::new();
    for i in 0..6i64 {
        let ms = (end_s - (5 - i) * 60) * 1000;
        for (host, value) in [
            ("web1", 10.0 * (i + 1) as f64),
            ("web2", 60.0 - 10.0 * i as f64),
        ] {
            body.push(serde_json::json!({"name": "cpu.used.percent",
                "dimensions": {"hostname": host}, "timestamp": ms, "value": value}));
        }
    }
    let (status, _) = vigil_testkit::raw(
        http::Method::POST,
        &format!("{}/v2.0/metrics", env.url()),
        Some(tenant),
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 204);
}

/// web1 rises and web2 falls, each in its own marker, named in the legend.
fn check_two_hosts(chart: &Chart, web1: &str, web2: &str) {
    let (up, down) = (chart.marker(web1), chart.marker(web2));
    assert_ne!(up, down, "{}", chart.text);
    assert_eq!(chart.legend.len(), 2, "{}", chart.text);
    let mut expected = vec![up, down];
    expected.sort_unstable();
    assert_eq!(chart.markers_drawn(), expected, "{}", chart.text);
    let (left, right) = chart.edge_rows(up);
    assert!(
        right < left,
        "web1 rises: row {left} -> {right}\n{}",
        chart.text
    );
    let (left, right) = chart.edge_rows(down);
    assert!(
        right > left,
        "web2 falls: row {left} -> {right}\n{}",
        chart.text
    );
}

#[tokio::test]
async fn promql_and_data_charts() {
    let env = Env::start_reading("plot-demo").await;
    // Whole minutes, so that the data API's minute samples line up with the points.
    let end = jiff::Timestamp::now().as_second() / 60 * 60;
    post_minutes(&env, "plot-demo", end).await;
    let (start_s, end_s) = ((end - 300).to_string(), end.to_string());

    let range = [
        "promql",
        "range",
        "cpu:used:percent",
        "--start",
        &start_s,
        "--end",
        &end_s,
        "--step",
        "60",
        "--plot",
    ];
    let chart = Chart::parse(&env.ok(&range).await);
    check_two_hosts(
        &chart,
        r#"cpu:used:percent{hostname="web1"}"#,
        r#"cpu:used:percent{hostname="web2"}"#,
    );
    assert_eq!(
        chart.times,
        [instant((end - 300) * 1000), instant(end * 1000)],
        "{}",
        chart.text
    );
    assert_eq!(chart.y_labels.first().map(String::as_str), Some("60"));
    assert_eq!(chart.y_labels.last().map(String::as_str), Some("10"));
    // Not on a terminal: 100 columns at most, no colour.
    assert!(chart.text.lines().all(|l| l.chars().count() <= 100));
    assert!(!chart.text.contains('\x1b'));

    // A range selector in an instant query is a matrix too.
    let chart = Chart::parse(
        &env.ok(&[
            "promql",
            "query",
            "cpu:used:percent[10m]",
            "--time",
            &end_s,
            "--plot",
        ])
        .await,
    );
    check_two_hosts(
        &chart,
        r#"cpu:used:percent{hostname="web1"}"#,
        r#"cpu:used:percent{hostname="web2"}"#,
    );
    assert_eq!(
        chart.times,
        [instant((end - 300) * 1000), instant(end * 1000)]
    );

    // An instant vector has no time axis: one line, status 1.
    let err = env
        .fails(
            1,
            &[
                "promql",
                "query",
                "cpu:used:percent",
                "--time",
                &end_s,
                "--plot",
            ],
        )
        .await;
    assert!(
        err.contains("--plot draws range vectors") && err.contains("instant vector"),
        "{err}"
    );
    // Nothing matched: one line, status 0.
    let none = [
        "promql",
        "range",
        "no_such_metric",
        "--start",
        &start_s,
        "--end",
        &end_s,
        "--plot",
    ];
    assert_eq!(env.ok(&none).await, "no data to plot\n");
    let empty = ["promql", "query", "no_such_metric", "--plot"];
    assert_eq!(env.ok(&empty).await, "no data to plot\n");
    // --plot with --json or --csv is a usage error.
    for format in ["--json", "--csv"] {
        let mut args = range.to_vec();
        args.push(format);
        let o = env.run(&args).await;
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains("cannot be used with"), "{}", o.stderr);
        assert!(o.stdout.is_empty());
    }

    // The data API: a sample a minute, one line per host.
    let data = [
        "data",
        "query",
        "--metric",
        "cpu.used.percent:timeAvg:avg",
        "--key",
        "hostname",
        "--last",
        "600",
        "--sampling",
        "60",
        "--plot",
    ];
    let chart = Chart::parse(&env.ok(&data).await);
    check_two_hosts(
        &chart,
        r#"cpu.used.percent:timeAvg:avg{hostname="web1"}"#,
        r#"cpu.used.percent:timeAvg:avg{hostname="web2"}"#,
    );
    assert_eq!(chart.times.len(), 2, "{}", chart.text);
    assert!(chart.times[0] < chart.times[1], "{}", chart.text);
    let mut with_json = data.to_vec();
    with_json.push("--json");
    assert_eq!(env.run(&with_json).await.code, 2);
    let none = ["data", "query", "--metric", "nothing.here", "--plot"];
    assert_eq!(env.ok(&none).await, "no data to plot\n");
}
