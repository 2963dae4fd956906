"""Shared state across nodes: a token issued by one node works on every node and is revoked on
all; a metric posted through the proxy is listed right after its 204 (by the next node); a
definition made on one node is read on the other."""

import time

from clusterlib import LB, NODES, call, check, elements, login

token = login()
for n in NODES:
    r = call("GET", f"{n}/v2.0/metrics", token)
    check(r.status == 200, f"the token works on {n} ({r})")

now = int(time.time() * 1000)
for i in range(6):
    name = f"cluster.check.{i}"
    r = call("POST", f"{LB}/v2.0/metrics", token,
             [{"name": name, "dimensions": {"hostname": "h1"}, "timestamp": now + i,
               "value": float(i)}])
    check(r.status == 204, f"metric {i} accepted ({r})")
    r = call("GET", f"{LB}/v2.0/metrics?name={name}", token)
    check(r.status == 200 and len(elements(r)) == 1,
          f"metric {i} listed by the next node right after its 204")

r = call("POST", f"{NODES[0]}/v2.0/alarm-definitions", token,
         {"name": "cluster cpu", "expression": "avg(cluster.cpu) > 10"})
check(r.status == 201, f"definition created on node 1 ({r})")
made = r.body
r = call("GET", f"{NODES[1]}/v2.0/alarm-definitions/{made['id']}", token)
check(r.status == 200 and r.body["name"] == "cluster cpu", "definition read on node 2")

r = call("DELETE", f"{NODES[1]}/identity/v3/auth/tokens", token,
         headers={"X-Subject-Token": token})
check(r.status == 204, "token revoked on node 2")
r = call("GET", f"{NODES[0]}/v2.0/metrics", token)
check(r.status == 401, f"node 1 refuses the revoked token ({r})")
