#!/usr/bin/env bash
# Several `vigil serve` nodes behind Debian's `haproxy` (round-robin, loopback), sharing one
# throwaway PostgreSQL (`--config-db`) and one throwaway ClickHouse (`--metric-store`), checked
# through HAProxy with raw HTTP: a token issued by one node works on every node, a metric posted
# to one node is listed right after its 204, a definition made on one node is read on the other.
# (Alarm evaluation is not divided among nodes yet: see the README; not checked here.)
#
# Usage: tests/cluster/run.sh        (from anywhere; builds `vigil` with cargo)
#
# Environment:
#   CLUSTER_KEEP   set to 1 to keep the temp dir (configs, logs) after the run
#   VIGIL_PG_BIN   directory of initdb/pg_ctl [default: newest /usr/lib/postgresql/*/bin]
#
# Only 127.0.0.1 is used; everything runs from a temp dir and is stopped on exit. As root,
# PostgreSQL runs as the `postgres` user (it refuses root).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
die() { echo "cluster test: $*" >&2; exit 1; }

PG_BIN="${VIGIL_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[[ -x "$PG_BIN/initdb" ]] || die "no PostgreSQL server binaries (install Debian's postgresql)"
CH_BIN="$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)"
[[ -x "$CH_BIN" ]] || die "no clickhouse-server (install Debian's clickhouse-server)"
if ! command -v haproxy >/dev/null 2>&1 && [[ ! -x /usr/sbin/haproxy ]]; then
    sudo=""; [[ "$(id -u)" == 0 ]] || sudo=sudo
    $sudo apt-get install -y -q haproxy >/dev/null 2>&1 ||
        { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q haproxy >/dev/null; } ||
        die "cannot install haproxy"
fi
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

DIR="$(mktemp -d "${TMPDIR:-/tmp}/vigil-cluster.XXXXXX")"
chmod 755 "$DIR"
AS=()
if [[ "$(id -u)" == 0 ]]; then AS=(runuser -u postgres --); fi
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    [[ -d "$DIR/pg" ]] && "${AS[@]}" "$PG_BIN/pg_ctl" -D "$DIR/pg" -m immediate stop >/dev/null 2>&1 || true
    # A server may still be flushing as it exits: retry once.
    [[ "${CLUSTER_KEEP:-}" == 1 ]] && echo "kept $DIR" >&2 ||
        rm -rf "$DIR" 2>/dev/null || { sleep 1; rm -rf "$DIR"; }
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # URL PID WHAT
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || die "$3 exited (logs in $DIR)"
        sleep 0.1
    done
    die "$3 did not answer $1"
}

echo "== building vigil"
(cd "$REPO" && cargo build -q -p vigil-server --bin vigil)
VIGIL="$REPO/target/debug/vigil"

echo "== PostgreSQL"
PG_PORT=$(free_port)
mkdir -p "$DIR/pg" "$DIR/pgsock"
[[ ${#AS[@]} -eq 0 ]] || chown postgres "$DIR/pg" "$DIR/pgsock"
"${AS[@]}" "$PG_BIN/initdb" -D "$DIR/pg" -U vigil --auth=trust >/dev/null
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/log" -w \
    -o "-p $PG_PORT -k $DIR/pgsock -c listen_addresses=127.0.0.1" start >/dev/null
"${AS[@]}" "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U vigil -d postgres -c 'CREATE DATABASE vigil' >/dev/null
DB_URL="postgres://vigil@127.0.0.1:$PG_PORT/vigil"

echo "== ClickHouse"
CH_HTTP=$(free_port) CH_TCP=$(free_port)
mkdir -p "$DIR/ch/log"
cat >"$DIR/ch/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$DIR/ch/log/server.log</log><errorlog>$DIR/ch/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$CH_HTTP</http_port>
  <tcp_port>$CH_TCP</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$DIR/ch/data/</path>
  <tmp_path>$DIR/ch/tmp/</tmp_path>
  <user_files_path>$DIR/ch/user_files/</user_files_path>
  <format_schema_path>$DIR/ch/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
</yandex>
XML
(cd "$DIR/ch" && exec "$CH_BIN" --config-file="$DIR/ch/config.xml" >/dev/null 2>&1) &
PIDS+=($!)
wait_for "http://127.0.0.1:$CH_HTTP/ping" "${PIDS[-1]}" clickhouse-server

echo "== two vigil nodes"
NODES=()
for i in 1 2; do
    port=$(free_port)
    "$VIGIL" serve --bind "127.0.0.1:$port" --data-dir "$DIR/node$i" --auth identity \
        --config-db "$DB_URL" --metric-store clickhouse --clickhouse-url "http://127.0.0.1:$CH_HTTP" \
        >"$DIR/node$i.log" 2>&1 &
    PIDS+=($!)
    wait_for "http://127.0.0.1:$port/healthcheck" "${PIDS[-1]}" "node $i"
    NODES+=("http://127.0.0.1:$port")
done

echo "== haproxy"
LB_PORT=$(free_port)
cat >"$DIR/haproxy.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend vigil
    bind 127.0.0.1:$LB_PORT
    default_backend nodes
backend nodes
    balance roundrobin
    server n1 ${NODES[0]#http://}
    server n2 ${NODES[1]#http://}
CFG
"$HAPROXY" -f "$DIR/haproxy.cfg" -db >"$DIR/haproxy.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:$LB_PORT/healthcheck" "${PIDS[-1]}" haproxy

echo "== checks through haproxy"
python3 - "http://127.0.0.1:$LB_PORT" "${NODES[@]}" <<'PY'
import json, sys, time, urllib.error, urllib.request

lb, nodes = sys.argv[1], sys.argv[2:]

def call(method, url, token=None, body=None, headers=None):
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, dict(r.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")

def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")

auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "mini-mon", "domain": {"name": "Default"}, "password": "password"}}},
    "scope": {"project": {"name": "mini-mon", "domain": {"name": "Default"}}}}}
status, headers, _ = call("POST", f"{lb}/identity/v3/auth/tokens", body=auth)
check(status == 201, f"login through haproxy (HTTP {status})")
token = {k.lower(): v for k, v in headers.items()}["x-subject-token"]

for n in nodes:
    status, _, _ = call("GET", f"{n}/v2.0/metrics", token)
    check(status == 200, f"the token works on {n} (HTTP {status})")

now = int(time.time() * 1000)
for i in range(6):
    name = f"cluster.check.{i}"
    status, _, body = call("POST", f"{lb}/v2.0/metrics", token,
                           [{"name": name, "dimensions": {"hostname": "h1"},
                             "timestamp": now + i, "value": float(i)}])
    check(status == 204, f"metric {i} accepted (HTTP {status} {body})")
    status, _, body = call("GET", f"{lb}/v2.0/metrics?name={name}", token)
    listed = status == 200 and len(body.get("elements", [])) == 1
    check(listed, f"metric {i} listed by the next node right after its 204")

status, _, made = call("POST", f"{nodes[0]}/v2.0/alarm-definitions", token,
                       {"name": "cluster cpu", "expression": "avg(cluster.cpu) > 10"})
check(status == 201, f"definition created on node 1 (HTTP {status})")
status, _, got = call("GET", f"{nodes[1]}/v2.0/alarm-definitions/{made['id']}", token)
check(status == 200 and got["name"] == "cluster cpu", "definition read on node 2")

status, _, _ = call("DELETE", f"{nodes[1]}/identity/v3/auth/tokens", token,
                    headers={"X-Subject-Token": token})
check(status == 204, "token revoked on node 2")
status, _, _ = call("GET", f"{nodes[0]}/v2.0/metrics", token)
check(status == 401, f"node 1 refuses the revoked token (HTTP {status})")
PY
# Round-robin reached both nodes (their access logs name the route).
for i in 1 2; do
    grep -q 'route=/v2.0/metrics ' "$DIR/node$i.log" || die "node $i served no /v2.0/metrics request"
done
echo "cluster test: passed"
