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
#
# Needs the pins file $REPO/../shared/reference/pins/python-monascaclient-2.8.0.txt and
# PyPI access the first time the venv is built. Only 127.0.0.1 is used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CLIENT_VERSION="2.8.0"
PINS="$REPO/../shared/reference/pins/python-monascaclient-$CLIENT_VERSION.txt"
VENV="${INTEROP_VENV:-$REPO/target/interop-venv}"
VIGIL_BIN="${VIGIL_BIN:-$REPO/target/debug/vigil}"

die() {
    echo "monascaclient interop: $*" >&2
    exit 2
}
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

# --- 1. the venv with the pinned CLI ------------------------------------------------------
venv_ok() {
    [[ -x "$VENV/bin/python" && -x "$VENV/bin/monasca" ]] &&
        "$VENV/bin/python" - "$CLIENT_VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
sys.exit(0 if version("python-monascaclient") == sys.argv[1] else 1)
EOF
}

if venv_ok; then
    echo "using venv $VENV (python-monascaclient $CLIENT_VERSION)"
else
    make_pinned_venv "$VENV" "$PINS" "${INTEROP_PYTHON:-}" "python-monascaclient==$CLIENT_VERSION"
    venv_ok || die "the venv $VENV has no working monasca $CLIENT_VERSION after install"
fi

# --- 2. the server binary -------------------------------------------------------------------
[[ -x "$VIGIL_BIN" ]] || die "server binary not found: $VIGIL_BIN (run: cargo build -p vigil-server)"

# --- 3. start the server on a free loopback port ---------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigil-interop.XXXXXX")"
SERVER_PID=""
IDENTITY_PID=""
TEST_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$TEST_PID" ]] && kill -0 "$TEST_PID" 2>/dev/null; then
        kill "$TEST_PID" 2>/dev/null || true
        wait "$TEST_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$IDENTITY_PID" ]] && kill -0 "$IDENTITY_PID" 2>/dev/null; then
        kill "$IDENTITY_PID" 2>/dev/null || true
        wait "$IDENTITY_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s "$WORK/server.log" ]]; then
        echo "--- last lines of the server log ($WORK/server.log) ---" >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    if [[ "${INTEROP_KEEP:-0}" == 1 ]]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


health() {
    "$VENV/bin/python" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/healthcheck" % sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

# start_vigil DATA_DIR LOG [extra serve args...]: sets STARTED_PORT and STARTED_PID.
start_vigil() {
    local data="$1" log="$2" started="" port pid
    shift 2
    for attempt in 1 2 3; do
        port="$(free_port "$VENV/bin/python")"
        VIGIL_LOG="${VIGIL_LOG:-warn}" "$VIGIL_BIN" serve --bind "127.0.0.1:$port" \
            --data-dir "$data" "$@" >"$log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do
            if health "$port"; then
                started=1
                break
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        [[ -n "$started" ]] && break
        # The port may have been taken between picking and binding: try another one.
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "server did not come up on port $port (attempt $attempt)" >&2
    done
    [[ -n "$started" ]] || die "vigil did not answer GET /healthcheck; see $log"
    STARTED_PORT="$port"
    STARTED_PID="$pid"
}

start_vigil "$WORK/data" "$WORK/server.log"
PORT="$STARTED_PORT"
SERVER_PID="$STARTED_PID"
# A second server with the built-in identity service, for password logins.
start_vigil "$WORK/identity-data" "$WORK/identity.log" --auth identity
IDENTITY_PORT="$STARTED_PORT"
IDENTITY_PID="$STARTED_PID"
echo "vigil $("$VIGIL_BIN" --version 2>/dev/null | awk '{print $2}') listening on 127.0.0.1:$PORT (pid $SERVER_PID)"

# --- 4. the tests ----------------------------------------------------------------------------
# In the background, so that a signal to this script is handled at once (see cleanup).
VIGIL_PORT="$PORT" VIGIL_IDENTITY_PORT="$IDENTITY_PORT" MONASCA_BIN="$VENV/bin/monasca" \
    "$VENV/bin/python" "$HERE/test_monascaclient.py" &
TEST_PID=$!
rc=0
wait "$TEST_PID" || rc=$?
TEST_PID=""
exit "$rc"
