#!/usr/bin/env bash
# The ClickHouse metric store against a real, throwaway `clickhouse-server` (Debian's 18.16 in
# CI): the store's own tests (conformance, hostile strings, tenancy; they start their own
# server), then vigil-server's whole integration suite with every in-process server's
# measurements in ClickHouse (once over one server, once over a cluster of two shards), plus two
# `vigil serve --metric-store clickhouse` processes over one database.
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

# start NAME HTTP_PORT TCP_PORT [EXTRA_XML]: a server in $DIR/NAME; waits for /ping.
start() {
    local d="$DIR/$1" http=$2 tcp=$3 extra=${4:-}
    mkdir -p "$d/log"
    cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  $extra
</yandex>
XML
    (cd "$d" && exec "$BIN" --config-file="$d/config.xml" >/dev/null 2>&1) &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 600); do
        curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$d/log/error.log" >&2 || true; exit 2; }
        sleep 0.1
    done
    echo "clickhouse test: $1 did not answer /ping" >&2
    exit 2
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
echo "== the server suite over two ClickHouse shards (Distributed tables)"
VIGIL_TEST_CLICKHOUSE_URL="http://127.0.0.1:$H1,http://127.0.0.1:$H2" VIGIL_TEST_CLICKHOUSE_CLUSTER=vigil_test \
    cargo test -p vigil-server --test tests
