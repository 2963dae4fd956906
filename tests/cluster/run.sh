#!/usr/bin/env bash
# Two `vigil serve` nodes behind Debian's `haproxy` (round-robin, loopback, TCP checks every
# 0.5 s, retries redispatched), sharing one throwaway PostgreSQL (`--config-db`) and a
# throwaway ClickHouse cluster of two shards (`--metric-store clickhouse`, Distributed tables).
# This script starts them and runs every
# tests/cluster/check_*.py in name order; each file is one group of checks:
#   check_10_basics      a token from one node works on the other and is revoked on both; a
#                        metric posted through the proxy is listed right after its 204; a
#                        definition made on one node is read on the other
#   check_20_clients     the real python-monascaclient 2.8.0 and the Rust `monasca` CLI, logged
#                        in with a password through the proxy: metric-create/list,
#                        alarm-definition-create/list, notification-create/list, each seeing
#                        what the other made
#   check_30_hostile     names, dimensions and value_meta full of quotes, backslashes, NULs and
#                        SQL written on one node and read back byte for byte on the other
#                        (metric-list, names, measurements, statistics, dimension names and
#                        values); what monasca validation refuses is 422 and stores nothing;
#                        definitions and notification methods named with SQL come back the same
#   check_40_tenants     a second project sees none of the first's metrics, definitions,
#                        alarms or notification methods through any list or get (also with
#                        tenant_id=), and gets 404 for updates and deletes of them
#   check_80_evaluation  alarm evaluation divided among the nodes: definitions made through the
#                        proxy held by both nodes, alarms created and following their metrics
#                        within 10 s whichever node receives them; `kill -9` of the node holding
#                        the most of them: the survivor takes its share over and the alarms
#                        transition; the node started again takes a share back; every alarm's
#                        history holds each transition once and the webhook receives each once
#   check_85_node_kill   `kill -9` of a node while writers post through the proxy: every
#                        acknowledged measurement is listed by the survivor; the node restarted
#                        serves again, directly and through the proxy
#   check_90_postgres    PostgreSQL stopped 30 s (immediate) under load: every request is a 503
#                        in the Monasca error shape (never 500 or 401, none slower than 15 s);
#                        the same node processes recover; nothing acknowledged is lost
#   check_95_clickhouse  ClickHouse killed and kept down 30 s under load: metric writes and
#                        reads 503, definitions still served, recovery, nothing acknowledged lost
# A new group is a new check_NN_name.py; it gets the environment below and can import
# tests/cluster/clusterlib.py. The destructive groups (85-95) come last: the others expect a
# cluster that has not just lost a node or a database.
#
# Usage: tests/cluster/run.sh        (from anywhere; builds `vigil` and `monasca` with cargo)
#
# Environment:
#   CLUSTER_KEEP   set to 1 to keep the temp dir (configs, logs) after the run
#   CLUSTER_ONLY   run only the check files whose name contains this (e.g. node_kill)
#   VIGIL_PG_BIN   directory of initdb/pg_ctl [default: newest /usr/lib/postgresql/*/bin]
#   INTEROP_VENV   virtualenv with python-monascaclient [default: $REPO/target/interop-venv,
#                  made as tests/interop/monascaclient.sh makes it: needs PyPI the first time]
#
# The checks get: CLUSTER_LB (the proxy's URL), CLUSTER_NODES (the nodes' URLs, space-separated),
# CLUSTER_CTL (tests/cluster/ctl.sh: pg-stop, ch-start, node-kill N, ...), CLUSTER_DIR,
# MONASCA_PY and MONASCA_RS (the two CLIs).
#
# Only 127.0.0.1 is used; everything runs from a temp dir and is stopped on exit. As root,
# PostgreSQL runs as the `postgres` user (it refuses root).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
die() { echo "cluster test: $*" >&2; exit 1; }
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
START=$SECONDS

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

echo "== building vigil and monasca"
(cd "$REPO" && cargo build -q -p vigil-server --bin vigil -p monasca-cli --bin monasca)
VIGIL="$REPO/target/debug/vigil"
MONASCA_RS="$REPO/target/debug/monasca"
VENV="${INTEROP_VENV:-$REPO/target/interop-venv}"
monascaclient_venv "$VENV"

DIR="$(mktemp -d "${TMPDIR:-/tmp}/vigil-cluster.XXXXXX")"
chmod 755 "$DIR"
export CLUSTER_DIR="$DIR"
CTL="$HERE/ctl.sh"
cleanup() {
    local rc=$?
    bash "$CTL" stop-all || true
    if [[ $rc -ne 0 ]]; then
        for log in "$DIR"/node*.log; do
            [[ -s "$log" ]] || continue
            echo "--- last warnings and errors of $log ---" >&2
            grep -E ' (WARN|ERROR) ' "$log" | tail -n 15 >&2 || true
        done
        for log in "$DIR/haproxy.log" "$DIR"/ch*/log/error.log "$DIR/pg/log"; do
            [[ -s "$log" ]] && { echo "--- last lines of $log ---" >&2; tail -n 5 "$log" >&2; }
        done
    fi
    # A server may still be flushing as it exits: retry once.
    [[ "${CLUSTER_KEEP:-}" == 1 ]] && echo "kept $DIR" >&2 ||
        rm -rf "$DIR" 2>/dev/null || { sleep 1; rm -rf "$DIR"; }
    exit "$rc"
}
trap cleanup EXIT
# Stopped by a signal (or its reader gone), still stop everything.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

port() { free_port python3; }
PG_PORT=$(port) LB_PORT=$(port)
CH_HTTP="$(port) $(port)" CH_TCP="$(port) $(port)"
NODE_PORTS="$(port) $(port)"
cat >"$DIR/cluster.env" <<ENV
VIGIL='$VIGIL'
PG_BIN='$PG_BIN'
PG_PORT=$PG_PORT
DB_URL='postgres://vigil@127.0.0.1:$PG_PORT/vigil'
CLICKHOUSE_SERVER='$CH_BIN'
CH_HTTP='$CH_HTTP'
CH_TCP='$CH_TCP'
NODE_PORTS='$NODE_PORTS'
ENV
# The example users, and a second project for the tenancy checks.
cat >"$DIR/vigil.toml" <<TOML
[[users]]
name = "mini-mon"
password = "password"
project = "mini-mon"
roles = ["monasca-user"]

[[users]]
name = "other-user"
password = "other-password"
project = "other-project"
roles = ["monasca-user"]
TOML

echo "== PostgreSQL"
mkdir -p "$DIR/pg" "$DIR/pgsock"
AS=()
if [[ "$(id -u)" == 0 ]]; then
    AS=(runuser -u postgres --)
    chown postgres "$DIR/pg" "$DIR/pgsock"
fi
"${AS[@]}" "$PG_BIN/initdb" -D "$DIR/pg" -U vigil --auth=trust -E UTF8 --locale=C --no-sync \
    >/dev/null
bash "$CTL" pg-start
"${AS[@]}" "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U vigil -d postgres \
    -c 'CREATE DATABASE vigil' >/dev/null

echo "== ClickHouse: two shards (cluster vigil_cluster, Distributed tables)"
bash "$CTL" ch-start

echo "== two vigil nodes"
NODES=()
for i in 1 2; do
    bash "$CTL" node-start "$i"
    read -ra ports <<<"$NODE_PORTS"
    NODES+=("http://127.0.0.1:${ports[$((i - 1))]}")
done

echo "== haproxy"
# TCP checks, as Kolla configures monasca-api: a dead node is taken out within a second, a
# node whose databases are down stays in (it answers 503 itself).
cat >"$DIR/haproxy.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch
frontend vigil
    bind 127.0.0.1:$LB_PORT
    default_backend nodes
backend nodes
    balance roundrobin
    server n1 ${NODES[0]#http://} check inter 500ms fall 1 rise 1
    server n2 ${NODES[1]#http://} check inter 500ms fall 1 rise 1
CFG
"$HAPROXY" -f "$DIR/haproxy.cfg" -db </dev/null >"$DIR/haproxy.log" 2>&1 &
echo $! >"$DIR/pids/haproxy"
wait_http python3 "http://127.0.0.1:$LB_PORT/healthcheck" "$!" 100 0.1 ||
    die "haproxy did not answer"

export CLUSTER_LB="http://127.0.0.1:$LB_PORT" CLUSTER_NODES="${NODES[*]}" CLUSTER_CTL="$CTL"
export MONASCA_PY="$VENV/bin/monasca" MONASCA_RS
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
echo "== checks (setup took $((SECONDS - START)) s)"
ran=0
for check in "$HERE"/check_*.py; do
    name="$(basename "$check" .py)"
    [[ -z "${CLUSTER_ONLY:-}" || "$name" == *"$CLUSTER_ONLY"* ]] || continue
    t0=$SECONDS
    echo "-- $name"
    "$VENV/bin/python" "$check" || die "$name failed (logs in $DIR; CLUSTER_KEEP=1 keeps them)"
    echo "-- $name passed in $((SECONDS - t0)) s"
    ran=$((ran + 1))
done
((ran > 0)) || die "no check matched CLUSTER_ONLY=${CLUSTER_ONLY:-}"
# Round-robin reached both nodes (their access logs name the route).
for i in 1 2; do
    grep -q 'route=/v2.0/metrics ' "$DIR/node$i.log" || die "node $i served no /v2.0/metrics request"
done
echo "cluster test: passed ($ran check files, $((SECONDS - START)) s)"
