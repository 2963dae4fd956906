#!/usr/bin/env bash
# Interop test: the real Python sdcclient 0.19.0 (Sysdig's SDK) against `vigil serve`, once with
# a Sysdig API token and once IBM-style (IAM token from POST /identity/token + IBMInstanceID);
# then sdcclient 0.18.0, the last with the legacy Data API, in a venv of its own
# (INTEROP_SDC018_VENV, default $REPO/target/sdcclient018-venv; pins in tests/interop/pins/).
#
# Usage: tests/interop/sdcclient.sh [pytest args...]
#
# Environment:
#   VIGIL_BIN          server binary            [default: $REPO/target/debug/vigil]
#                      (this script builds nothing: run `cargo build -p vigil-server` first)
#   INTEROP_SDC_VENV   virtualenv for sdcclient [default: $REPO/target/sdcclient-venv]
#                      (created on first use, reused when it already has sdcclient 0.19.0)
#   INTEROP_PYTHON     interpreter for the venv [default: python3.11, else python3]
#   INTEROP_KEEP       set to 1 to keep the server's data dir and log after the run
#   VIGIL_METRIC_STORE, VIGIL_CLICKHOUSE_URLS, VIGIL_CLICKHOUSE_DATABASE, VIGIL_CONFIG_DB, ...
#                      reach the server (`vigil serve` reads them): e.g. ClickHouse + PostgreSQL
#                      [default: embedded + SQLite]
#
# Needs the pins file $REPO/../shared/reference/pins/sdcclient-0.19.0.txt and PyPI access the
# first time the venv is built. Only 127.0.0.1 is used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CLIENT_VERSION="0.19.0"
PINS="$REPO/../shared/reference/pins/sdcclient-$CLIENT_VERSION.txt"
VENV="${INTEROP_SDC_VENV:-$REPO/target/sdcclient-venv}"
VIGIL_BIN="${VIGIL_BIN:-$REPO/target/debug/vigil}"

die() {
    echo "sdcclient interop: $*" >&2
    exit 2
}
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

# --- 1. the venv with the pinned SDK and pytest -----------------------------------------------
venv_ok() {
    [[ -x "$VENV/bin/python" ]] &&
        "$VENV/bin/python" - "$CLIENT_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
import aiosmtpd, pytest, sdcclient  # noqa: F401
sys.exit(0 if version("sdcclient") == sys.argv[1] else 1)
PY
}

if venv_ok; then
    echo "using venv $VENV (sdcclient $CLIENT_VERSION)"
else
    make_pinned_venv "$VENV" "$PINS" "${INTEROP_PYTHON:-}" "sdcclient==$CLIENT_VERSION" pytest \
        "aiosmtpd==1.4.6"
    venv_ok || die "the venv $VENV has no working sdcclient $CLIENT_VERSION after install"
fi

# The last sdcclient with the legacy Data API (`get_data`), in a venv of its own (its pins are
# the repository's: sdcclient 0.18 and 0.19 want different versions of their dependencies).
DATA_VERSION="0.18.0"
DATA_VENV="${INTEROP_SDC018_VENV:-$REPO/target/sdcclient018-venv}"
data_venv_ok() {
    [[ -x "$DATA_VENV/bin/python" ]] &&
        "$DATA_VENV/bin/python" - "$DATA_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
import pytest, sdcclient  # noqa: F401
sys.exit(0 if version("sdcclient") == sys.argv[1] else 1)
PY
}
if ! data_venv_ok; then
    make_pinned_venv "$DATA_VENV" "$HERE/pins/sdcclient-$DATA_VERSION.txt" "${INTEROP_PYTHON:-}" \
        "sdcclient==$DATA_VERSION" pytest
    data_venv_ok || die "the venv $DATA_VENV has no working sdcclient $DATA_VERSION after install"
fi

# --- 2. the server binary ---------------------------------------------------------------------
[[ -x "$VIGIL_BIN" ]] || die "server binary not found: $VIGIL_BIN (run: cargo build -p vigil-server)"

# --- 3. start the server on a free loopback port ----------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigil-sdc-interop.XXXXXX")"
STARTED_PID=""
TEST_PID=""
cleanup() {
    local rc=$?
    stop_pid "$TEST_PID"
    stop_pid "$STARTED_PID"
    tidy_work "$rc" "$WORK" "${INTEROP_KEEP:-0}" "$WORK/server.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Known credentials, random per run; handed to the server through its environment.
ADMIN_TOKEN="$("$VENV/bin/python" -c 'import uuid; print(uuid.uuid4())')"
IAM_KEY="iam-$("$VENV/bin/python" -c 'import uuid; print(uuid.uuid4().hex)')"
INSTANCE_ID="vigil-interop-instance"

# The channel tests' receivers (started by the tests) listen on these ports; the team's alerts
# are evaluated every second on the Monasca tenant "sdc-interop".
HOOK_PORT="$(free_port "$VENV/bin/python")"
SMTP_PORT="$(free_port "$VENV/bin/python")"
cat >"$WORK/vigil.toml" <<TOML
[sysdig]
alert_interval = 1
alert_tenants = { "Monitor Operations" = "sdc-interop" }

[notifications]
timeout_ms = 3000
backoff_base_ms = 200
backoff_max_ms = 1000

[notifications.email]
server = "127.0.0.1"
port = $SMTP_PORT
from_addr = "vigil@example.com"
TOML

VIGIL_SYSDIG_ADMIN_TOKEN="$ADMIN_TOKEN" VIGIL_SYSDIG_IAM_API_KEY="$IAM_KEY" \
    VIGIL_SYSDIG_INSTANCE_ID="$INSTANCE_ID" \
    start_vigil "$VENV/bin/python" "$WORK/data" "$WORK/server.log" --config "$WORK/vigil.toml"
PORT="$STARTED_PORT"
echo "vigil listening on 127.0.0.1:$PORT (pid $STARTED_PID), metric store ${VIGIL_METRIC_STORE:-embedded}," \
    "config db $([[ -n ${VIGIL_CONFIG_DB:-} ]] && echo PostgreSQL || echo SQLite)"

# --- 4. the tests -------------------------------------------------------------------------------
# SdSecureClient's tests, one file per area of Secure.
shopt -s nullglob
SECURE_TESTS=("$HERE"/test_sdcclient_secure*.py)
shopt -u nullglob
# In the background, so that a signal to this script is handled at once (see cleanup). sdcclient
# lets SDC_TOKEN/SDC_URL replace its constructor arguments: keep them out of its environment.
env -u SDC_TOKEN -u SDC_URL -u SDC_SSL_VERIFY -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy \
    VIGIL_URL="http://127.0.0.1:$PORT" SDC_ADMIN_TOKEN="$ADMIN_TOKEN" SDC_IAM_API_KEY="$IAM_KEY" \
    SDC_INSTANCE_ID="$INSTANCE_ID" HOOK_PORT="$HOOK_PORT" SMTP_PORT="$SMTP_PORT" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$HERE/test_sdcclient.py" \
    "${SECURE_TESTS[@]}" "$@" &
TEST_PID=$!
rc=0
wait "$TEST_PID" || rc=$?
TEST_PID=""
echo "sdcclient $DATA_VERSION (the legacy Data API):"
env -u SDC_TOKEN -u SDC_URL -u SDC_SSL_VERIFY -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy \
    VIGIL_URL="http://127.0.0.1:$PORT" SDC_ADMIN_TOKEN="$ADMIN_TOKEN" \
    "$DATA_VENV/bin/python" -m pytest -q -p no:cacheprovider "$HERE/test_sdcclient_data.py" &
TEST_PID=$!
wait "$TEST_PID" || rc=$?
TEST_PID=""
exit "$rc"
