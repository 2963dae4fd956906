#!/usr/bin/env bash
# Interop test: the real python-monascaclient 2.8.0 CLI (`monasca`) against `vigil serve`.
#
# Usage: tests/interop/monascaclient.sh
#
# Environment:
#   VIGIL_BIN       server binary            [default: $REPO/target/debug/vigil]
#                   (this script builds nothing: run `cargo build -p vigil-server` first)
#   INTEROP_VENV    virtualenv for the CLI   [default: $REPO/target/interop-venv]
#                   (created on first use, reused when it already has monasca 2.8.0)
#   INTEROP_PYTHON  interpreter for the venv [default: python3.11, else python3]
#   INTEROP_KEEP    set to 1 to keep the server's data dir and log after the run
#   VIGIL_METRIC_STORE, VIGIL_CLICKHOUSE_URLS, VIGIL_CLICKHOUSE_DATABASE, VIGIL_CONFIG_DB, ...
#                   reach the server under test (`vigil serve` reads them): e.g. ClickHouse +
#                   PostgreSQL, as tests/clickhouse/run.sh does [default: embedded + SQLite]
#
# Needs the pins file $REPO/../shared/reference/pins/python-monascaclient-2.8.0.txt and
# PyPI access the first time the venv is built. Only 127.0.0.1 is used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${INTEROP_VENV:-$REPO/target/interop-venv}"
VIGIL_BIN="${VIGIL_BIN:-$REPO/target/debug/vigil}"

die() {
    echo "monascaclient interop: $*" >&2
    exit 2
}
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

# --- 1. the venv with the pinned CLI ------------------------------------------------------
monascaclient_venv "$VENV"

# --- 2. the server binary -------------------------------------------------------------------
[[ -x "$VIGIL_BIN" ]] || die "server binary not found: $VIGIL_BIN (run: cargo build -p vigil-server)"

# --- 3. start the server on a free loopback port ---------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigil-interop.XXXXXX")"
SERVER_PID=""
IDENTITY_PID=""
STARTED_PID=""
TEST_PID=""
cleanup() {
    local rc=$?
    stop_pid "$TEST_PID"
    stop_pid "$SERVER_PID"
    stop_pid "$IDENTITY_PID"
    stop_pid "$STARTED_PID" # one still coming up when the script was stopped
    tidy_work "$rc" "$WORK" "${INTEROP_KEEP:-0}" "$WORK/server.log" "$WORK/identity.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The notification tests' receivers (started by the tests) listen on these ports; the server
# delivers there, retrying quickly.
HOOK_PORT="$(free_port "$VENV/bin/python")"
SMTP_PORT="$(free_port "$VENV/bin/python")"
cat >"$WORK/vigil.toml" <<TOML
[notifications]
timeout_ms = 3000
backoff_base_ms = 200
backoff_max_ms = 1000
pagerduty_url = "http://127.0.0.1:$HOOK_PORT/pagerduty"

[notifications.email]
server = "127.0.0.1"
port = $SMTP_PORT
from_addr = "vigil@example.com"
TOML
start_vigil "$VENV/bin/python" "$WORK/data" "$WORK/server.log" --config "$WORK/vigil.toml"
PORT="$STARTED_PORT"
SERVER_PID="$STARTED_PID"
# A second server with the built-in identity service, for password logins: always on the
# embedded store and SQLite (the backend variables are for the server under test only).
backend_vars=(VIGIL_METRIC_STORE VIGIL_CLICKHOUSE_URLS VIGIL_CLICKHOUSE_DATABASE VIGIL_CLICKHOUSE_CLUSTER VIGIL_CONFIG_DB)
declare -A saved_backend=()
for v in "${backend_vars[@]}"; do
    [[ -v $v ]] && saved_backend[$v]="${!v}"
    unset "$v"
done
start_vigil "$VENV/bin/python" "$WORK/identity-data" "$WORK/identity.log" --auth identity
for v in "${!saved_backend[@]}"; do export "$v=${saved_backend[$v]}"; done
IDENTITY_PORT="$STARTED_PORT"
IDENTITY_PID="$STARTED_PID"
echo "vigil $("$VIGIL_BIN" --version 2>/dev/null | awk '{print $2}') listening on 127.0.0.1:$PORT (pid $SERVER_PID)," \
    "metric store ${VIGIL_METRIC_STORE:-embedded}, config db $([[ -n ${VIGIL_CONFIG_DB:-} ]] && echo PostgreSQL || echo SQLite)"

# --- 4. the tests ----------------------------------------------------------------------------
# In the background, so that a signal to this script is handled at once (see cleanup).
VIGIL_PORT="$PORT" VIGIL_IDENTITY_PORT="$IDENTITY_PORT" MONASCA_BIN="$VENV/bin/monasca" \
    HOOK_PORT="$HOOK_PORT" SMTP_PORT="$SMTP_PORT" \
    "$VENV/bin/python" "$HERE/test_monascaclient.py" &
TEST_PID=$!
rc=0
wait "$TEST_PID" || rc=$?
TEST_PID=""
exit "$rc"
