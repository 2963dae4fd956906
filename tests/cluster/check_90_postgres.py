"""PostgreSQL (every definition, alarm, notification method and token) stopped for 30 s
(`pg_ctl stop -m immediate`, as a crash) under load and started again: meanwhile every request
that needs it — a token check (so every authenticated request), a login, a definition read or
write — is a 503 in the Monasca error shape (Keystone's for a login), on every node and
through the proxy, never a 500, a 401 or slower than the timeout; afterwards both nodes serve
again by themselves (same processes), and every notification method and measurement
acknowledged before or after the outage is there."""

import threading
import time

from clusterlib import (LB, NODES, TIMEOUT_S, Writer, call, check, ctl, during_outage,
                        elements, is_monasca_error, login, node_pids, recovers)

OUTAGE_S = 30
token = login()
RUN = str(int(time.time()))
pids = node_pids()
r = call("POST", f"{LB}/v2.0/alarm-definitions", token,
         {"name": f"pg-before-{RUN}", "expression": "max(pg.cpu) > 1"})
check(r.status == 201, f"a definition before the outage ({r})")
before = r.body["id"]


class MethodWriter(threading.Thread):
    """Creates a notification method every 0.2 s through the proxy; remembers the acked."""

    def __init__(self):
        super().__init__(daemon=True)
        self.acked, self.refused, self.stopping = [], [], threading.Event()

    def run(self):
        i = 0
        while not self.stopping.is_set():
            r = call("POST", f"{LB}/v2.0/notification-methods", token,
                     {"name": f"pg-{RUN}-{i}", "type": "WEBHOOK",
                      "address": f"http://127.0.0.1:9/{i}"})
            (self.acked if r.status == 201 else self.refused).append(
                r.body["id"] if r.status == 201 else r)
            i += 1
            time.sleep(0.2)


methods = MethodWriter()
methods.start()
with Writer(LB, token, f"cluster.pg.{RUN}", threads=2, pause=0.05) as w:
    w.wait_acks(20, 20, "before the outage")
    ctl("pg-stop", "immediate")
    t_stop = time.monotonic()
    probes = [
        ("a token check (metric-list)", "GET", "/v2.0/metrics", token, None, 503),
        ("alarm-definition-list", "GET", "/v2.0/alarm-definitions", token, None, 503),
        ("alarm-definition-create", "POST", "/v2.0/alarm-definitions", token,
         {"name": f"pg-during-{RUN}", "expression": "max(x) > 1"}, 503),
        ("a login", "POST", "/identity/v3/auth/tokens", None,
         {"auth": {"identity": {"methods": ["password"], "password": {"user": {
             "name": "mini-mon", "domain": {"name": "Default"}, "password": "password"}}},
             "scope": {"project": {"name": "mini-mon", "domain": {"name": "Default"}}}}}, 503),
    ]
    n = during_outage(OUTAGE_S - (time.monotonic() - t_stop), probes)
    check(True, f"{n} answers during the outage were 503 in the Monasca shape, in time")
    ctl("pg-start")
    recovers(20, [("alarm-definition-list", "GET", "/v2.0/alarm-definitions", token, None, 200),
                  ("metric-list", "GET", "/v2.0/metrics", token, None, 200)])
    w.wait_acks(20, 20, "after the outage")
methods.stopping.set()
methods.join(TIMEOUT_S + 5)
check(node_pids() == pids, "the same node processes served throughout")

refusals = [r for _, r in w.refused] + methods.refused
print(f"   metrics: {len(w.acked)} acknowledged, {len(w.refused)} refused; notification "
      f"methods: {len(methods.acked)} acknowledged, {len(methods.refused)} refused")
bad = [r for r in refusals if not is_monasca_error(r, 503) or r.seconds > TIMEOUT_S]
check(not bad, f"every refusal under load was a 503 in the Monasca shape, in time ({bad[:3]})")
check(len(refusals) > 0, "the writers were refused during the outage")
w.all_listed(NODES[1], token, "after the PostgreSQL outage")
for node in NODES:
    r = call("GET", f"{node}/v2.0/notification-methods?limit=10000", token)
    have = {m["id"] for m in elements(r)}
    missing = [m for m in methods.acked if m not in have]
    check(r.status == 200 and not missing,
          f"all {len(methods.acked)} acknowledged notification methods listed on {node} "
          f"({len(missing)} missing)")
r = call("GET", f"{LB}/v2.0/alarm-definitions/{before}", token)
check(r.status == 200, f"the definition made before the outage is there ({r})")
r = call("GET", f"{LB}/v2.0/alarm-definitions?name=pg-during-{RUN}", token)
check(r.status == 200 and not elements(r), "no definition refused during the outage exists")
