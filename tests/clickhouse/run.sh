#!/usr/bin/env bash
# The ClickHouse metric store against a real, throwaway `clickhouse-server` (Debian's 18.16 in
# CI): the store's own tests (conformance, hostile strings, tenancy; they start their own
# server), then vigil-server's whole integration suite with every in-process server's
# measurements in ClickHouse, plus two `vigil serve --metric-store clickhouse` processes over
# one database.
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
PID=""
cleanup() {
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    [[ "${CLICKHOUSE_KEEP:-}" == 1 ]] && echo "kept $DIR" >&2 || rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port)
TCP_PORT=$(free_port)
mkdir -p "$DIR/log"
cat >"$DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$DIR/log/server.log</log><errorlog>$DIR/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$HTTP_PORT</http_port>
  <tcp_port>$TCP_PORT</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$DIR/data/</path>
  <tmp_path>$DIR/tmp/</tmp_path>
  <user_files_path>$DIR/user_files/</user_files_path>
  <format_schema_path>$DIR/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
</yandex>
XML
(cd "$DIR" && exec "$BIN" --config-file="$DIR/config.xml" >/dev/null 2>&1) &
PID=$!
URL="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 600); do
    curl -fsS "$URL/ping" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$DIR/log/error.log" >&2 || true; exit 2; }
    sleep 0.1
done
curl -fsS "$URL/ping" >/dev/null || { echo "clickhouse test: no /ping answer" >&2; exit 2; }
echo "ClickHouse $(curl -fsS "$URL/" --data-binary 'SELECT version()') at $URL"

cd "$REPO"
cargo test -p metric-store-clickhouse -- --include-ignored
VIGIL_TEST_CLICKHOUSE_URL="$URL" cargo test -p vigil-server --test tests
