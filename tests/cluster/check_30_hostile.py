"""Hostile strings through two nodes: metrics whose names, dimension keys and values and
value_meta hold quotes, backslashes, NULs, SQL and ClickHouse's own escapes are written on node
1 and read back byte for byte on node 2 through every metrics read (list, names, measurements,
statistics, dimension names and values); what monasca validation refuses (`"`, `\\`, `;` and
the other reserved characters in names and dimensions) is a 422 that stores nothing; alarm
definitions and notification methods with such names and descriptions go to PostgreSQL and come
back the same (or, for a NUL PostgreSQL cannot hold, a 422), never a 500."""

import time

from clusterlib import NODES, call, check, elements, is_monasca_error, login, url

token = login()
W, R = NODES[0], NODES[1]
RUN = str(int(time.time()))
NOW = int(time.time() * 1000)
START = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW // 1000 - 600))

# What monasca allows where (crates/monasca-api/src/v2_0/validate): names refuse
# <>={},"\;&() and space; dimension keys and values refuse <>={},"\;& (keys no leading _);
# value_meta refuses nothing. (`:` and `|` are kept out of dimensions only because the
# `dimensions=` filter uses them as separators.)
SQL = "x' OR '1'='1"
HOSTILE = [
    {
        "name": f"h.{RUN}.q'uo`te'--/*%_*\u0000nul\ttab\nnl\u00fc\U0001F600",
        "dimensions": {"k'ey\u0000 (sel)": "v'al) OR ('1' LIKE '1 -- \u0000",
                       "drop table": "') DROP TABLE points -- DROP TABLE series /*",
                       "esc\\'": None},  # replaced below: keys may not hold a backslash
        "value_meta": {"q\"uote": "it's \"quoted\" \\ back\\slash \\' \\\\ \u0000 nul",
                       "sql": "'; DROP TABLE points; --", "ch": "\\N\t\\t\n\r' \\x00",
                       "json": "{\"nested\": [1, \"two\"]}"},
    },
    {
        "name": f"h.{RUN}.{SQL.replace(' ', '_').replace('=', '')}\u0000",
        "dimensions": {"\u0000": "\u0000", "%": "%_", "\u00e9t\u00e9": "\\N".replace("\\", "/")},
        "value_meta": {"\u0000": SQL, "\\": "\\\\", "'": "''"},
    },
]
del HOSTILE[0]["dimensions"]["esc\\'"]
HOSTILE[0]["dimensions"]["esc'`"] = "`'`"

for i, m in enumerate(HOSTILE):
    body = [{**m, "timestamp": NOW - 1000 * (i * 10 + k), "value": float(k)} for k in range(3)]
    r = call("POST", f"{W}/v2.0/metrics", token, body)
    check(r.status == 204, f"hostile metric {i} accepted on node 1 ({r})")

for i, m in enumerate(HOSTILE):
    name, dims, meta = m["name"], m["dimensions"], m["value_meta"]
    what = f"hostile metric {i} on node 2"
    r = call("GET", url(R, "/v2.0/metrics", name=name), token)
    got = elements(r)
    check(r.status == 200 and len(got) == 1 and got[0]["name"] == name
          and got[0]["dimensions"] == dims, f"{what}: metric-list by name ({r})")
    flt = ",".join(f"{k}:{v}" for k, v in dims.items())
    r = call("GET", url(R, "/v2.0/metrics", name=name, dimensions=flt), token)
    check(r.status == 200 and len(elements(r)) == 1,
          f"{what}: metric-list by every dimension ({r})")
    r = call("GET", url(R, "/v2.0/metrics/names"), token)
    check(r.status == 200 and name in [e["name"] for e in elements(r)],
          f"{what}: metric-name-list holds the name exactly")
    r = call("GET", url(R, "/v2.0/metrics/measurements", name=name, dimensions=flt,
                        start_time=START), token)
    got = elements(r)
    ok = r.status == 200 and len(got) == 1 and got[0]["name"] == name
    ok = ok and got[0]["dimensions"] == dims
    cols = got[0]["columns"] if ok else []
    rows = got[0]["measurements"] if ok else []
    ok = ok and len(rows) == 3 and all(row[cols.index("value_meta")] == meta for row in rows)
    check(ok, f"{what}: measurement-list gives the dimensions and value_meta exactly ({r})")
    r = call("GET", url(R, "/v2.0/metrics/statistics", name=name, dimensions=flt,
                        start_time=START, statistics="count,sum", period="100000"), token)
    got = elements(r)
    ok = r.status == 200 and len(got) == 1 and got[0]["dimensions"] == dims
    totals = [sum(row[got[0]["columns"].index(c)] for row in got[0]["statistics"])
              for c in ("count", "sum")] if ok else None
    check(ok and totals == [3, 3.0], f"{what}: statistics count 3, sum 3 ({r})")
    r = call("GET", url(R, "/v2.0/metrics/dimensions/names", metric_name=name), token)
    check(r.status == 200 and sorted(e["dimension_name"] for e in elements(r)) == sorted(dims),
          f"{what}: dimension-name-list ({r})")
    for k, v in dims.items():
        r = call("GET", url(R, "/v2.0/metrics/dimensions/names/values", metric_name=name,
                            dimension_name=k), token)
        check(r.status == 200 and [e["dimension_value"] for e in elements(r)] == [v],
              f"{what}: dimension-value-list of {k!r} ({r})")

# Refused by validation: 422 in the Monasca shape, and nothing stored.
REFUSED = [
    {"name": f"r.{RUN}.\"quote"},
    {"name": f"r.{RUN}.back\\slash"},
    {"name": f"r.{RUN}.x';DROP_TABLE_points"},
    {"name": f"r.{RUN}.ok", "dimensions": {"k": "v\\"}},
    {"name": f"r.{RUN}.ok", "dimensions": {"k;DROP TABLE series": "v"}},
    {"name": f"r.{RUN}.ok", "dimensions": {"k": "'); DROP TABLE series; --"}},
    {"name": f"r.{RUN}.ok", "dimensions": {"_k": "v"}},
]
for m in REFUSED:
    r = call("POST", f"{W}/v2.0/metrics", token, {**m, "timestamp": NOW, "value": 1})
    check(is_monasca_error(r, 422), f"refused with 422 in the Monasca shape: {m} ({r})")
r = call("GET", url(R, "/v2.0/metrics/names"), token)
leaked = [e["name"] for e in elements(r) if e["name"].startswith(f"r.{RUN}.")]
check(r.status == 200 and not leaked, f"nothing refused was stored ({leaked})")

# Definitions and notification methods: PostgreSQL, bound parameters.
HOSTILE_TEXT = "x'); DROP TABLE alarm_definitions; -- \"q\" \\ back\\slash $$ $1 %s \u00fc"
r = call("POST", f"{W}/v2.0/alarm-definitions", token,
         {"name": f"def {RUN} {HOSTILE_TEXT}", "description": HOSTILE_TEXT,
          "expression": f"avg(h.{RUN}.cpu{{k'ey=v'al}}) > 1", "match_by": ["k'ey"]})
check(r.status == 201, f"hostile definition created on node 1 ({r})")
r = call("GET", f"{R}/v2.0/alarm-definitions/{r.body['id']}", token)
check(r.status == 200 and r.body["name"] == f"def {RUN} {HOSTILE_TEXT}"
      and r.body["description"] == HOSTILE_TEXT and r.body["match_by"] == ["k'ey"],
      f"hostile definition read back exactly on node 2 ({r})")
r = call("GET", url(R, "/v2.0/alarm-definitions", name=f"def {RUN} {HOSTILE_TEXT}"), token)
check(r.status == 200 and len(elements(r)) == 1, f"hostile definition found by name ({r})")
r = call("POST", f"{W}/v2.0/notification-methods", token,
         {"name": f"nm {RUN} {HOSTILE_TEXT}", "type": "WEBHOOK",
          "address": "http://127.0.0.1:9/x?q='%3B--"})
check(r.status == 201, f"hostile notification method created on node 1 ({r})")
r = call("GET", f"{R}/v2.0/notification-methods/{r.body['id']}", token)
check(r.status == 200 and r.body["name"] == f"nm {RUN} {HOSTILE_TEXT}"
      and r.body["address"] == "http://127.0.0.1:9/x?q='%3B--",
      f"hostile notification method read back exactly on node 2 ({r})")
# PostgreSQL text cannot hold NUL: a 422 (or, if some layer keeps it, a faithful copy).
r = call("POST", f"{W}/v2.0/alarm-definitions", token,
         {"name": f"nul {RUN} \u0000 '; --", "expression": "avg(cpu) > 1"})
if r.status == 201:
    got = call("GET", f"{R}/v2.0/alarm-definitions/{r.body['id']}", token)
    check(got.status == 200 and got.body["name"] == f"nul {RUN} \u0000 '; --",
          "a definition with a NUL is read back exactly")
else:
    check(is_monasca_error(r, 422), f"a definition name with a NUL is a 422 ({r})")
r = call("POST", f"{W}/v2.0/notification-methods", token,
         {"name": f"nul {RUN} \u0000", "type": "WEBHOOK", "address": "http://127.0.0.1:9/"})
check(r.status == 201 or is_monasca_error(r, 422),
      f"a notification method name with a NUL is a 201 or a 422 ({r})")
