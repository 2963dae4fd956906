#!/usr/bin/env bash
# The ClickHouse metric store against a real, throwaway `clickhouse-server` (Debian's 18.16 in
# CI): the store's own tests (conformance, hostile strings, tenancy; they start their own
# server), then vigil-server's whole integration suite with every in-process server's
# measurements in ClickHouse (once over one server, once over a cluster of two shards with every
# configuration in PostgreSQL), plus two `vigil serve --metric-store clickhouse` processes over
# one database; then the real python-monascaclient (tests/interop/monascaclient.sh), the real
# sdcclient (tests/interop/sdcclient.sh) and the `monasca`/`sdc` CLI suites against
# `vigil serve` over ClickHouse and a throwaway PostgreSQL.
#
# Usage: tests/clickhouse/run.sh        (from anywhere; builds what it runs with cargo)
#
# Environment:
#   CLICKHOUSE_SERVER  the server binary [default: clickhouse-server on PATH or in /usr/sbin]
#   CLICKHOUSE_KEEP    set to 1 to keep the temp dir (config, logs) after the run
#
# Only 127.0.0.1 is used; the server runs from a temp dir and is killed on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="${CLICKHOUSE_SERVER:-$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)}"
[[ -x "$BIN" ]] || { echo "clickhouse test: no clickhouse-server binary ($BIN)" >&2; exit 2; }

DIR="$(mktemp -d "${TMPDIR:-/tmp}/vigil-clickhouse.XXXXXX")"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    [[ "${CLICKHOUSE_KEEP:-}" == 1 ]] && echo "kept $DIR" >&2 || rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
die() { echo "clickhouse test: $*" >&2; exit 2; }
# shellcheck source=../throwaway.sh
source "$HERE/../throwaway.sh"
# start NAME HTTP_PORT TCP_PORT [EXTRA_XML]: a server in $DIR/NAME, killed on exit.
start() {
    clickhouse_start "$DIR/$1" "$2" "$3" "${4:-}"
    PIDS+=("$CLICKHOUSE_PID")
}

# One server, and a cluster of two shards (one server each) for a second pass.
HTTP=$(free_port) TCP=$(free_port)
start single "$HTTP" "$TCP"
URL="http://127.0.0.1:$HTTP"
echo "ClickHouse $(curl -fsS "$URL/" --data-binary 'SELECT version()') at $URL"
H1=$(free_port) T1=$(free_port) H2=$(free_port) T2=$(free_port)
REMOTE="<remote_servers><vigil_test>"
for t in "$T1" "$T2"; do
    REMOTE+="<shard><replica><host>127.0.0.1</host><port>$t</port></replica></shard>"
done
REMOTE+="</vigil_test></remote_servers>"
start shard1 "$H1" "$T1" "$REMOTE"
start shard2 "$H2" "$T2" "$REMOTE"

cd "$REPO"
cargo test -p metric-store-clickhouse -- --include-ignored
echo "== the server suite over one ClickHouse server"
VIGIL_TEST_CLICKHOUSE_URL="$URL" cargo test -p vigil-server --test tests
echo "== the server suite over two ClickHouse shards (Distributed tables), configuration in PostgreSQL"
# The ClickHouse + PostgreSQL combination: every server's configuration in a PostgreSQL database
# of the suite's throwaway server, its measurements in the cluster.
VIGIL_TEST_CLICKHOUSE_URL="http://127.0.0.1:$H1,http://127.0.0.1:$H2" VIGIL_TEST_CLICKHOUSE_CLUSTER=vigil_test \
    VIGIL_TEST_CONFIG_DB=postgres cargo test -p vigil-server --test tests

echo "== the real python-monascaclient against vigil serve over ClickHouse + PostgreSQL"
PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/vigil-pg.XXXXXX")"
PG_PORT=$(free_port)
postgres_start "$PG_DIR" "$PG_PORT"
trap 'postgres_stop "$PG_DIR"; rm -rf "$PG_DIR"; cleanup' EXIT
postgres_createdb "$PG_PORT" vigil_interop
cargo build -p vigil-server
VIGIL_METRIC_STORE=clickhouse VIGIL_CLICKHOUSE_URLS="$URL" VIGIL_CLICKHOUSE_DATABASE=vigil_interop \
    VIGIL_CONFIG_DB="postgres://vigil@127.0.0.1:$PG_PORT/vigil_interop" bash "$REPO/tests/interop/monascaclient.sh"
echo "== the real sdcclient against vigil serve over ClickHouse + PostgreSQL"
postgres_createdb "$PG_PORT" vigil_interop_sdc
VIGIL_METRIC_STORE=clickhouse VIGIL_CLICKHOUSE_URLS="$URL" VIGIL_CLICKHOUSE_DATABASE=vigil_interop_sdc \
    VIGIL_CONFIG_DB="postgres://vigil@127.0.0.1:$PG_PORT/vigil_interop_sdc" bash "$REPO/tests/interop/sdcclient.sh"
echo "== the monasca and sdc CLI suites, every vigil serve over ClickHouse + PostgreSQL"
VIGIL_TEST_CLICKHOUSE_URL="$URL" VIGIL_TEST_POSTGRES_URL="postgres://vigil@127.0.0.1:$PG_PORT" \
    cargo test -p monasca-cli -p sdc-cli --test tests
