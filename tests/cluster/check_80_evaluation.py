"""Alarm evaluation divided among the nodes: definitions made through the proxy are evaluated
whichever node receives their metrics, each transition is recorded and notified once across
the cluster; `kill -9` of a node that evaluates some of them moves its share to the survivor
within the stated bound (lease 5 s + round 1 s + refill), with no transition doubled or lost;
the node started again takes a share back."""

import http.server
import json
import os
import re
import socket
import threading
import time

from clusterlib import DIR, LB, NODES, call, check, ctl, elements, login, url

# The take-over bound the README states, plus room for this 2-core machine and the proxy.
TAKE_OVER_S = 15
# What the Monasca API tests allow a single node: an alarm within 10 s, a change within 10 s.
FOLLOW_S = 10

received = []
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()

token = login()
run = str(int(time.time()))
r = call("POST", f"{LB}/v2.0/notification-methods", token,
         {"name": f"eval-hook-{run}", "type": "WEBHOOK", "address": f"http://127.0.0.1:{port}/"})
check(r.status == 201, f"webhook method created ({r})")
hook = r.body["id"]

DEFS = 6
HOSTS = ["h1", "h2", "h3"]
defs = {}
for i in range(DEFS):
    r = call("POST", f"{LB}/v2.0/alarm-definitions", token, {
        "name": f"eval-{run}-{i}", "expression": f"last(eval.{run}.m{i}) > 10",
        "match_by": ["hostname"], "alarm_actions": [hook], "ok_actions": [hook]})
    check(r.status == 201, f"definition {i} created through the proxy ({r})")
    defs[r.body["id"]] = i


def holders():
    """Which node (index) last took each of our definitions over, from the nodes' logs."""
    out = {}
    for n in range(len(NODES)):
        with open(os.path.join(DIR, f"node{n + 1}.log"), errors="replace") as f:
            for line in f:
                m = re.search(r"alarm definition (taken over|now evaluated elsewhere)"
                              r".*definition=([0-9a-f-]+)", line)
                if m and m.group(2) in defs:
                    if m.group(1) == "taken over":
                        out[m.group(2)] = n
                    elif out.get(m.group(2)) == n:
                        del out[m.group(2)]
    return out


def evaluated_here(n):
    """`vigil_alarm_definitions` of node n's /metrics."""
    r = call("GET", f"{NODES[n]}/metrics")
    text = r.body if isinstance(r.body, str) else ""
    m = re.search(r"^vigil_alarm_definitions (\d+)", text, re.M)
    return int(m.group(1)) if m else -1


def post_all(value, base=LB):
    now = int(time.time() * 1000)
    for i in range(DEFS):
        body = [{"name": f"eval.{run}.m{i}", "dimensions": {"hostname": h},
                 "timestamp": now, "value": value} for h in HOSTS]
        r = call("POST", f"{base}/v2.0/metrics", token, body)
        check(r.status == 204, f"metrics of definition {i} accepted ({r})")


def alarms_in(state, base=LB):
    """Our alarms (by id) in `state`."""
    out = set()
    for d in defs:
        r = call("GET", url(base, "/v2.0/alarms", alarm_definition_id=d), token)
        if r.status == 200:
            out |= {a["id"] for a in elements(r) if a["state"] == state}
    return out


def wait_all(state, within_s, what, base=LB):
    t0 = time.monotonic()
    deadline = t0 + within_s
    while True:
        got = alarms_in(state, base)
        if len(got) == DEFS * len(HOSTS):
            check(True, f"all {len(got)} alarms {state} {what} ({time.monotonic() - t0:.1f} s)")
            return got
        if time.monotonic() >= deadline:
            check(False, f"all {DEFS * len(HOSTS)} alarms {state} within {within_s} s {what} "
                  f"(got {len(got)})")
        time.sleep(0.5)


def history_counts():
    """Transitions recorded per alarm of ours."""
    counts = {}
    for d in defs:
        r = call("GET", url(LB, "/v2.0/alarms", alarm_definition_id=d), token)
        for a in elements(r):
            h = call("GET", f"{LB}/v2.0/alarms/{a['id']}/state-history", token)
            if h.status != 200:
                check(False, f"state history of {a['id']} ({h})")
            counts[a["id"]] = [(e["old_state"], e["new_state"]) for e in elements(h)]
    return counts


def notified():
    """Webhook deliveries per (alarm, state): each must come once."""
    with lock:
        keys = [(b.get("alarm_id"), b.get("old_state"), b.get("state"), b.get("alarm_timestamp"))
                for b in received]
    return keys


# A definition made on one node, its first metric posted at once to the other (which has not
# heard of the definition yet): the alarm still comes, through the store.
r = call("POST", f"{NODES[0]}/v2.0/alarm-definitions", token, {
    "name": f"eval-{run}-fresh", "expression": f"last(eval.{run}.fresh) > 10"})
check(r.status == 201, f"definition made on node 1 ({r})")
fresh = r.body["id"]
r = call("POST", f"{NODES[1]}/v2.0/metrics", token,
         [{"name": f"eval.{run}.fresh", "dimensions": {}, "timestamp": int(time.time() * 1000),
           "value": 50.0}])
check(r.status == 204, f"its first metric accepted by node 2 at once ({r})")
t0 = time.monotonic()
while True:
    r = call("GET", url(LB, "/v2.0/alarms", alarm_definition_id=fresh), token)
    if [a["state"] for a in elements(r)] == ["ALARM"]:
        check(True, f"its alarm is ALARM {time.monotonic() - t0:.1f} s later")
        break
    if time.monotonic() - t0 > FOLLOW_S:
        check(False, f"its alarm ALARM within {FOLLOW_S} s ({r})")
    time.sleep(0.5)

# Both nodes evaluate a share once the rounds have settled.
deadline = time.monotonic() + 10
while not (evaluated_here(0) > 0 and evaluated_here(1) > 0) and time.monotonic() < deadline:
    time.sleep(0.5)
check(evaluated_here(0) > 0 and evaluated_here(1) > 0,
      f"both nodes evaluate definitions ({evaluated_here(0)} and {evaluated_here(1)})")

def figure(n, name):
    """A figure of node n's /metrics (0 when absent)."""
    r = call("GET", f"{NODES[n]}/metrics")
    text = r.body if isinstance(r.body, str) else ""
    m = re.search(rf"^{name} (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


post_all(20.0)
wait_all("ALARM", FOLLOW_S, "after metrics through the proxy")
check(all(figure(n, "vigil_alarm_cluster_nodes") == 2 for n in range(2)), "both see 2 nodes")
post_all(1.0)
wait_all("OK", FOLLOW_S, "after the values fell")

held = holders()
check(len(held) == DEFS, f"every definition has a holder in the logs ({len(held)} of {DEFS})")

# Leases settled: a metric posted to the node that does not evaluate its definition is sent
# to the one that does (just after a take-over it may reach it through the store instead).
d, h = next(iter(held.items()))
other = 1 - h
sent0 = figure(other, "vigil_alarm_cluster_samples_sent_total")
got0 = figure(h, "vigil_alarm_cluster_samples_received_total")
r = call("POST", f"{NODES[other]}/v2.0/metrics", token,
         [{"name": f"eval.{run}.m{defs[d]}", "dimensions": {"hostname": "h1"},
           "timestamp": int(time.time() * 1000), "value": 1.0}])
check(r.status == 204, f"a metric posted to node {other + 1} ({r})")
deadline = time.monotonic() + 5
while figure(h, "vigil_alarm_cluster_samples_received_total") <= got0 \
        and time.monotonic() < deadline:
    time.sleep(0.2)
sent = figure(other, "vigil_alarm_cluster_samples_sent_total") - sent0
got = figure(h, "vigil_alarm_cluster_samples_received_total") - got0
check(sent >= 1 and got >= 1,
      f"node {other + 1} sent it to node {h + 1}, which evaluates it ({sent} sent, {got} received)")
victim = max(range(len(NODES)), key=lambda n: sum(1 for v in held.values() if v == n))
survivor = 1 - victim
mine = sum(1 for v in held.values() if v == victim)
check(mine > 0, f"node {victim + 1} evaluates {mine} of the definitions")

ctl("node-kill", victim + 1)
killed_at = time.monotonic()
post_all(30.0, NODES[survivor])
wait_all("ALARM", TAKE_OVER_S, f"after node {victim + 1} was killed", NODES[survivor])
print(f"   taken over and transitioned {time.monotonic() - killed_at:.1f} s after the kill")

ctl("node-start", victim + 1)
deadline = time.monotonic() + 15
while evaluated_here(victim) <= 0 and time.monotonic() < deadline:
    time.sleep(0.5)
check(evaluated_here(victim) > 0, f"the restarted node {victim + 1} takes a share again")
time.sleep(3)  # its share's windows are refilled after the settle time
post_all(2.0)
wait_all("OK", FOLLOW_S, "after the restart")

# Exactly once: three transitions per alarm in history and three deliveries, none doubled.
time.sleep(3)
counts = history_counts()
check(len(counts) == DEFS * len(HOSTS), f"{len(counts)} alarms, one per definition and host")
want = [("UNDETERMINED", "ALARM"), ("ALARM", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]
bad = {a: h for a, h in counts.items() if sorted(h) != sorted(want)}
check(not bad, f"each alarm's history is the four transitions once each ({list(bad.items())[:2]})")
deadline = time.monotonic() + 20
while len([k for k in notified() if k[0] in counts]) < 4 * len(counts) \
        and time.monotonic() < deadline:
    time.sleep(0.5)
time.sleep(2)  # a doubled delivery would come about now
keys = notified()
dupes = {k for k in keys if keys.count(k) > 1}
check(not dupes, f"no notification delivered twice ({list(dupes)[:3]})")
ours = [k for k in keys if k[0] in counts]
check(len(ours) == 4 * len(counts),
      f"every transition notified: {len(ours)} deliveries for {len(counts)} alarms x 4")
server.shutdown()
