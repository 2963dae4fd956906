"""Interop: the real `SdSecureClient` 0.19.0 against `vigil serve` for runtime policy events,
activity audit and compliance (started by tests/interop/sdcclient.sh, same environment as
test_sdcclient.py).

Every test runs twice: with the admin's API token for "Secure Operations" (from
GET /api/token/<user>/<team id>) and IBM-style with an IAM token, IBMInstanceID and
SysdigTeamID naming that team. Events and results are created through the emulator's
ingestion routes (/vigil/sysdig/secure/...), each test in a time window of its own.
"""

import datetime
import os
import random
import time
import uuid

import pytest
import requests
from sdcclient import SdMonitorClient, SdSecureClient
from sdcclient.secure import ActivityAuditClientV1, ActivityAuditDataSource

URL = os.environ["VIGIL_URL"]
ADMIN_TOKEN = os.environ["SDC_ADMIN_TOKEN"]
IAM_KEY = os.environ["SDC_IAM_API_KEY"]
INSTANCE = os.environ["SDC_INSTANCE_ID"]
ADMIN = os.environ.get("SDC_ADMIN_USER", "admin@vigil.local")
NS = 1_000_000_000

for _v in ("SDC_TOKEN", "SDC_URL", "SDC_SSL_VERIFY"):
    os.environ.pop(_v, None)


def secure_team_id():
    ok, team = SdMonitorClient(token=ADMIN_TOKEN, sdc_url=URL).get_team("Secure Operations")
    assert ok, team
    return team["id"]


def secure_token():
    r = requests.get(
        "%s/api/token/%s/%d" % (URL, ADMIN, secure_team_id()),
        headers={"Authorization": "Bearer " + ADMIN_TOKEN},
    )
    assert r.status_code == 200, r.text
    return r.json()["token"]["key"]


def ibm_headers():
    r = requests.post(
        URL + "/identity/token",
        data={
            "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
            "response_type": "cloud_iam",
            "apikey": IAM_KEY,
        },
    )
    assert r.status_code == 200, r.text
    return {
        "Authorization": "Bearer " + r.json()["access_token"],
        "IBMInstanceID": INSTANCE,
        "SysdigTeamID": str(secure_team_id()),
    }


@pytest.fixture(params=["token", "ibm"])
def mode(request):
    return request.param


def client(cls, mode):
    if mode == "token":
        return cls(token=secure_token(), sdc_url=URL)
    return cls(sdc_url=URL, custom_headers=ibm_headers())


@pytest.fixture
def secure(mode):
    return client(SdSecureClient, mode)


def ingest(route, body):
    r = requests.post(
        "%s/vigil/sysdig/secure/%s" % (URL, route),
        json=body,
        headers={"Authorization": "Bearer " + secure_token()},
    )
    assert r.status_code == 201, r.text
    return r.json()["data"]


def window_start():
    """A start second far from every other test's (and from now)."""
    return 1_000_000_000 + random.randrange(1, 40_000) * 100_000  # below 2^63 ns


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def policy_event(prefix, i, ts_ns):
    return {
        "id": "%s-%d" % (prefix, i),
        "timestamp": ts_ns,
        "name": "Terminal shell in container" if i % 2 else "Write below etc",
        "description": "a rule fired",
        "severity": i % 8,
        "source": "syscall",
        "machineId": "08:00:27:00:00:01",
        "content": {"policyId": 1, "ruleName": "r", "output": "bash ran", "fields": {"proc.name": "bash"}},
        "labels": {"host.hostName": "web-%d" % (i % 3)},
    }


def test_policy_events_range_filter_and_paging(secure):
    start = window_start()
    prefix = uniq("pe")
    events = [policy_event(prefix, i, (start + i) * NS) for i in range(1100)]
    ingest("policyEvents", {"events": events[:1000]})
    ingest("policyEvents", {"events": events[1000:]})

    ok, res = secure.get_policy_events_range(start, start + 2000)
    assert ok, res
    assert len(res["data"]) == 999
    assert res["ctx"]["limit"] == 999 and res["ctx"]["cursor"]
    for e in res["data"]:
        for k in ("id", "timestamp", "customerId", "source", "name", "description", "cursor"):
            assert k in e, (k, e)
    seen = [e["id"] for e in res["data"]]
    # Events stored after the first call, inside its window, do not join its pages; the
    # cursor keeps the window (PR #179).
    ingest("policyEvents", [policy_event(prefix + "-late", 0, (start + 5) * NS)])
    ingest("policyEvents", [policy_event(prefix + "-out", 0, (start - 5) * NS)])
    ctx = res["ctx"]
    while True:
        ok, res = secure.get_more_policy_events(ctx)
        assert ok, res
        if not res["data"]:
            break
        seen += [e["id"] for e in res["data"]]
        ctx = res["ctx"]
    assert seen == ["%s-%d" % (prefix, i) for i in reversed(range(1100))]

    ok, res = secure.get_policy_events_range(start, start + 100, 'severity in ("4","5")')
    assert ok, res
    assert res["data"] and all(3 <= e["severity"] <= 6 for e in res["data"])
    assert len(res["data"]) == 25
    ok, res = secure.get_policy_events_range(start, start + 100, 'severity in ("-1")')
    assert ok and res["data"] == []
    ok, res = secure.get_policy_events_range(
        start, start + 100, 'host.hostName = "web-1" and name = "Terminal shell in container"'
    )
    assert ok, res
    assert {e["labels"]["host.hostName"] for e in res["data"]} == {"web-1"}

    ok, one = secure.get_policy_event("%s-7" % prefix)
    assert ok, one
    for k in ("name", "timestamp", "customerId", "originator", "machineId", "id"):
        assert k in one
    assert one["timestamp"] == (start + 7) * NS


def test_policy_events_duration_and_bad_input(secure):
    prefix = uniq("now")
    now_ns = int(time.time()) * NS
    ingest("policyEvents", [policy_event(prefix, 4, now_ns - 60 * NS)])
    ok, res = secure.get_policy_events_duration(3600, 'severity in ("4")')
    assert ok, res
    assert "%s-4" % prefix in [e["id"] for e in res["data"]]
    ok, res = secure.get_policy_events_duration(-10)
    assert not ok and "from" in res
    ok, res = secure.get_more_policy_events({"limit": -1})
    assert not ok and "limit" in res
    ok, res = secure.get_policy_events_range(0, 10, "severity >> 4")
    assert not ok and "position" in res
    ok, res = secure.get_policy_event("no-such-event")
    assert not ok and res == "Event not found: Not Found"
    # A Monitor token is refused on Secure's routes.
    monitor = SdSecureClient(token=ADMIN_TOKEN, sdc_url=URL)
    ok, res = monitor.get_policy_events_duration(60)
    assert not ok and "Secure team" in res


def test_activity_audit_list_and_trace(mode):
    audit = client(ActivityAuditClientV1, mode)
    start = window_start()
    prefix = uniq("aa")
    events = []
    for i in range(60):
        e = {"id": "%s-c%d" % (prefix, i), "type": "command", "timestamp": (start + i) * NS,
             "hostname": "web-%d" % (i % 2), "cmdline": "ls -%d" % i}
        if i % 20 == 0:
            e["trace"] = [{"cmdline": "sh -c ls"}, {"type": "connection", "clientIpv4": "10.0.0.1"}]
        events.append(e)
    events += [{"id": "%s-k%d" % (prefix, i), "type": "kubernetes", "timestamp": (start + i) * NS,
                "hostname": "web-1"} for i in range(10)]
    events += [{"id": "%s-n%d" % (prefix, i), "type": "connection", "timestamp": (start + i) * NS}
               for i in range(5)]
    ingest("activityAudit/events", events)
    utc = datetime.timezone.utc
    frm = datetime.datetime.fromtimestamp(start, utc)
    to = datetime.datetime.fromtimestamp(start + 1000, utc)

    ok, res = audit.list_events(from_date=frm, to_date=to)
    assert ok, res
    assert len(res) == 75
    ok, res = audit.list_events(from_date=frm, to_date=to, data_sources=[ActivityAuditDataSource.CMD])
    assert ok, res
    assert len(res) == 60 and {e["type"] for e in res} == {"command"}
    ok, res = audit.list_events(
        from_date=frm, to_date=to, scope_filter=['hostname = "web-1"'],
        data_sources=[ActivityAuditDataSource.CMD, ActivityAuditDataSource.KUBE_EXEC],
    )
    assert ok, res
    assert len(res) == 40
    # sdcclient keeps limit - 1 events once it has paged (its spec asserts not 5).
    ok, res = audit.list_events(from_date=frm, to_date=to, limit=5)
    assert ok and len(res) == 4

    ok, commands = audit.list_events(from_date=frm, to_date=to, data_sources=[ActivityAuditDataSource.CMD])
    traceable = [e for e in commands if e["traceable"]]
    assert len(traceable) == 3
    ok, trace = audit.list_trace(traceable[0])
    assert ok, trace
    assert [t["type"] for t in trace] == ["command", "connection"]
    plain = [e for e in commands if not e["traceable"]][0]
    assert audit.list_trace(plain) == (False, "a traceable event must be provided")
    ok, res = audit.list_events(from_date=frm, to_date=to, scope_filter=["colour = red"])
    assert not ok and "unknown field 'colour'" in res


def test_compliance_tasks_and_results(secure):
    name = uniq("Check Docker")
    ok, task = secure.add_compliance_task(name, scope="host.hostName = 'web-1'")
    assert ok, task
    tid = task["id"]
    assert task["moduleName"] == "docker-bench-security" and task["schedule"] == "06:00:00Z/PT12H"
    ok, tasks = secure.list_compliance_tasks()
    assert ok and tid in [t["id"] for t in tasks]
    ok, got = secure.get_compliance_task(tid)
    assert ok and got["name"] == name
    ok, upd = secure.update_compliance_task(tid, schedule="08:00:00Z/PT24H", enabled=False)
    assert ok, upd
    assert (upd["name"], upd["schedule"], upd["enabled"]) == (name, "08:00:00Z/PT24H", False)
    ok, dup = secure.add_compliance_task(name)
    assert not ok and "already exists" in dup
    ok, bad = secure.add_compliance_task(uniq("x"), module_name="nmap")
    assert not ok and "Unknown module" in bad

    results = ingest("complianceResults", [
        {"taskId": tid, "hostMac": "08:00:27:00:00:0%d" % i, "timestampNs": (1_700_000_000 + i) * NS,
         "tests": [{"sectionId": "1", "description": "Host configuration", "results": [
             {"testNumber": "1.1", "status": "pass" if i else "fail", "description": "Separate partition",
              "details": "", "items": [], "remediation": "Add one"}]}]}
        for i in range(3)
    ])
    rids = [r["id"] for r in results]
    ok, page = secure.list_compliance_results(filter=name.lower())
    assert ok, page
    assert [r["id"] for r in page["results"]] == list(reversed(rids))
    assert page["results"][2]["risk"] == "high" and page["results"][0]["taskName"] == name
    ok, older = secure.list_compliance_results(limit=1, cursor=rids[2], direction="NEXT", filter=name)
    assert ok and [r["id"] for r in older["results"]] == [rids[1]]
    ok, one = secure.get_compliance_results(rids[0])
    assert ok and one["failCount"] == 1 and one["tests"][0]["sectionId"] == "1"
    ok, csv = secure.get_compliance_results_csv(rids[0])
    assert ok and csv.startswith("section,") and "1.1,fail,Separate partition" in csv
    ok, res = secure.get_compliance_results(99_999_999)
    assert not ok

    assert secure.delete_compliance_task(tid) == (True, None)
    ok, res = secure.get_compliance_task(tid)
    assert not ok and "not found" in res


def test_deprecated_command_audit(secure):
    start = window_start()
    prefix = uniq("cmd")
    ingest("activityAudit/events", [
        {"id": "%s-%d" % (prefix, i), "type": "command", "timestamp": (start + i) * NS,
         "comm": "touch" if i % 2 == 0 else "ls", "cmdline": "touch /tmp/x", "cwd": "/", "pid": 100 + i,
         "ppid": 1, "uid": 0, "loginShellId": 7, "loginShellDistance": 1, "hostname": "web-1",
         "containerId": "abc", "labels": {"container.image": "ubuntu", "host.mac": "aa"}}
        for i in range(6)
    ])
    ok, res = secure.list_commands_audit(
        from_sec=start, to_sec=start + 100, scope_filter="container.image=ubuntu",
        command_filter='command.comm="touch"', metrics=["host.hostName", "host.mac"], limit=2,
    )
    assert ok, res
    assert [c["id"] for c in res["commands"]] == ["%s-4" % prefix, "%s-2" % prefix]
    assert res["commands"][0]["metrics"] == ["web-1", "aa"]
    assert res["commands"][0]["timestamp"] == (start + 4) * 1_000_000
    ok, res = secure.list_commands_audit(from_sec=start, to_sec=start + 100, offset=5)
    assert ok and [c["id"] for c in res["commands"]] == ["%s-0" % prefix]
    ok, res = secure.get_command_audit("%s-3" % prefix, metrics=["host.hostName", "host.mac", "container.image"])
    assert ok, res
    c = res["command"]
    assert (c["comm"], c["pid"], c["metrics"]) == ("ls", 103, ["web-1", "aa", "ubuntu"])
    ok, res = secure.get_command_audit("no-such-command")
    assert not ok and "Command not found" in res
    ok, res = secure.list_commands_audit(from_sec=start, to_sec=start + 100, command_filter="command.colour=red")
    assert not ok and "unknown field" in res
