//! The alarm side of the benchmark: `alarms` creates definitions over the fleet,
//! `alarm-count` counts what the threshold engine made of them, `crossing` times a value's way
//! to ALARM.

use super::*;

/// One alarm definition of the benchmark, and what it matches in the fleet.
struct BenchDefinition {
    name: String,
    expression: String,
    /// (name index, host index) of every series it matches.
    series: Vec<(usize, usize)>,
}

/// The benchmark's alarm definitions, all `match_by: ["hostname"]` with thresholds the fleet
/// never crosses, in two kinds a Monasca operator typically has:
///
/// * fleet-wide rules, one per (metric name, service):
///   `avg(NAME{service=svc-S}) > 1000000000`; each matches the NAME series of the hosts of
///   service S (100 with 1,000 hosts) and makes an alarm per host. There are
///   `min(n / 10, names x services)` of them (100 of 1,000), which together cover every series.
/// * host-specific rules for the rest: `max(NAME{hostname=host-H}) > 1000000000`, definition
///   `j` on name `j % names` of host `j / names` (900 of 1,000: hosts 0..89, every name), one
///   series and one alarm each.
///
/// With the default fleet and 1,000 definitions that is every one of the 10,000 series matched,
/// 10,900 (definition, series) pairs and so 10,900 alarms, and 100 definitions watching each
/// metric name (the fan-out the engine's per-name index sees for every sample).
fn bench_definitions(f: Fleet, n: usize, prefix: &str) -> Vec<BenchDefinition> {
    let services = SERVICES.min(f.hosts).max(1);
    let fleet_wide = (n / 10).min(f.names * services);
    let mut defs = Vec::with_capacity(n);
    for i in 0..n {
        let (expression, series) = if i < fleet_wide {
            let (k, s) = (i % f.names, (i / f.names) % services);
            (
                format!("avg({}{{service=svc-{s}}}) > {NEVER}", metric_name(k)),
                (0..f.hosts)
                    .filter(|h| h % SERVICES == s)
                    .map(|h| (k, h))
                    .collect(),
            )
        } else {
            let j = i - fleet_wide;
            let (k, h) = (j % f.names, (j / f.names) % f.hosts);
            (
                format!(
                    "max({}{{hostname={}}}) > {NEVER}",
                    metric_name(k),
                    host_name(h)
                ),
                vec![(k, h)],
            )
        };
        defs.push(BenchDefinition {
            name: format!("{prefix}-{i:04}"),
            expression,
            series,
        });
    }
    defs
}

/// POSTs an alarm definition; its id.
async fn create_definition(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    name: &str,
    expression: &str,
    action: Option<&str>,
) -> Result<String> {
    let url = format!("{base}/v2.0/alarm-definitions");
    let mut body = serde_json::json!({
        "name": name,
        "expression": expression,
        "match_by": ["hostname"],
    });
    if let Some(m) = action {
        body["alarm_actions"] = serde_json::json!([m]);
        body["ok_actions"] = serde_json::json!([m]);
    }
    post_created(c, &url, tenant, &body, &format!("{name}: {expression}")).await
}

/// POSTs `body` to `url` as `tenant`, expecting 201 and an `id`; `what` names it in errors.
pub(crate) async fn post_created(
    c: &reqwest::Client,
    url: &str,
    tenant: &str,
    body: &Value,
    what: &str,
) -> Result<String> {
    let r = c
        .post(url)
        .header("X-Auth-Token", tenant)
        .json(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = r.status();
    let text = r.bytes().await?;
    ensure!(
        status.as_u16() == 201,
        "POST {url} ({what}): {status}: {}",
        String::from_utf8_lossy(&text)
            .chars()
            .take(500)
            .collect::<String>()
    );
    let v: Value = serde_json::from_slice(&text).with_context(|| format!("{what}: not JSON"))?;
    v["id"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{what}: no id"))
}

pub(crate) async fn alarms(a: AlarmsArgs) -> Result<()> {
    let f = a.fleet;
    ensure!(f.names * f.hosts > 0, "the fleet is empty");
    let base = a.target.url.trim_end_matches('/').to_string();
    let defs = bench_definitions(f, a.definitions, &a.prefix);
    let fleet_wide = defs.iter().filter(|d| d.series.len() > 1).count();
    let pairs: usize = defs.iter().map(|d| d.series.len()).sum();
    let covered: std::collections::BTreeSet<(usize, usize)> =
        defs.iter().flat_map(|d| d.series.iter().copied()).collect();

    let c = client()?;
    let action = match &a.webhook {
        Some(url) => Some(
            crate::notifying::create_webhook(&c, &base, &a.target.tenant, &a.prefix, url).await?,
        ),
        None => None,
    };
    let mut lat = Vec::with_capacity(defs.len());
    let start = Instant::now();
    for d in &defs {
        let t = Instant::now();
        create_definition(
            &c,
            &base,
            &a.target.tenant,
            &d.name,
            &d.expression,
            action.as_deref(),
        )
        .await?;
        lat.push(t.elapsed());
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let (p50, p99) = (ms(pct(&lat, 0.50)), ms(pct(&lat, 0.99)));
    let per_s = defs.len() as f64 / secs;

    println!(
        "alarm definitions: {} (match_by hostname, thresholds never crossed)",
        defs.len()
    );
    let mut rows = Vec::new();
    if let Some(d) = defs.first() {
        rows.push(row([
            &format!("fleet-wide ({fleet_wide})"),
            &format!("e.g. {}: {}", d.name, d.expression),
        ]));
    }
    if let Some(d) = defs.get(fleet_wide) {
        rows.push(row([
            &format!("host-specific ({})", defs.len() - fleet_wide),
            &format!("e.g. {}: {}", d.name, d.expression),
        ]));
    }
    rows.extend([
        row([
            "series matched",
            &format!(
                "{} of {} distinct; {} (definition, series) pairs = alarms expected",
                group(covered.len() as f64),
                group((f.names * f.hosts) as f64),
                group(pairs as f64)
            ),
        ]),
        row([
            "created in",
            &format!(
                "{secs:.2} s = {} definitions/s (POST p50 {p50:.2} ms, p99 {p99:.2} ms)",
                group(per_s)
            ),
        ]),
    ]);
    print_table(&["", ""], &rows, 2);

    if let Some(path) = &a.summary {
        let s = format!(
            "definitions={}\nfleet_wide={fleet_wide}\nhost_specific={}\nseries={}\n\
             expected_alarms={pairs}\nseconds={secs:.4}\nper_s={per_s:.0}\np50_ms={p50:.2}\n\
             p99_ms={p99:.2}\n",
            defs.len(),
            defs.len() - fleet_wide,
            covered.len(),
        );
        std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

pub(crate) async fn alarm_count(a: AlarmCountArgs) -> Result<()> {
    let base = a.target.url.trim_end_matches('/').to_string();
    let c = client()?;
    let url = format!("{base}/v2.0/alarms?limit=10000");
    let (list_time, pages, els) = fetch_all(&c, &a.target.tenant, &url).await?;
    let mut by_state: std::collections::BTreeMap<String, usize> = Default::default();
    for el in &els {
        let s = el["state"].as_str().context("alarm without a state")?;
        *by_state.entry(s.to_string()).or_default() += 1;
    }

    let count_url = format!("{base}/v2.0/alarms/count");
    let t = Instant::now();
    let r = c
        .get(&count_url)
        .header("X-Auth-Token", &a.target.tenant)
        .send()
        .await
        .with_context(|| format!("GET {count_url}"))?;
    let status = r.status();
    let body = r.bytes().await?;
    let count_time = t.elapsed();
    ensure!(status.is_success(), "GET {count_url}: {status}");
    let v: Value = serde_json::from_slice(&body).context("alarm count: not JSON")?;
    let counted = v["counts"][0][0]
        .as_u64()
        .context("alarm count: no counts[0][0]")? as usize;

    let states = by_state
        .iter()
        .map(|(s, n)| format!("{s} {}", group(*n as f64)))
        .collect::<Vec<_>>()
        .join(", ");
    println!("alarms of tenant {}", a.target.tenant);
    let rows = vec![
        row([
            "GET /v2.0/alarms?limit=10000",
            &format!(
                "{} alarms ({states}) in {pages} page{}, {:.1} ms",
                group(els.len() as f64),
                if pages == 1 { "" } else { "s" },
                ms(list_time)
            ),
        ]),
        row([
            "GET /v2.0/alarms/count",
            &format!("{} alarms, {:.1} ms", group(counted as f64), ms(count_time)),
        ]),
    ];
    print_table(&["", ""], &rows, 2);
    ensure!(
        counted == els.len(),
        "/v2.0/alarms/count says {counted}, the list has {}",
        els.len()
    );
    if let Some(path) = &a.summary {
        let mut s = format!(
            "alarms={}\ncount={counted}\nlist_ms={:.1}\ncount_ms={:.1}\nstates={}\n",
            els.len(),
            ms(list_time),
            ms(count_time),
            states
        );
        for (st, n) in &by_state {
            let _ = writeln!(s, "state_{st}={n}");
        }
        std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(want) = a.expect {
        ensure!(els.len() == want, "{} alarms, expected {want}", els.len());
    }
    Ok(())
}

/// The states of the alarms of a definition.
async fn alarm_states(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    def: &str,
) -> Result<Vec<String>> {
    let url = format!("{base}/v2.0/alarms?alarm_definition_id={def}");
    let (_, _, els) = fetch_all(c, tenant, &url).await?;
    els.iter()
        .map(|e| {
            e["state"]
                .as_str()
                .map(str::to_string)
                .context("alarm without a state")
        })
        .collect()
}

pub(crate) async fn crossing(a: CrossingArgs) -> Result<()> {
    ensure!(a.runs > 0, "--runs must be positive");
    let base = a.target.url.trim_end_matches('/').to_string();
    let tenant = a.target.tenant.as_str();
    let c = client()?;
    let poll = Duration::from_millis(a.poll_ms);
    let timeout = Duration::from_secs(a.timeout_s);
    // Names and hosts unique to this invocation, so that it can run again on the same server.
    let nonce = jiff::Timestamp::now().as_millisecond();
    let mut delays = Vec::with_capacity(a.runs);
    let mut posts = Vec::with_capacity(a.runs);
    let mut gets = Vec::new();
    let mut first_poll = 0;
    for i in 0..a.runs {
        let host = format!("cross-{nonce}-{i:03}");
        let expr = format!("max(bench.crossing{{hostname={host}}}) > 50");
        let def = create_definition(
            &c,
            &base,
            tenant,
            &format!("crossing-{nonce}-{i:03}"),
            &expr,
            None,
        )
        .await?;
        // Below the threshold: creates the alarm, which max cannot yet decide.
        crate::notifying::post_values(
            &c,
            &base,
            tenant,
            "bench.crossing",
            std::slice::from_ref(&host),
            10.0,
        )
        .await?;
        let t = Instant::now();
        loop {
            let states = alarm_states(&c, &base, tenant, &def).await?;
            if let [s] = states.as_slice() {
                ensure!(
                    s != "ALARM",
                    "{host}: ALARM before the threshold was crossed"
                );
                break;
            }
            ensure!(states.len() <= 1, "{host}: {} alarms", states.len());
            ensure!(t.elapsed() < timeout, "{host}: no alarm after {timeout:?}");
            tokio::time::sleep(poll).await;
        }
        // Above it: the clock runs from sending the value to seeing ALARM.
        let t = Instant::now();
        crate::notifying::post_values(
            &c,
            &base,
            tenant,
            "bench.crossing",
            std::slice::from_ref(&host),
            100.0,
        )
        .await?;
        posts.push(t.elapsed());
        let mut polls = 0;
        loop {
            let g = Instant::now();
            let states = alarm_states(&c, &base, tenant, &def).await?;
            gets.push(g.elapsed());
            polls += 1;
            if states.iter().any(|s| s == "ALARM") {
                delays.push(t.elapsed());
                if polls == 1 {
                    first_poll += 1;
                }
                break;
            }
            ensure!(
                t.elapsed() < timeout,
                "{host}: not ALARM {timeout:?} after the crossing ({states:?})"
            );
            tokio::time::sleep(poll).await;
        }
    }
    delays.sort();
    posts.sort();
    gets.sort();
    let (p50, p99, max) = (
        ms(pct(&delays, 0.50)),
        ms(pct(&delays, 0.99)),
        ms(pct(&delays, 1.0)),
    );
    println!(
        "crossing: {} runs of `max(bench.crossing{{hostname=H}}) > 50` (match_by hostname), \
         value 10 then 100, polled every {} ms",
        a.runs, a.poll_ms
    );
    let rows = vec![
        row([
            "value 100 sent -> ALARM seen",
            &format!("median {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms"),
        ]),
        row([
            "  POST of the value",
            &format!("median {:.1} ms", ms(pct(&posts, 0.50))),
        ]),
        row([
            "  GET /v2.0/alarms?alarm_definition_id (a poll)",
            &format!("median {:.1} ms", ms(pct(&gets, 0.50))),
        ]),
        row([
            "ALARM on the first poll",
            &format!("{first_poll} of {} runs", a.runs),
        ]),
    ];
    print_table(&["", ""], &rows, 2);
    if let Some(path) = &a.summary {
        let s = format!(
            "runs={}\np50_ms={p50:.2}\np99_ms={p99:.2}\nmax_ms={max:.2}\npost_p50_ms={:.2}\n\
             get_p50_ms={:.2}\nfirst_poll={first_poll}\n",
            a.runs,
            ms(pct(&posts, 0.50)),
            ms(pct(&gets, 0.50))
        );
        std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// helpers
