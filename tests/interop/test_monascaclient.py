#!/usr/bin/env python3
"""Interop tests: the real python-monascaclient 2.8.0 CLI against a running `vigil serve`.

Started by tests/interop/monascaclient.sh, which provides:
  VIGIL_PORT   the loopback port vigil listens on (required)
  MONASCA_BIN  the `monasca` executable of the pinned venv (default: `monasca` beside this
               interpreter)

Every command runs in a clean environment (admin_token auth, no Keystone: the token names the
project) with a throw-away HOME. Expected answers are those of openstack/monasca-api (InfluxDB
repository): exact names, dimensions, ids, values and timestamp formats.

Notification delivery is checked with real receivers on loopback (receivers.py: an HTTP
recorder, and aiosmtpd from the venv) at HOOK_PORT and SMTP_PORT, which the script also gave to
the server's `[notifications]` config.

The last line printed is `N passed, N failed`.
"""

import concurrent.futures
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import receivers

PORT = os.environ.get("VIGIL_PORT", "")
HOOK_PORT = int(os.environ.get("HOOK_PORT") or 0)
SMTP_PORT = int(os.environ.get("SMTP_PORT") or 0)
MONASCA = os.environ.get("MONASCA_BIN") or os.path.join(os.path.dirname(sys.executable), "monasca")
ENDPOINT = "http://127.0.0.1:%s/v2.0" % PORT
HOME = None  # a temporary directory, made in main()

# Tenants: without Keystone the X-Auth-Token value is the project.
RUN_ID = "%d-%d" % (os.getpid(), int(time.time()))
TENANT_A = "interop-a-" + RUN_ID
TENANT_B = "interop-b-" + RUN_ID

# Fixed instants, recent enough for relative start times (-120 = the last two hours).
NOW_MS = int(time.time() * 1000)
# Aligned to 5 minutes (the default statistics period) and 10 to 15 minutes ago.
T0 = (NOW_MS // 300_000) * 300_000 - 600_000
T_OLD = T0 - 5 * 3600 * 1000  # outside -120

MEAS_COLUMNS = ["timestamp", "value", "value_meta"]
STAT_COLUMNS = ["timestamp", "avg", "min", "max", "count", "sum"]


def iso_ms(ms):
    """Measurement timestamp as monasca-api formats it: 2026-01-01T00:00:00.000Z."""
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def iso_s(ms):
    """Statistics timestamp / query start time: 2026-01-01T00:00:00Z."""
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class Result:
    def __init__(self, args, token, proc):
        self.args = args
        self.token = token
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def describe(self):
        return "monasca %s (token %s) -> rc=%s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.args), self.token, self.rc, self.out.rstrip(), self.err.rstrip())


def monasca(*args, token=TENANT_A):
    env = {
        "PATH": os.path.dirname(MONASCA) + os.pathsep + "/usr/bin:/bin",
        "HOME": HOME,
        "LANG": "C.UTF-8",
        "OS_AUTH_TYPE": "admin_token",
        "OS_TOKEN": token,
        "OS_ENDPOINT": ENDPOINT,
    }
    args = [str(a) for a in args]
    proc = subprocess.run([MONASCA, *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    return Result(args, token, proc)


# --- the data set, written through the CLI once, before the tests ---------------------------

def raw(name, dims, ts, value, meta=None):
    body = {"name": name, "dimensions": dims, "timestamp": ts, "value": value}
    if meta is not None:
        body["value_meta"] = meta
    return json.dumps(body)


# (label, args, token): every one must answer rc 0 and `Successfully created metric`.
CREATES = [
    ("create cpu web1 (--dimensions, --value-meta, --time)",
     ["metric-create", "interop.cpu", "1.5", "--dimensions", "host=web1,service=compute",
      "--value-meta", "msg=ok,unit=pct", "--time", T0 + 123], TENANT_A),
    ("create cpu web2 (repeated --dimensions)",
     ["metric-create", "interop.cpu", "2.5", "--dimensions", "host=web2",
      "--dimensions", "service=compute", "--time", T0 + 1000], TENANT_A),
    ("create-raw mem",
     ["metric-create-raw", raw("interop.mem", {"host": "web1"}, T0, 42, {"unit": "MB"})],
     TENANT_A),
    ("create old",
     ["metric-create", "interop.old", "7", "--dimensions", "host=web1", "--time", T_OLD],
     TENANT_A),
    ("create grp g1 @0", ["metric-create", "interop.grp", "1", "--dimensions", "host=g1",
                          "--time", T0], TENANT_A),
    ("create grp g2 @2s", ["metric-create", "interop.grp", "2", "--dimensions", "host=g2",
                           "--time", T0 + 2000], TENANT_A),
    ("create-raw grp g1 @60s", ["metric-create-raw", raw("interop.grp", {"host": "g1"},
                                                         T0 + 60_000, 3)], TENANT_A),
    ("create now (default --time)", ["metric-create", "interop.now", "5",
                                     "--dimensions", "host=web1"], TENANT_A),
    # tenant B: the same series key as one of A's, and a name of its own
    ("tenant B create cpu web1",
     ["metric-create", "interop.cpu", "99", "--dimensions", "host=web1,service=compute",
      "--time", T0 + 123], TENANT_B),
    ("tenant B create-raw only-b",
     ["metric-create-raw", raw("interop.only_b", {"zone": "b"}, T0, 1)], TENANT_B),
]
# interop.stats{host=s1}: 1, 2, 3 in the first minute, 10, 20 in the second.
STATS_POINTS = [(0, 1), (10_000, 2), (20_000, 3), (60_000, 10), (70_000, 20)]
for _off, _v in STATS_POINTS:
    CREATES.append(("create stats @%ds" % (_off // 1000),
                    ["metric-create", "interop.stats", _v, "--dimensions", "host=s1",
                     "--time", T0 + _off], TENANT_A))

CREATE_RESULTS = []


def create_data():
    # Every point has a fixed timestamp, so the order of the writes does not matter: run them
    # a few at a time (most of each command's time is Python start-up).
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    try:
        futures = [(label, pool.submit(monasca, *args, token=token))
                   for label, args, token in CREATES]
        CREATE_RESULTS.extend((label, f.result()) for label, f in futures)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class MonascaTestCase(unittest.TestCase):
    maxDiff = None

    def ok(self, *args, token=TENANT_A):
        r = monasca(*args, token=token)
        self.assertEqual(r.rc, 0, r.describe())
        return r

    def json(self, *args, token=TENANT_A):
        r = self.ok(*args, token=token)
        try:
            return json.loads(r.out)
        except ValueError as e:
            self.fail("stdout is not JSON (%s)\n%s" % (e, r.describe()))

    def fails(self, *args, token=TENANT_A, rc=1, contains=()):
        r = monasca(*args, token=token)
        self.assertEqual(r.rc, rc, r.describe())
        for text in contains:
            self.assertIn(text, r.err, r.describe())
        return r


def metric(i, name, dims):
    return {"id": str(i), "name": name, "dimensions": dims}


CPU1 = {"host": "web1", "service": "compute"}
CPU2 = {"host": "web2", "service": "compute"}
ALL_A = [
    ("interop.cpu", CPU1),
    ("interop.cpu", CPU2),
    ("interop.grp", {"host": "g1"}),
    ("interop.grp", {"host": "g2"}),
    ("interop.mem", {"host": "web1"}),
    ("interop.now", {"host": "web1"}),
    ("interop.old", {"host": "web1"}),
    ("interop.stats", {"host": "s1"}),
]


def metrics(pairs):
    return [metric(i, n, d) for i, (n, d) in enumerate(pairs)]


class T1Create(MonascaTestCase):
    def test_all_creates_succeed(self):
        self.assertEqual(len(CREATE_RESULTS), len(CREATES))
        for label, r in CREATE_RESULTS:
            with self.subTest(label):
                self.assertEqual(r.rc, 0, r.describe())
                self.assertEqual(r.out.strip(), "Successfully created metric", r.describe())

    def test_invalid_name_is_422(self):
        r = self.fails("metric-create", "bad{name", "1", contains=(
            "Unprocessable Entity (HTTP 422)", "invalid characters in metric name: bad{name"))
        self.assertEqual(r.out, "")

    def test_invalid_name_raw_is_422(self):
        self.fails("metric-create-raw", raw("bad name", {"a": "b"}, T0, 1),
                   contains=("Unprocessable Entity (HTTP 422)",
                             "invalid characters in metric name: bad name"))

    def test_invalid_dimension_value_is_422(self):
        self.fails("metric-create", "interop.bad", "1", "--dimensions", "host=a<b",
                   contains=("Unprocessable Entity (HTTP 422)",))
        # nothing was stored
        self.assertEqual(self.json("metric-list", "-j", "--name", "interop.bad"), [])


class T2MetricList(MonascaTestCase):
    def test_all_json(self):
        self.assertEqual(self.json("metric-list", "-j"), metrics(ALL_A))

    def test_table(self):
        r = self.ok("metric-list", "--name", "interop.cpu")
        lines = r.out.splitlines()
        self.assertRegex(lines[1], r"^\|\s*name\s*\|\s*dimensions\s*\|$", r.describe())
        body = [[c.strip() for c in line.strip("|").split("|")]
                for line in lines if line.startswith("|")][1:]
        self.assertEqual(body, [["interop.cpu", "host: web1"], ["", "service: compute"],
                                ["interop.cpu", "host: web2"], ["", "service: compute"]],
                         r.describe())

    def test_name(self):
        self.assertEqual(self.json("metric-list", "-j", "--name", "interop.cpu"),
                         metrics([("interop.cpu", CPU1), ("interop.cpu", CPU2)]))

    def test_dimensions(self):
        self.assertEqual(
            self.json("metric-list", "-j", "--dimensions", "host=web1"),
            metrics([("interop.cpu", CPU1), ("interop.mem", {"host": "web1"}),
                     ("interop.now", {"host": "web1"}), ("interop.old", {"host": "web1"})]))

    def test_dimensions_alternatives_and_key_only(self):
        self.assertEqual(
            self.json("metric-list", "-j", "--dimensions", "host=web2|g2"),
            metrics([("interop.cpu", CPU2), ("interop.grp", {"host": "g2"})]))
        self.assertEqual(self.json("metric-list", "-j", "--dimensions", "service"),
                         metrics([("interop.cpu", CPU1), ("interop.cpu", CPU2)]))

    def test_name_and_dimensions(self):
        self.assertEqual(
            self.json("metric-list", "-j", "--name", "interop.cpu", "--dimensions",
                      "host=web2,service=compute"),
            metrics([("interop.cpu", CPU2)]))

    def test_relative_starttime(self):
        # interop.old has no measurement in the last 120 minutes; ids count what is listed.
        self.assertEqual(
            self.json("metric-list", "-j", "--dimensions", "host=web1", "--starttime", "-120"),
            metrics([("interop.cpu", CPU1), ("interop.mem", {"host": "web1"}),
                     ("interop.now", {"host": "web1"})]))

    def test_absolute_starttime(self):
        self.assertEqual(
            self.json("metric-list", "-j", "--name", "interop.old",
                      "--starttime", iso_s(T_OLD - 60_000)),
            metrics([("interop.old", {"host": "web1"})]))
        self.assertEqual(
            self.json("metric-list", "-j", "--name", "interop.old",
                      "--starttime", iso_s(T_OLD + 60_000)),
            [])

    def test_absolute_start_and_end(self):
        self.assertEqual(
            self.json("metric-list", "-j", "--dimensions", "host=web1",
                      "--starttime", iso_s(T_OLD - 60_000), "--endtime", iso_s(T_OLD + 60_000)),
            metrics([("interop.old", {"host": "web1"})]))

    def test_limit(self):
        self.assertEqual(self.json("metric-list", "-j", "--name", "interop.cpu", "--limit", "1"),
                         metrics([("interop.cpu", CPU1)]))
        self.assertEqual(self.json("metric-list", "-j", "--limit", "3"), metrics(ALL_A[:3]))

    def test_no_match(self):
        self.assertEqual(self.json("metric-list", "-j", "--name", "interop.nosuch"), [])
        r = self.ok("metric-list", "--name", "interop.nosuch")
        self.assertEqual(r.out.strip(), "", r.describe())


class T3MetricNames(MonascaTestCase):
    NAMES = ["interop.cpu", "interop.grp", "interop.mem", "interop.now", "interop.old",
             "interop.stats"]

    def test_json(self):
        self.assertEqual(self.json("metric-name-list", "-j"), [{"name": n} for n in self.NAMES])

    def test_dimensions(self):
        self.assertEqual(self.json("metric-name-list", "-j", "--dimensions", "host=web2"),
                         [{"name": "interop.cpu"}])
        self.assertEqual(self.json("metric-name-list", "-j", "--dimensions", "host=web1"),
                         [{"name": n} for n in
                          ["interop.cpu", "interop.mem", "interop.now", "interop.old"]])

    def test_limit(self):
        self.assertEqual(self.json("metric-name-list", "-j", "--limit", "2"),
                         [{"name": n} for n in self.NAMES[:2]])

    def test_table(self):
        r = self.ok("metric-name-list")
        cells = [line.strip("|").strip() for line in r.out.splitlines() if line.startswith("|")]
        self.assertEqual(cells, ["Name"] + self.NAMES, r.describe())


class T4Measurements(MonascaTestCase):
    def test_single_series_relative_start(self):
        self.assertEqual(
            self.json("measurement-list", "-j", "interop.cpu", "-120",
                      "--dimensions", "host=web1"),
            [{"id": "0", "name": "interop.cpu", "dimensions": CPU1, "columns": MEAS_COLUMNS,
              "measurements": [[iso_ms(T0 + 123), 1.5, {"msg": "ok", "unit": "pct"}]]}])

    def test_single_series_by_name_only(self):
        # one series under the name: its own dimensions are reported
        self.assertEqual(
            self.json("measurement-list", "-j", "interop.mem", "-120"),
            [{"id": "0", "name": "interop.mem", "dimensions": {"host": "web1"},
              "columns": MEAS_COLUMNS, "measurements": [[iso_ms(T0), 42, {"unit": "MB"}]]}])

    def test_absolute_start(self):
        self.assertEqual(
            self.json("measurement-list", "-j", "interop.stats", iso_s(T0 + 60_000)),
            [{"id": "0", "name": "interop.stats", "dimensions": {"host": "s1"},
              "columns": MEAS_COLUMNS,
              "measurements": [[iso_ms(T0 + 60_000), 10, {}], [iso_ms(T0 + 70_000), 20, {}]]}])

    def test_end_time_is_exclusive(self):
        got = self.json("measurement-list", "-j", "interop.stats", iso_s(T0),
                        "--endtime", iso_s(T0 + 60_000))
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["measurements"],
                         [[iso_ms(T0 + o), v, {}] for o, v in STATS_POINTS[:3]])

    def test_limit(self):
        got = self.json("measurement-list", "-j", "interop.stats", "-120", "--limit", "2")
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["measurements"],
                         [[iso_ms(T0 + o), v, {}] for o, v in STATS_POINTS[:2]])

    def test_default_time_is_now(self):
        got = self.json("measurement-list", "-j", "interop.now", "-30")
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["dimensions"], {"host": "web1"})
        rows = got[0]["measurements"]
        self.assertEqual(len(rows), 1, rows)
        ts, value, meta = rows[0]
        self.assertRegex(ts, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        when = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000
        self.assertLess(abs(when - NOW_MS), 10 * 60 * 1000, ts)
        self.assertEqual((value, meta), (5, {}))

    def test_multiple_metrics_without_merge(self):
        self.fails("measurement-list", "interop.cpu", "-120",
                   contains=("MultipleMetrics (HTTP 409)",
                             "Found multiple metrics matching metric name and dimensions"))
        self.fails("measurement-list", "-j", "interop.cpu", "-120",
                   "--dimensions", "service=compute", contains=("MultipleMetrics",))

    def test_merge_metrics(self):
        self.assertEqual(
            self.json("measurement-list", "-j", "interop.cpu", "-120", "--merge_metrics"),
            [{"id": "0", "name": "interop.cpu", "dimensions": {}, "columns": MEAS_COLUMNS,
              "measurements": [[iso_ms(T0 + 123), 1.5, {"msg": "ok", "unit": "pct"}],
                               [iso_ms(T0 + 1000), 2.5, {}]]}])

    def test_merge_metrics_reports_query_dimensions(self):
        got = self.json("measurement-list", "-j", "interop.cpu", "-120", "--merge_metrics",
                        "--dimensions", "service=compute")
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["dimensions"], {"service": "compute"})
        self.assertEqual([m[1] for m in got[0]["measurements"]], [1.5, 2.5])

    def test_group_by_all(self):
        self.assertEqual(
            self.json("measurement-list", "-j", "interop.grp", "-120", "--group_by", "*"),
            [{"id": "0", "name": "interop.grp", "dimensions": {"host": "g1"},
              "columns": MEAS_COLUMNS,
              "measurements": [[iso_ms(T0), 1, {}], [iso_ms(T0 + 60_000), 3, {}]]},
             {"id": "1", "name": "interop.grp", "dimensions": {"host": "g2"},
              "columns": MEAS_COLUMNS,
              "measurements": [[iso_ms(T0 + 2000), 2, {}]]}])

    def test_group_by_key(self):
        got = self.json("measurement-list", "-j", "interop.cpu", "-120", "--group_by", "host")
        self.assertEqual([(g["id"], g["dimensions"], [m[1] for m in g["measurements"]])
                          for g in got],
                         [("0", {"host": "web1"}, [1.5]), ("1", {"host": "web2"}, [2.5])])

    def test_no_match(self):
        self.assertEqual(self.json("measurement-list", "-j", "interop.cpu", "-120",
                                   "--dimensions", "host=nosuch"), [])
        self.assertEqual(self.json("measurement-list", "-j", "interop.nosuch", "-120"), [])

    def test_table(self):
        r = self.ok("measurement-list", "interop.cpu", "-120", "--dimensions", "host=web1")
        self.assertIn(iso_ms(T0 + 123), r.out, r.describe())
        self.assertIn("1.500", r.out, r.describe())
        self.assertIn("msg: ok", r.out, r.describe())
        self.assertIn("interop.cpu", r.out, r.describe())


def stat_row(ts, values):
    n = len(values)
    return [iso_s(ts), sum(values) / n, min(values), max(values), n, sum(values)]


class T5Statistics(MonascaTestCase):
    def assertStats(self, got, expected):
        """Rows equal, avg compared to 9 places, count an integer as InfluxDB reports it."""
        self.assertEqual(len(got), len(expected), (got, expected))
        for g, e in zip(got, expected):
            self.assertEqual(len(g), len(e), (g, e))
            self.assertEqual(g[0], e[0], (g, e))
            for col, gv, ev in zip(STAT_COLUMNS[1:], g[1:], e[1:]):
                self.assertIsInstance(gv, (int, float), (col, g))
                self.assertAlmostEqual(gv, ev, places=9, msg="%s in %s" % (col, g))
            if len(g) == len(STAT_COLUMNS):
                self.assertIsInstance(g[4], int, "count must be an integer: %r" % (g,))

    def test_all_statistics_period_60(self):
        got = self.json("metric-statistics", "-j", "interop.stats", "avg,min,max,count,sum",
                        "-120", "--period", "60")
        self.assertEqual(len(got), 1, got)
        el = got[0]
        self.assertEqual((el["id"], el["name"], el["dimensions"], el["columns"]),
                         ("0", "interop.stats", {"host": "s1"}, STAT_COLUMNS))
        self.assertStats(el["statistics"], [stat_row(T0, [1, 2, 3]),
                                            stat_row(T0 + 60_000, [10, 20])])

    def test_default_period_300(self):
        got = self.json("metric-statistics", "-j", "interop.stats", "avg,min,max,count,sum",
                        "-120")
        self.assertEqual(len(got), 1, got)
        self.assertStats(got[0]["statistics"], [stat_row(T0, [1, 2, 3, 10, 20])])

    def test_absolute_start_and_column_order(self):
        got = self.json("metric-statistics", "-j", "interop.stats", "sum,count",
                        iso_s(T0 + 60_000), "--period", "60")
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["columns"], ["timestamp", "sum", "count"])
        self.assertEqual(got[0]["statistics"], [[iso_s(T0 + 60_000), 30, 2]])
        self.assertIsInstance(got[0]["statistics"][0][2], int)

    def test_merge_metrics(self):
        got = self.json("metric-statistics", "-j", "interop.cpu", "avg,min,max,count,sum",
                        "-120", "--period", "60", "--merge_metrics")
        self.assertEqual(len(got), 1, got)
        self.assertEqual((got[0]["id"], got[0]["dimensions"], got[0]["columns"]),
                         ("0", {}, STAT_COLUMNS))
        self.assertStats(got[0]["statistics"], [stat_row(T0, [1.5, 2.5])])

    def test_group_by_all(self):
        got = self.json("metric-statistics", "-j", "interop.grp", "avg,min,max,count,sum",
                        "-120", "--period", "60", "--group_by", "*")
        self.assertEqual([(g["id"], g["name"], g["dimensions"]) for g in got],
                         [("0", "interop.grp", {"host": "g1"}),
                          ("1", "interop.grp", {"host": "g2"})])
        self.assertStats(got[0]["statistics"], [stat_row(T0, [1]), stat_row(T0 + 60_000, [3])])
        self.assertStats(got[1]["statistics"], [stat_row(T0, [2])])

    def test_multiple_metrics_without_merge(self):
        self.fails("metric-statistics", "interop.cpu", "avg", "-120",
                   contains=("MultipleMetrics (HTTP 409)",))

    def test_table(self):
        r = self.ok("metric-statistics", "interop.stats", "avg,min,max,count,sum", "-120",
                    "--period", "60")
        header = next((line for line in r.out.splitlines() if "timestamp" in line), "")
        self.assertEqual([c.strip() for c in header.strip("|").split("|")],
                         ["name", "dimensions"] + STAT_COLUMNS, r.describe())
        for text in (iso_s(T0), iso_s(T0 + 60_000), "2.000", "15.000", "30.000", "6.000"):
            self.assertIn(text, r.out, r.describe())


class T6Dimensions(MonascaTestCase):
    def test_names(self):
        self.assertEqual(self.json("dimension-name-list", "-j"),
                         [{"dimension_name": "host"}, {"dimension_name": "service"}])

    def test_names_of_metric(self):
        self.assertEqual(self.json("dimension-name-list", "-j", "--metric-name", "interop.mem"),
                         [{"dimension_name": "host"}])
        self.assertEqual(self.json("dimension-name-list", "-j", "--metric-name", "interop.cpu"),
                         [{"dimension_name": "host"}, {"dimension_name": "service"}])

    def test_names_table(self):
        r = self.ok("dimension-name-list")
        cells = [line.strip("|").strip() for line in r.out.splitlines() if line.startswith("|")]
        self.assertEqual(cells, ["Dimension Names", "host", "service"], r.describe())

    def test_values(self):
        self.assertEqual(self.json("dimension-value-list", "-j", "host"),
                         [{"dimension_value": v} for v in ["g1", "g2", "s1", "web1", "web2"]])
        self.assertEqual(self.json("dimension-value-list", "-j", "service"),
                         [{"dimension_value": "compute"}])
        self.assertEqual(self.json("dimension-value-list", "-j", "nosuch"), [])

    def test_values_of_metric(self):
        self.assertEqual(
            self.json("dimension-value-list", "-j", "host", "--metric-name", "interop.cpu"),
            [{"dimension_value": "web1"}, {"dimension_value": "web2"}])

    def test_values_table(self):
        r = self.ok("dimension-value-list", "host", "--metric-name", "interop.grp")
        cells = [line.strip("|").strip() for line in r.out.splitlines() if line.startswith("|")]
        self.assertEqual(cells, ["Dimension Values", "g1", "g2"], r.describe())


class T7Tenants(MonascaTestCase):
    def test_unknown_tenant_sees_nothing(self):
        other = "interop-c-" + RUN_ID
        self.assertEqual(self.json("metric-list", "-j", token=other), [])
        self.assertEqual(self.json("metric-name-list", "-j", token=other), [])
        self.assertEqual(self.json("dimension-name-list", "-j", token=other), [])
        self.assertEqual(self.json("dimension-value-list", "-j", "host", token=other), [])
        self.assertEqual(self.json("measurement-list", "-j", "interop.stats", "-120",
                                   token=other), [])
        self.assertEqual(self.json("metric-statistics", "-j", "interop.stats", "avg", "-120",
                                   token=other), [])

    def test_second_tenant_sees_only_its_own(self):
        self.assertEqual(self.json("metric-list", "-j", token=TENANT_B),
                         metrics([("interop.cpu", CPU1), ("interop.only_b", {"zone": "b"})]))
        self.assertEqual(self.json("metric-name-list", "-j", token=TENANT_B),
                         [{"name": "interop.cpu"}, {"name": "interop.only_b"}])
        self.assertEqual(self.json("dimension-value-list", "-j", "host", token=TENANT_B),
                         [{"dimension_value": "web1"}])
        # the same series key as tenant A's, with tenant B's value only
        self.assertEqual(
            self.json("measurement-list", "-j", "interop.cpu", "-120", token=TENANT_B),
            [{"id": "0", "name": "interop.cpu", "dimensions": CPU1, "columns": MEAS_COLUMNS,
              "measurements": [[iso_ms(T0 + 123), 99, {}]]}])
        self.assertEqual(self.json("measurement-list", "-j", "interop.stats", "-120",
                                   token=TENANT_B), [])

    def test_first_tenant_does_not_see_second(self):
        self.assertEqual(self.json("metric-list", "-j", "--name", "interop.only_b"), [])
        got = self.json("measurement-list", "-j", "interop.cpu", "-120", "--merge_metrics")
        self.assertNotIn(99, [m[1] for g in got for m in g["measurements"]])


class T8Alarming(MonascaTestCase):
    """Notification methods, alarm definitions, the threshold engine, alarms and history."""

    def wait_for_state(self, definition_id, state, timeout=15):
        deadline = time.time() + timeout
        alarms = []
        while time.time() < deadline:
            alarms = self.json("alarm-list", "-j", "--alarm-definition-id", definition_id)
            if alarms and all(a["state"] == state for a in alarms):
                return alarms
            time.sleep(0.3)
        self.fail("alarms of %s never reached %s: %s" % (definition_id, state, alarms))

    def test_alarm_lifecycle(self):
        nm = self.json("notification-create", "interop hook", "WEBHOOK",
                       "http://127.0.0.1:9/hook", "--period", "60")
        self.assertEqual((nm["name"], nm["type"], nm["period"]), ("interop hook", "WEBHOOK", 60))
        listed = self.json("notification-list", "-j")
        self.assertIn(nm["id"], [n["id"] for n in listed])
        self.assertEqual(self.json("notification-show", "-j", nm["id"])["address"],
                         "http://127.0.0.1:9/hook")
        types = [t["type"] for t in self.json("notification-type-list", "-j")]
        self.assertIn("WEBHOOK", types)

        d = self.json("alarm-definition-create", "interop disk",
                      "max(interop.disk{host=d1}) > 90", "--match-by", "host",
                      "--severity", "HIGH", "--alarm-actions", nm["id"],
                      "--description", "disk nearly full")
        self.assertEqual((d["severity"], d["match_by"], d["alarm_actions"]),
                         ("HIGH", ["host"], [nm["id"]]))
        got = self.json("alarm-definition-list", "-j", "--name", "interop disk")
        self.assertEqual([x["id"] for x in got], [d["id"]])
        self.assertEqual(self.json("alarm-definition-show", "-j", d["id"])["expression"],
                         "max(interop.disk{host=d1}) > 90")

        # The first matching metric creates the alarm; max above 90 decides ALARM at once.
        self.ok("metric-create", "interop.disk", "95", "--dimensions", "host=d1")
        alarms = self.wait_for_state(d["id"], "ALARM")
        self.assertEqual(len(alarms), 1)
        alarm = alarms[0]
        self.assertEqual(alarm["metrics"], [{"name": "interop.disk", "dimensions": {"host": "d1"}}])
        self.assertEqual(alarm["alarm_definition"]["name"], "interop disk")
        shown = self.json("alarm-show", "-j", alarm["id"])
        self.assertEqual(shown["state"], "ALARM")

        history = self.json("alarm-history", "-j", alarm["id"])
        self.assertEqual([(h["old_state"], h["new_state"]) for h in history],
                         [("UNDETERMINED", "ALARM")])
        self.assertEqual(history[0]["reason"],
                         "Thresholds were exceeded for the sub-alarms: "
                         "max(interop.disk{host=d1}) > 90.0 with the values: [95.0]")
        self.assertEqual(history[0]["sub_alarms"][0]["sub_alarm_state"], "ALARM")
        # alarm-history-list asks for /alarms/state-history/ with a trailing slash.
        listed = self.json("alarm-history-list", "-j", "--dimensions", "host=d1")
        self.assertIn(alarm["id"], [h["alarm_id"] for h in listed])

        count = self.json("alarm-count", "-j", "--alarm-definition-id", d["id"])
        self.assertEqual((count["columns"], count["counts"]), (["count"], [[1]]))
        count = self.json("alarm-count", "-j", "--group-by", "state",
                          "--alarm-definition-id", d["id"])
        self.assertEqual(count["counts"], [[1, "ALARM"]])

        updated = self.json("alarm-update", alarm["id"], "OK", "OPEN", "http://ticket/1")
        self.assertEqual((updated["state"], updated["lifecycle_state"], updated["link"]),
                         ("OK", "OPEN", "http://ticket/1"))
        patched = self.json("alarm-definition-patch", d["id"], "--severity", "LOW")
        self.assertEqual(patched["severity"], "LOW")

        # The other tenant sees none of it.
        self.assertEqual(self.json("alarm-list", "-j", token=TENANT_B), [])
        self.assertEqual(self.json("alarm-definition-list", "-j", token=TENANT_B), [])
        self.fails("alarm-show", alarm["id"], token=TENANT_B, contains=["(HTTP 404)"])

        r = self.ok("alarm-delete", alarm["id"])
        self.assertIn("Successfully deleted alarm", r.out)
        r = self.ok("alarm-definition-delete", d["id"])
        self.assertIn("Successfully deleted alarm definition", r.out)
        r = self.ok("notification-delete", nm["id"])
        self.assertIn("Successfully deleted notification", r.out)

    def test_invalid_expression_is_422(self):
        self.fails("alarm-definition-create", "interop bad", "avg(interop.x, 61) > 1",
                   contains=["Invalid alarm expression (HTTP 422)",
                             "Period 61 must be a multiple of 60"])

    def test_unknown_action_is_422(self):
        self.fails("alarm-definition-create", "interop bad action", "max(interop.x) > 1",
                   "--alarm-actions", "no-such-notification",
                   contains=["(HTTP 422)", "Non-existent notification id"])


IDENTITY_PORT = os.environ.get("VIGIL_IDENTITY_PORT", "")


def monasca_password(*args, user="mini-mon", password="password", project="mini-mon"):
    """The real CLI logging in with a password against Vigil's built-in identity service."""
    env = {
        "PATH": os.path.dirname(MONASCA) + os.pathsep + "/usr/bin:/bin",
        "HOME": HOME,
        "LANG": "C.UTF-8",
        "OS_AUTH_URL": "http://127.0.0.1:%s/identity" % IDENTITY_PORT,
        "OS_USERNAME": user,
        "OS_PASSWORD": password,
        "OS_PROJECT_NAME": project,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
    }
    proc = subprocess.run([MONASCA, *[str(a) for a in args]], env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    return Result([str(a) for a in args], user, proc)


@unittest.skipUnless(IDENTITY_PORT, "VIGIL_IDENTITY_PORT not set")
class T9Keystone(MonascaTestCase):
    """Password login through Vigil's Keystone v3 subset; the endpoint comes from the catalog."""

    def test_password_login_and_catalog(self):
        r = monasca_password("metric-create", "interop.ks", "3", "--dimensions", "host=k1")
        self.assertEqual(r.rc, 0, r.describe())
        r = monasca_password("metric-list", "-j", "--name", "interop.ks")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(json.loads(r.out),
                         [{"id": "0", "name": "interop.ks", "dimensions": {"host": "k1"}}])

    def test_agent_may_post_but_not_read(self):
        r = monasca_password("metric-create", "interop.agent", "1", user="monasca-agent")
        self.assertEqual(r.rc, 0, r.describe())
        r = monasca_password("metric-list", user="monasca-agent")
        self.assertEqual(r.rc, 1, r.describe())
        self.assertIn("Forbidden (HTTP 401)", r.err)

    def test_wrong_password(self):
        r = monasca_password("metric-list", password="not-the-password")
        self.assertEqual(r.rc, 1, r.describe())
        self.assertIn("(HTTP 401)", r.err)
        self.assertNotIn("not-the-password", r.out + r.err)


class T9Notifications(MonascaTestCase):
    """Alarm transitions reach real receivers: a webhook, an SMTP server, PagerDuty's and
    Slack's request shapes; a receiver answering 500 gets the same event again; a refused
    mailbox is recorded as failed."""

    @classmethod
    def setUpClass(cls):
        cls.http = receivers.HttpRecorder(HOOK_PORT)
        cls.smtp = receivers.SmtpRecorder(SMTP_PORT)

    @classmethod
    def tearDownClass(cls):
        cls.http.stop()
        cls.smtp.stop()

    def method(self, name, kind, address, *extra):
        return self.json("notification-create", name, kind, address, *extra)["id"]

    def deliveries(self, method_id):
        req = urllib.request.Request(
            "%s/notification-methods/%s/deliveries" % (ENDPOINT, method_id),
            headers={"X-Auth-Token": TENANT_A})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["elements"]

    def wait_deliveries(self, method_id, predicate, timeout=20):
        deadline = time.time() + timeout
        got = []
        while time.time() < deadline:
            got = self.deliveries(method_id)
            if predicate(got):
                return got
            time.sleep(0.2)
        self.fail("deliveries of %s: %s" % (method_id, got))

    def test_transitions_reach_webhook_email_pagerduty_and_slack(self):
        hook = self.method("n hook", "WEBHOOK", "http://127.0.0.1:%d/hook" % HOOK_PORT)
        mail = self.method("n mail", "EMAIL", "ops@example.com")
        pd = self.method("n pd", "PAGERDUTY", "0123456789abcdef0123456789ABCDEF")
        slack = self.method("n slack", "SLACK", "http://127.0.0.1:%d/slack/T0/B0" % HOOK_PORT)
        d = self.json("alarm-definition-create", "interop notify",
                      "last(interop.notify) > 90", "--match-by", "hostname",
                      "--severity", "HIGH", "--description", "notify on fire",
                      "--alarm-actions", hook, "--alarm-actions", mail,
                      "--alarm-actions", pd, "--alarm-actions", slack,
                      "--ok-actions", hook, "--ok-actions", pd)
        self.ok("metric-create", "interop.notify", "95", "--dimensions", "hostname=web1")
        got = self.http.wait(lambda r: r["path"] == "/hook", what="the ALARM webhook")
        body = got[0]["json"]
        alarm = self.json("alarm-list", "-j", "--alarm-definition-id", d["id"])[0]
        self.assertEqual(sorted(body), sorted([
            "alarm_id", "alarm_definition_id", "alarm_name", "alarm_description",
            "alarm_timestamp", "state", "old_state", "message", "tenant_id", "metrics"]))
        self.assertEqual(body["alarm_id"], alarm["id"])
        self.assertEqual(body["alarm_definition_id"], d["id"])
        self.assertEqual(body["alarm_name"], "interop notify")
        self.assertEqual(body["alarm_description"], "notify on fire")
        self.assertEqual((body["old_state"], body["state"]), ("UNDETERMINED", "ALARM"))
        self.assertEqual(body["tenant_id"], TENANT_A)
        self.assertEqual(body["metrics"],
                         [{"name": "interop.notify", "dimensions": {"hostname": "web1"}}])
        self.assertEqual(body["message"],
                         "Thresholds were exceeded for the sub-alarms: "
                         "last(interop.notify) > 90.0 with the values: [95.0]")
        self.assertIsInstance(body["alarm_timestamp"], int)
        self.assertLess(abs(body["alarm_timestamp"] - time.time()), 600)
        self.assertEqual(got[0]["headers"]["content-type"], "application/json")
        self.assertTrue(got[0]["headers"].get("idempotency-key"))

        # PagerDuty's Events API v1 request, to the configured URL.
        trig = self.http.wait(lambda r: r["path"] == "/pagerduty", what="the PagerDuty event")
        ev = trig[0]["json"]
        self.assertEqual(ev["service_key"], "0123456789abcdef0123456789ABCDEF")
        self.assertEqual(ev["event_type"], "trigger")
        self.assertEqual(ev["incident_key"], alarm["id"])
        self.assertEqual(ev["client"], "Monasca")
        self.assertEqual(ev["details"]["alarm_id"], alarm["id"])
        self.assertEqual(ev["details"]["current"], "ALARM")

        # Slack's incoming webhook gets the webhook document as text.
        sl = self.http.wait(lambda r: r["path"].startswith("/slack"), what="the Slack post")
        self.assertEqual(json.loads(sl[0]["json"]["text"])["alarm_id"], alarm["id"])

        # A real e-mail through SMTP, with upstream's subject and body.
        msgs = self.smtp.wait(lambda m: "ops@example.com" in m[0], what="the e-mail")
        rcpt, sender, msg = msgs[0]
        self.assertEqual(str(msg["Subject"]), 'ALARM HIGH "interop notify" for Host: web1')
        self.assertEqual(str(msg["To"]), "ops@example.com")
        self.assertEqual(sender, "vigil@example.com")
        text = msg.get_content()
        self.assertIn('On host "web1" thresholds were exceeded for the sub-alarms', text)
        self.assertIn('Alarm "interop notify" transitioned to the ALARM state at', text)
        self.assertIn("alarm_id: %s" % alarm["id"], text)
        self.assertIn("hostname: web1", text)

        # Back to OK: the OK actions only (webhook and a PagerDuty resolve).
        self.ok("metric-create", "interop.notify", "10", "--dimensions", "hostname=web1")
        oks = self.http.wait(lambda r: r["path"] == "/hook" and r["json"]["state"] == "OK",
                             what="the OK webhook")
        self.assertEqual(oks[0]["json"]["old_state"], "ALARM")
        res = self.http.wait(lambda r: r["path"] == "/pagerduty"
                             and r["json"]["event_type"] == "resolve", what="the resolve")
        self.assertEqual(res[0]["json"]["incident_key"], alarm["id"])
        time.sleep(1)
        self.assertEqual(len([m for m in self.smtp.messages if "ops@example.com" in m[0]]), 1,
                         "OK has no e-mail action")
        for m in (hook, mail, pd, slack):
            self.assertTrue(all(a["status"] == "DELIVERED" for a in self.deliveries(m)),
                            self.deliveries(m))

    def test_a_failing_receiver_gets_the_same_event_again(self):
        self.http.answer("/flaky", [500])
        hook = self.method("n flaky", "WEBHOOK", "http://127.0.0.1:%d/flaky" % HOOK_PORT)
        self.json("alarm-definition-create", "interop flaky", "max(interop.flaky) > 1",
                  "--alarm-actions", hook)
        self.ok("metric-create", "interop.flaky", "5")
        got = self.http.wait(lambda r: r["path"] == "/flaky", what="the first attempt")
        got = self.wait_deliveries(hook, lambda a: any(x["status"] == "DELIVERED" for x in a))
        self.assertEqual([a["status"] for a in got], ["DELIVERED", "RETRYING"])
        self.assertIn("500", got[1]["answer"])
        posts = [r for r in self.http.requests if r["path"] == "/flaky"]
        self.assertEqual(len(posts), 2)
        self.assertEqual(posts[0]["headers"]["idempotency-key"],
                         posts[1]["headers"]["idempotency-key"])
        self.assertEqual(posts[0]["body"], posts[1]["body"])

    def test_a_refused_mailbox_is_recorded_as_failed(self):
        self.smtp.refuse.add("nobody@example.com")
        mail = self.method("n refused", "EMAIL", "nobody@example.com")
        self.json("alarm-definition-create", "interop refused", "max(interop.refused) > 1",
                  "--alarm-actions", mail)
        self.ok("metric-create", "interop.refused", "5")
        got = self.wait_deliveries(mail, lambda a: any(x["status"] == "FAILED" for x in a))
        self.assertIn("550", got[0]["answer"])
        self.assertNotIn("nobody@example.com", [r for m in self.smtp.messages for r in m[0]])

    def test_bad_addresses_are_refused(self):
        for kind, address, extra, why in [
                ("EMAIL", "not an address", (), "is not of correct format"),
                ("WEBHOOK", "ftp://127.0.0.1/x", (), "scheme is not in"),
                ("PAGERDUTY", "short-key", (), "PagerDuty"),
                ("EMAIL", "ops@example.com", ("--period", "60"), "only be set with webhooks")]:
            r = monasca("notification-create", "bad " + kind, kind, address, *extra)
            self.assertNotEqual(r.rc, 0, r.describe())
            self.assertIn(why, r.out + r.err, r.describe())


def main():
    global HOME
    if not PORT:
        print("VIGIL_PORT is not set: run tests/interop/monascaclient.sh", file=sys.stderr)
        return 2
    if not os.access(MONASCA, os.X_OK):
        print("no monasca CLI at %s (set MONASCA_BIN)" % MONASCA, file=sys.stderr)
        return 2
    HOME = tempfile.mkdtemp(prefix="monasca-home.")
    try:
        print("monasca CLI %s against %s; T0=%s" % (MONASCA, ENDPOINT, iso_ms(T0)), flush=True)
        create_data()
        suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
    # A test with failing subtests appears once per subtest: count tests, not entries.
    bad = {getattr(t, "test_case", t).id()
           for t, _ in result.failures + result.errors}
    bad |= {t.id() for t in result.unexpectedSuccesses}
    failed = len(bad)
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
