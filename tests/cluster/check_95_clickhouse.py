"""ClickHouse (every measurement) killed (SIGKILL) under load, kept down for 30 s and started
again: meanwhile metric writes and every metric read are 503s in the Monasca error shape on
every node and through the proxy (nothing is spooled: a 204 means ClickHouse took it), never a
500 and never slower than the timeout, while what lives in PostgreSQL (definitions) is still
served; afterwards both nodes serve again by themselves (same processes), and every
measurement acknowledged before or after the outage is listed on both."""

import time

from clusterlib import (LB, NODES, TIMEOUT_S, Writer, call, check, ctl, during_outage,
                        elements, is_monasca_error, login, node_pids, recovers, url)

OUTAGE_S = 30
token = login()
RUN = str(int(time.time()))
NAME = f"cluster.ch.{RUN}"
START = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
pids = node_pids()
one = [{"name": NAME, "dimensions": {"writer": "probe"}, "timestamp": int(time.time() * 1000),
        "value": 1.0}]

with Writer(LB, token, NAME, threads=2, pause=0.05) as w:
    w.wait_acks(20, 20, "before the outage")
    ctl("ch-stop")
    t_stop = time.monotonic()
    probes = [
        ("metric-create", "POST", "/v2.0/metrics", token, one, 503),
        ("metric-list", "GET", "/v2.0/metrics", token, None, 503),
        ("measurement-list", "GET", url("", "/v2.0/metrics/measurements", name=NAME,
                                        start_time=START, merge_metrics="true"), token, None,
         503),
        ("statistics", "GET", url("", "/v2.0/metrics/statistics", name=NAME, start_time=START,
                                  statistics="avg", merge_metrics="true"), token, None, 503),
        ("metric-name-list", "GET", "/v2.0/metrics/names", token, None, 503),
        ("dimension-value-list", "GET", url("", "/v2.0/metrics/dimensions/names/values",
                                            dimension_name="writer"), token, None, 503),
        ("alarm-definition-list (PostgreSQL)", "GET", "/v2.0/alarm-definitions", token, None,
         200),
    ]
    n = during_outage(OUTAGE_S - (time.monotonic() - t_stop), probes)
    check(True, f"{n} answers during the outage were as expected, in time")
    ctl("ch-start")
    recovers(30, [("metric-list", "GET", "/v2.0/metrics", token, None, 200),
                  ("metric-create", "POST", "/v2.0/metrics", token, one, 204)])
    w.wait_acks(20, 20, "after the outage")
check(node_pids() == pids, "the same node processes served throughout")

print(f"   {len(w.acked)} writes acknowledged, {len(w.refused)} refused")
bad = [r for _, r in w.refused if not is_monasca_error(r, 503) or r.seconds > TIMEOUT_S]
check(not bad, f"every refused write was a 503 in the Monasca shape, in time ({bad[:3]})")
check(len(w.refused) > 0, "the writers were refused during the outage")
for node in NODES:
    w.all_listed(node, token, f"on {node} after the ClickHouse outage")
r = call("GET", url(LB, "/v2.0/metrics", name=NAME), token)
check(r.status == 200 and len(elements(r)) == 2, f"both series listed ({r})")
