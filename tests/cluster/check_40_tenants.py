"""Tenant isolation across nodes, through the proxy: a second project sees none of the first
project's metrics, definitions, alarms or notification methods through any list or get
(every read asked twice, so both nodes answer it), cannot change or delete them (404), cannot
name them in its own definitions, and a `tenant_id` parameter does not widen its view; the
first project's objects are untouched afterwards."""

import time

from clusterlib import LB, NODES, USER_B, call, check, elements, login, url

A, B = login(), login(USER_B)
RUN = str(int(time.time()))
NOW = int(time.time() * 1000)
START = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW // 1000 - 600))
METRIC = f"tenancy.{RUN}.cpu"
DIMS = {"host": "secret-host", "service": "secret'service"}

# --- the first project's objects ------------------------------------------------------------
r = call("POST", f"{LB}/v2.0/notification-methods", A,
         {"name": f"a-method-{RUN}", "type": "WEBHOOK", "address": "http://127.0.0.1:9/a"})
check(r.status == 201, f"project A: notification method ({r})")
method = r.body["id"]
r = call("POST", f"{LB}/v2.0/alarm-definitions", A,
         {"name": f"a-def-{RUN}", "expression": f"max({METRIC}) > 0", "match_by": ["host"],
          "alarm_actions": [method]})
check(r.status == 201, f"project A: alarm definition ({r})")
definition = r.body["id"]
# Each node evaluates what it receives today: post to one node and wait for its alarm there.
alarm = None
deadline = time.monotonic() + 20
while alarm is None and time.monotonic() < deadline:
    r = call("POST", f"{NODES[0]}/v2.0/metrics", A,
             [{"name": METRIC, "dimensions": DIMS, "timestamp": int(time.time() * 1000),
               "value": 5.0, "value_meta": {"secret": "a's"}}])
    check(r.status == 204, f"project A: metric posted ({r})")
    r = call("GET", url(LB, "/v2.0/alarms", alarm_definition_id=definition), A)
    if elements(r):
        alarm = elements(r)[0]["id"]
    else:
        time.sleep(0.5)
check(alarm is not None, "project A: an alarm of its definition exists")

# --- the second project sees nothing of it ----------------------------------------------------
def twice(method, path, token=B, body=None):
    """The same request twice through the proxy (round-robin: one per node)."""
    return [call(method, f"{LB}{path}", token, body) for _ in range(2)]


def none_of_a(path, what, pick=lambda e: e):
    for r in twice("GET", path):
        got = [pick(e) for e in elements(r)]
        leaked = [g for g in got if RUN in str(g) or "secret" in str(g)]
        check(r.status == 200 and not leaked, f"project B: {what} shows nothing of A's ({r})")


def absent(method, path, what, body=None):
    for r in twice(method, path, body=body):
        check(r.status == 404, f"project B: {method} {what} is 404 ({r})")


dims = ",".join(f"{k}:{v}" for k, v in DIMS.items())
for extra in ({}, {"tenant_id": "mini-mon"}):
    tag = " with tenant_id=mini-mon" if extra else ""
    none_of_a(url("", "/v2.0/metrics", **extra), f"metric-list{tag}")
    none_of_a(url("", "/v2.0/metrics", name=METRIC, **extra), f"metric-list by name{tag}")
    none_of_a(url("", "/v2.0/metrics", dimensions=dims, **extra), f"metric-list by dims{tag}")
    none_of_a(url("", "/v2.0/metrics/names", **extra), f"metric-name-list{tag}")
    none_of_a(url("", "/v2.0/metrics/measurements", name=METRIC, start_time=START,
                  merge_metrics="true", **extra), f"measurement-list{tag}")
    none_of_a(url("", "/v2.0/metrics/statistics", name=METRIC, start_time=START,
                  statistics="count", merge_metrics="true", **extra), f"statistics{tag}")
    none_of_a(url("", "/v2.0/metrics/dimensions/names", metric_name=METRIC, **extra),
              f"dimension-name-list{tag}")
    none_of_a(url("", "/v2.0/metrics/dimensions/names", **extra),
              f"dimension-name-list of every metric{tag}")
    for k in DIMS:
        none_of_a(url("", "/v2.0/metrics/dimensions/names/values", dimension_name=k, **extra),
                  f"dimension-value-list of {k}{tag}")
none_of_a("/v2.0/alarm-definitions", "alarm-definition-list")
none_of_a(url("", "/v2.0/alarm-definitions", name=f"a-def-{RUN}"), "alarm-definition-list by name")
absent("GET", f"/v2.0/alarm-definitions/{definition}", "alarm definition")
absent("PATCH", f"/v2.0/alarm-definitions/{definition}", "alarm definition", {"name": "mine"})
absent("PUT", f"/v2.0/alarm-definitions/{definition}", "alarm definition",
       {"name": "mine", "expression": "max(x) > 1", "description": "", "match_by": [],
        "severity": "LOW", "alarm_actions": [], "ok_actions": [], "undetermined_actions": [],
        "actions_enabled": True})
none_of_a("/v2.0/alarms", "alarm-list")
none_of_a(url("", "/v2.0/alarms", alarm_definition_id=definition), "alarm-list by definition")
none_of_a(url("", "/v2.0/alarms", metric_name=METRIC), "alarm-list by metric")
for r in twice("GET", "/v2.0/alarms/count"):
    check(r.status == 200 and r.body.get("counts") == [[0]], f"project B: alarm-count is 0 ({r})")
absent("GET", f"/v2.0/alarms/{alarm}", "alarm")
absent("PATCH", f"/v2.0/alarms/{alarm}", "alarm", {"state": "OK"})
absent("PUT", f"/v2.0/alarms/{alarm}", "alarm",
       {"state": "OK", "lifecycle_state": "x", "link": "y"})
none_of_a("/v2.0/alarms/state-history", "alarm-history-list")
for r in twice("GET", f"/v2.0/alarms/{alarm}/state-history"):
    check(r.status in (200, 404) and not elements(r),
          f"project B: alarm-history of A's alarm is empty or 404 ({r})")
none_of_a("/v2.0/notification-methods", "notification-list")
absent("GET", f"/v2.0/notification-methods/{method}", "notification method")
absent("PATCH", f"/v2.0/notification-methods/{method}", "notification method", {"name": "mine"})
absent("PUT", f"/v2.0/notification-methods/{method}", "notification method",
       {"name": "mine", "type": "WEBHOOK", "address": "http://127.0.0.1:9/b", "period": 0})
r = call("POST", f"{LB}/v2.0/alarm-definitions", B,
         {"name": f"b-def-{RUN}", "expression": "max(x) > 1", "alarm_actions": [method]})
check(r.status in (400, 404, 422), f"project B cannot name A's notification method ({r})")
r = call("POST", f"{LB}/v2.0/alarm-definitions", B,
         {"name": f"a-def-{RUN}", "expression": f"max({METRIC}) > 0"})
check(r.status == 201, f"project B may reuse A's definition name in its own project ({r})")
absent("DELETE", f"/v2.0/alarms/{alarm}", "alarm")
absent("DELETE", f"/v2.0/alarm-definitions/{definition}", "alarm definition")
absent("DELETE", f"/v2.0/notification-methods/{method}", "notification method")

# --- and A's objects are as they were -------------------------------------------------------
r = call("GET", f"{LB}/v2.0/alarm-definitions/{definition}", A)
check(r.status == 200 and r.body["name"] == f"a-def-{RUN}", "project A's definition is intact")
r = call("GET", f"{LB}/v2.0/alarms/{alarm}", A)
check(r.status == 200, f"project A's alarm is intact ({r})")
r = call("GET", f"{LB}/v2.0/notification-methods/{method}", A)
check(r.status == 200 and r.body["address"] == "http://127.0.0.1:9/a",
      "project A's notification method is intact")
r = call("GET", url(LB, "/v2.0/metrics", name=METRIC), A)
check(r.status == 200 and len(elements(r)) == 1, "project A still sees its metric")
