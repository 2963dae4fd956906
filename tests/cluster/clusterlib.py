"""What every tests/cluster/check_*.py shares: the cluster's addresses (from run.sh's
environment), raw HTTP calls, logins, the engine controls and a `check` that stops the run."""

import calendar
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

LB = os.environ["CLUSTER_LB"]
NODES = os.environ["CLUSTER_NODES"].split()
CTL = os.environ["CLUSTER_CTL"]
DIR = os.environ["CLUSTER_DIR"]
MONASCA_PY = os.environ.get("MONASCA_PY", "")
MONASCA_RS = os.environ.get("MONASCA_RS", "")

# The users of run.sh's vigil.toml: two projects.
USER_A = ("mini-mon", "password", "mini-mon")
USER_B = ("other-user", "other-password", "other-project")

# No request may take longer than this, outages included (then it counts as a hang).
TIMEOUT_S = 15


class Reply:
    """An HTTP answer: status, lower-cased headers, the JSON body (or text when not JSON; None
    when empty), and how long it took. status 0 is a transport failure (reset, timeout)."""

    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def __repr__(self):
        return f"HTTP {self.status} {str(self.body)[:300]!r} ({self.seconds:.1f} s)"


def _decode(raw):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def call(method, url, token=None, body=None, headers=None, timeout=TIMEOUT_S):
    """One request; never raises for an HTTP status or a transport failure."""
    h = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    if token:
        h["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, _decode(raw),
                         time.monotonic() - t0)
    except urllib.error.HTTPError as e:
        raw = e.read()
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, _decode(raw),
                     time.monotonic() - t0)
    except (OSError, urllib.error.URLError) as e:
        return Reply(0, {}, f"{type(e).__name__}: {e}", time.monotonic() - t0)


def url(base, path, **params):
    """base + path with `params` (None dropped) as a query string, every byte encoded."""
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None},
                               quote_via=urllib.parse.quote)
    return f"{base}{path}{'?' + q if q else ''}"


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    # The answer a message ends with matters on failure only.
    print(f"ok: {what if len(what) < 150 else what[:147] + '...'}", flush=True)


def login(user=USER_A, base=LB):
    """A project-scoped token of the built-in identity."""
    name, password, project = user
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    r = call("POST", f"{base}/identity/v3/auth/tokens", body=body)
    check(r.status == 201, f"{name} logs in through {base} ({r})")
    return r.headers["x-subject-token"]


def ctl(*args):
    """ctl.sh ACTION [ARG]: start or stop an engine or a node."""
    t0 = time.monotonic()
    subprocess.run(["bash", CTL, *map(str, args)], check=True, stdin=subprocess.DEVNULL)
    print(f"   ctl {' '.join(map(str, args))} ({time.monotonic() - t0:.1f} s)", flush=True)


def elements(reply):
    return reply.body.get("elements", []) if isinstance(reply.body, dict) else []


def measurements_of(base, token, name, start_ms, dimensions=None):
    """Every (timestamp ms, value) of metric `name` since start_ms, merged, through `base`,
    following `next` links; None when a page is not 200."""
    dims = ",".join(f"{k}:{v}" for k, v in (dimensions or {}).items()) or None
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start_ms // 1000)) + "Z"
    page = url(base, "/v2.0/metrics/measurements", name=name, start_time=start,
               dimensions=dims, merge_metrics="true", limit=10000)
    out = []
    while page:
        r = call("GET", page, token, timeout=60)
        if r.status != 200:
            print(f"   measurements page: {r}")
            return None
        for series in elements(r):
            cols = series["columns"]
            ts_i, v_i = cols.index("timestamp"), cols.index("value")
            for m in series["measurements"]:
                out.append((iso_ms(m[ts_i]), m[v_i]))
        nxt = [link["href"] for link in r.body.get("links", []) if link.get("rel") == "next"]
        # The next link names whichever node answered; keep asking `base`.
        page = base + nxt[0][nxt[0].index("/v2.0/"):] if nxt else None
    return out


def iso_ms(s):
    """'2026-12-04T23:10:46.123Z' as ms since the epoch."""
    main, _, frac = s.rstrip("Z").partition(".")
    secs = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int((frac or "0").ljust(3, "0")[:3])


def is_monasca_error(reply, status):
    """`reply` is `status` in monasca-api's (falcon's) error shape: a JSON object with a
    string `title` and, if any, a string `description`, and nothing else."""
    b = reply.body
    return (reply.status == status and isinstance(b, dict) and isinstance(b.get("title"), str)
            and set(b) <= {"title", "description"}
            and isinstance(b.get("description", ""), str))


class Writer:
    """Threads posting one measurement a request of metric `name` (dimension `writer`),
    each with its own timestamp, through `base` until stopped; they remember which timestamps
    got a 204 and every other answer."""

    def __init__(self, base, token, name, threads=2, pause=0.0):
        self.base, self.token, self.name, self.pause = base, token, name, pause
        self.acked, self.refused, self.lock = [], [], threading.Lock()
        self.stopping = threading.Event()
        self.start_ms = int(time.time() * 1000) - 1000
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]

    def _run(self, i):
        # Distinct timestamps across threads: thread i takes start + i, + i + n, ...
        n = len(self.threads)
        ts = self.start_ms + i
        while not self.stopping.is_set():
            body = [{"name": self.name, "dimensions": {"writer": "w"}, "timestamp": ts,
                     "value": float(ts % 100000)}]
            r = call("POST", f"{self.base}/v2.0/metrics", self.token, body)
            with self.lock:
                (self.acked if r.status == 204 else self.refused).append((ts, r))
            ts += n
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(TIMEOUT_S + 5)

    def acked_count(self):
        with self.lock:
            return len(self.acked)

    def wait_acks(self, n, within_s, what):
        """Waits until `n` more writes were acknowledged."""
        goal = self.acked_count() + n
        deadline = time.monotonic() + within_s
        while self.acked_count() < goal:
            check(time.monotonic() < deadline, f"{n} writes acknowledged within {within_s} s "
                  f"{what} (refusals: {self.refused[-3:]})")
            time.sleep(0.1)

    def all_listed(self, base, token, what):
        """Every acknowledged timestamp is listed through `base`, with its value."""
        listed = measurements_of(base, token, self.name, self.start_ms, {"writer": "w"})
        check(listed is not None, f"measurements of {self.name} listed through {base}")
        have = dict(listed)
        missing = [ts for ts, _ in self.acked if have.get(ts) != float(ts % 100000)]
        check(not missing, f"all {len(self.acked)} acknowledged measurements listed {what} "
              f"({len(missing)} missing, e.g. {missing[:5]})")
