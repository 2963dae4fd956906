# Shell helpers shared by the test harnesses (tests/interop, tests/keystone, tests/cluster).
# Sourced; the caller defines `die MESSAGE` (and `VIGIL_BIN` for start_vigil).

# make_pinned_venv VENV PINS PYTHON_OVERRIDE PACKAGE...: a fresh venv with the packages installed
# under the pins file's constraints. PYTHON_OVERRIDE empty means python3.11, else python3.
make_pinned_venv() {
    local venv="$1" pins="$2" py="$3"
    shift 3
    [[ -f "$pins" ]] || die "pins file not found: $pins
(the shared/ folder must sit beside the repository checkout: $(dirname "$REPO")/shared)"
    if [[ -z "$py" ]]; then
        if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
    fi
    command -v "$py" >/dev/null 2>&1 || die "no python interpreter '$py'"
    echo "creating venv $venv with $("$py" -V 2>&1) and $*"
    rm -rf "$venv"
    "$py" -m venv "$venv" || die "cannot create the venv $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$pins" "$@" ||
        die "pip install of $* failed"
}

# monascaclient_venv VENV: VENV with the pinned python-monascaclient 2.8.0 (`VENV/bin/monasca`)
# and aiosmtpd (the notification tests' SMTP server): reused when it has them, else made from
# $REPO/../shared/reference/pins (PyPI needed) with $INTEROP_PYTHON [default: python3.11].
monascaclient_venv() {
    local venv="$1" client=2.8.0 aiosmtpd=1.4.6
    if [[ -x "$venv/bin/python" && -x "$venv/bin/monasca" ]] &&
        "$venv/bin/python" - "$client" <<'EOF' >/dev/null 2>&1; then
import sys
from importlib.metadata import version
import aiosmtpd
sys.exit(0 if version("python-monascaclient") == sys.argv[1] else 1)
EOF
        echo "using venv $venv (python-monascaclient $client)"
        return 0
    fi
    make_pinned_venv "$venv" "$REPO/../shared/reference/pins/python-monascaclient-$client.txt" \
        "${INTEROP_PYTHON:-}" "python-monascaclient==$client" "aiosmtpd==$aiosmtpd"
    [[ -x "$venv/bin/monasca" ]] || die "the venv $venv has no monasca after install"
}

# free_port PYTHON: a loopback port nobody listens on right now.
free_port() {
    "$1" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# http_ok PYTHON URL: 0 when GET URL answers 2xx/3xx within 2 s.
http_ok() {
    "$1" - "$2" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status < 400 else 1)
PY
}

# wait_http PYTHON URL PID TRIES PAUSE: 0 once GET URL answers; 1 when PID exits first or the
# TRIES (PAUSE seconds apart) run out.
wait_http() {
    local py="$1" url="$2" pid="$3" tries="$4" pause="$5"
    for _ in $(seq "$tries"); do
        http_ok "$py" "$url" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep "$pause"
    done
    return 1
}

# stop_pid PID: TERM, up to 5 s to exit, then KILL, and reap it. Nothing when PID is empty or
# already gone.
stop_pid() {
    local pid="$1"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# start_vigil PYTHON DATA_DIR LOG [serve args...]: `$VIGIL_BIN serve` on a free loopback port
# with DATA_DIR, waited for until it answers /healthcheck; variables assigned before the call
# reach the server. Sets STARTED_PORT; STARTED_PID is set as soon as the server is launched, so
# that a cleanup trap can stop one that is still coming up.
start_vigil() {
    local py="$1" data="$2" log="$3" port
    shift 3
    for attempt in 1 2 3; do
        port="$(free_port "$py")"
        VIGIL_LOG="${VIGIL_LOG:-warn}" "$VIGIL_BIN" serve --bind "127.0.0.1:$port" \
            --data-dir "$data" "$@" >"$log" 2>&1 &
        STARTED_PID=$!
        if wait_http "$py" "http://127.0.0.1:$port/healthcheck" "$STARTED_PID" 100 0.1; then
            STARTED_PORT="$port"
            return 0
        fi
        # The port may have been taken between picking and binding: try another one.
        stop_pid "$STARTED_PID"
        STARTED_PID=""
        echo "server did not come up on port $port (attempt $attempt)" >&2
    done
    die "vigil did not answer GET /healthcheck; see $log"
}

# tidy_work RC WORK KEEP LOG...: after a failure (RC not 0) the last lines of each non-empty
# LOG; then WORK is kept when KEEP is 1, else removed.
tidy_work() {
    local rc="$1" work="$2" keep="$3" log
    shift 3
    if [[ $rc -ne 0 ]]; then
        for log in "$@"; do
            if [[ -s "$log" ]]; then
                echo "--- last lines of $log ---" >&2
                tail -n 25 "$log" >&2 || true
            fi
        done
    fi
    if [[ "$keep" == 1 ]]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
