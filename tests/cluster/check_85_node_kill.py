"""`kill -9` of a node while writers post through the proxy: requests may fail while haproxy
notices, but every measurement that got a 204 is listed by the surviving node; the writers go
on through the survivor; the node restarted serves again, directly and through the proxy."""

import os
import time

from clusterlib import DIR, LB, NODES, Writer, call, check, ctl, elements, login

token = login()
name = f"cluster.kill.{int(time.time())}"
with Writer(LB, token, name, threads=3) as w:
    w.wait_acks(100, 20, "before the kill")
    ctl("node-kill", 1)
    w.wait_acks(150, 20, "after the kill, through the survivor")
print(f"   {len(w.acked)} writes acknowledged, {len(w.refused)} refused "
      f"({sorted({r.status for _, r in w.refused})})")
check(all(r.status in (0, 502, 503) for _, r in w.refused),
      f"refusals during the kill are transport failures or 502/503 ({w.refused[:3]})")
w.all_listed(NODES[1], token, "by the surviving node")

ctl("node-start", 1)
r = call("GET", f"{NODES[0]}/v2.0/metrics?name={name}", token)
check(r.status == 200 and len(elements(r)) == 1, f"the restarted node lists the metric ({r})")
w.all_listed(NODES[0], token, "by the restarted node")
r = call("POST", f"{NODES[0]}/v2.0/metrics", token,
         [{"name": name, "dimensions": {"writer": "after"}, "timestamp": int(time.time() * 1000),
           "value": 1.0}])
check(r.status == 204, f"the restarted node accepts writes ({r})")

# haproxy's checks take it back in: some of the next requests through the proxy reach it.
log = os.path.join(DIR, "node1.log")
seen = os.path.getsize(log)
deadline = time.monotonic() + 10
reached = False
while not reached and time.monotonic() < deadline:
    r = call("GET", f"{LB}/v2.0/metrics?name={name}", token)
    if r.status != 200:
        check(False, f"metric-list through the proxy after the restart ({r})")
    with open(log, "rb") as f:
        f.seek(seen)
        reached = b"route=/v2.0/metrics " in f.read()
    time.sleep(0.2)
check(reached, "haproxy sends requests to the restarted node again")
