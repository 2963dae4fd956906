#!/usr/bin/env bash
# Test against a REAL Keystone 30.0.0 (from PyPI): `vigil serve` with `auth = "keystone"` and
# the Rust `monasca` CLI logging in to that Keystone (password via flags, OS_* env, clouds.yaml,
# application credential, token), plus role enforcement and, if present, the real
# python-monascaclient.
#
# Usage: tests/keystone/run.sh
#
# Environment:
#   KEYSTONE_VENV   venv with keystone + gunicorn [default: $REPO/target/keystone-venv]
#                   (created on first use; needs PyPI then, offline afterwards)
#   KEYSTONE_PYTHON interpreter for the venv      [default: python3.11, else python3]
#   VIGIL_BIN       server binary                 [default: $REPO/target/debug/vigil]
#   MONASCA_BIN     Rust CLI                      [default: $REPO/target/debug/monasca]
#                   (nothing is built here: run `cargo build -p vigil-server -p monasca-cli`)
#   INTEROP_VENV    python-monascaclient venv     [default: $REPO/target/interop-venv]
#                   (optional: its check is skipped when $INTEROP_VENV/bin/monasca is missing)
#   KEYSTONE_KEEP   set to 1 to keep the temp dir (configs, logs) after the run
#
# Needs the pins file $REPO/../shared/reference/pins/keystone-30.0.0.txt. Only 127.0.0.1 is used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
KS_VERSION="30.0.0"
GUNICORN_VERSION="27.0.1"
PINS="$REPO/../shared/reference/pins/keystone-$KS_VERSION.txt"
VENV="${KEYSTONE_VENV:-$REPO/target/keystone-venv}"
VIGIL_BIN="${VIGIL_BIN:-$REPO/target/debug/vigil}"
MONASCA_BIN="${MONASCA_BIN:-$REPO/target/debug/monasca}"
INTEROP_VENV="${INTEROP_VENV:-$REPO/target/interop-venv}"
T_START=$(date +%s)

die() {
    echo "keystone test: $*" >&2
    exit 2
}
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

# --- 1. the venv with keystone and gunicorn --------------------------------------------------
venv_ok() {
    [[ -x "$VENV/bin/python" && -x "$VENV/bin/gunicorn" && -x "$VENV/bin/keystone-manage" ]] &&
        "$VENV/bin/python" - "$KS_VERSION" "$GUNICORN_VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
sys.exit(0 if (version("keystone"), version("gunicorn")) == tuple(sys.argv[1:3]) else 1)
EOF
}

if venv_ok; then
    echo "using venv $VENV (keystone $KS_VERSION, gunicorn $GUNICORN_VERSION)"
else
    t0=$(date +%s)
    make_pinned_venv "$VENV" "$PINS" "${KEYSTONE_PYTHON:-}" \
        "keystone==$KS_VERSION" "gunicorn==$GUNICORN_VERSION"
    venv_ok || die "the venv $VENV has no working keystone $KS_VERSION after install"
    echo "venv created in $(($(date +%s) - t0)) s"
fi

[[ -x "$VIGIL_BIN" ]] || die "server binary not found: $VIGIL_BIN (run: cargo build -p vigil-server)"
[[ -x "$MONASCA_BIN" ]] || die "CLI binary not found: $MONASCA_BIN (run: cargo build -p monasca-cli)"
PYTHON="$VENV/bin/python"

# --- 2. temp dir and cleanup -------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigil-keystone.XXXXXX")"
KS_PID=""
VIGIL_PID=""
cleanup() {
    local rc=$?
    stop_pid "$VIGIL_PID"
    stop_pid "$KS_PID"
    tidy_work "$rc" "$WORK" "${KEYSTONE_KEEP:-0}" "$WORK/keystone.log" "$WORK/vigil.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$XDG_CACHE_HOME" "$WORK/home"


# --- 3. Keystone ---------------------------------------------------------------------------------
KS_PORT="$(free_port "$PYTHON")"
VIGIL_PORT="$(free_port "$PYTHON")"
while [[ "$VIGIL_PORT" == "$KS_PORT" ]]; do VIGIL_PORT="$(free_port "$PYTHON")"; done
KS_URL="http://127.0.0.1:$KS_PORT"
ADMIN_PW="admin-$RANDOM$RANDOM"

mkdir -p "$WORK/etc" "$WORK/fernet-keys" "$WORK/receipt-keys" "$WORK/credential-keys"
cat >"$WORK/etc/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true

[database]
connection = sqlite:///$WORK/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = $WORK/fernet-keys

[fernet_receipts]
key_repository = $WORK/receipt-keys

[credential]
key_repository = $WORK/credential-keys

[cache]
enabled = true
backend = dogpile.cache.memory

[identity]
password_hash_rounds = 4
EOF
cat >"$WORK/ks_wsgi.py" <<'EOF'
# keystone's WSGI init lets oslo.config parse sys.argv, which holds gunicorn's flags.
import sys
sys.argv = sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402,F401
EOF

KM=("$VENV/bin/keystone-manage" --config-file "$WORK/etc/keystone.conf")
USER_NAME="$(id -un)"
GROUP_NAME="$(id -gn)"
t0=$(date +%s)
echo "keystone-manage: fernet_setup, receipt_setup, credential_setup, db_sync"
{
    "${KM[@]}" fernet_setup --keystone-user "$USER_NAME" --keystone-group "$GROUP_NAME" &&
        "${KM[@]}" receipt_setup --keystone-user "$USER_NAME" --keystone-group "$GROUP_NAME" &&
        "${KM[@]}" credential_setup --keystone-user "$USER_NAME" --keystone-group "$GROUP_NAME" &&
        "${KM[@]}" db_sync
} >"$WORK/keystone-manage.log" 2>&1 || {
    tail -n 30 "$WORK/keystone-manage.log" >&2
    die "keystone-manage setup failed"
}

OS_KEYSTONE_CONFIG_DIR="$WORK/etc" "$VENV/bin/gunicorn" --no-control-socket --workers 1 \
    --bind "127.0.0.1:$KS_PORT" --chdir "$WORK" --timeout 60 ks_wsgi:application \
    >"$WORK/keystone.log" 2>&1 &
KS_PID=$!
wait_http "$PYTHON" "$KS_URL/v3" "$KS_PID" 300 0.2 || die "keystone did not answer GET $KS_URL/v3"

"${KM[@]}" bootstrap --bootstrap-password "$ADMIN_PW" \
    --bootstrap-admin-url "$KS_URL/v3" --bootstrap-public-url "$KS_URL/v3" \
    --bootstrap-internal-url "$KS_URL/v3" --bootstrap-region-id RegionOne \
    >>"$WORK/keystone-manage.log" 2>&1 || {
    tail -n 30 "$WORK/keystone-manage.log" >&2
    die "keystone-manage bootstrap failed"
}
"$PYTHON" "$HERE/setup_keystone.py" "$KS_URL" "$ADMIN_PW" "$VIGIL_PORT" "$WORK/setup.json" ||
    die "populating keystone failed"
read -r AC_ID AC_SECRET MINIMON_TOKEN < <("$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["app_cred_id"], d["app_cred_secret"], d["token"])' "$WORK/setup.json")
echo "keystone $KS_VERSION on $KS_URL (pid $KS_PID), ready in $(($(date +%s) - t0)) s"

# --- 4. Vigil with auth = "keystone" -------------------------------------------------------------
cat >"$WORK/vigil.toml" <<EOF
bind = "127.0.0.1:$VIGIL_PORT"
data_dir = "$WORK/vigil-data"
auth = "keystone"

[keystone]
url = "$KS_URL"
username = "monasca"
password = "service-secret"
project = "service"
user_domain = "Default"
project_domain = "Default"
EOF
VIGIL_LOG="${VIGIL_LOG:-warn}" "$VIGIL_BIN" serve --config "$WORK/vigil.toml" \
    >"$WORK/vigil.log" 2>&1 &
VIGIL_PID=$!
# The port is fixed (Keystone's catalog names it): no retry on another one as in start_vigil.
wait_http "$PYTHON" "http://127.0.0.1:$VIGIL_PORT/healthcheck" "$VIGIL_PID" 100 0.1 ||
    die "vigil did not answer GET /healthcheck on 127.0.0.1:$VIGIL_PORT"
echo "vigil on 127.0.0.1:$VIGIL_PORT (pid $VIGIL_PID), auth = keystone"

# --- 5. checks -----------------------------------------------------------------------------------
PASSED=0
FAILED=0
OUT=""
ALL=""
RC=0
ok() {
    PASSED=$((PASSED + 1))
    echo "ok   $*"
}
bad() {
    FAILED=$((FAILED + 1))
    echo "FAIL $*"
    if [[ -n "$ALL" ]]; then printf '%s\n' "$ALL" | head -n 15 | sed 's/^/     | /'; fi
    return 0
}
# run CMD...: the command in a clean environment (only PATH, HOME, XDG_CACHE_HOME and what is
# passed as VAR=value before the command via `env`); sets OUT (stdout), ALL (stdout+stderr), RC.
run() {
    RC=0
    OUT="$(cd "$WORK" && env -i PATH="$PATH" HOME="$WORK/home" XDG_CACHE_HOME="$XDG_CACHE_HOME" \
        "$@" 2>"$WORK/stderr")" || RC=$?
    ALL="$OUT$(printf '\n'; cat "$WORK/stderr")"
}
PW_FLAGS=(--os-auth-url "$KS_URL/v3" --os-username mini-mon --os-password password
    --os-project-name mini-mon --os-user-domain-name Default --os-project-domain-name Default)

# expect_metric NAME DESC CMD...: CMD (a metric-list -j) exits 0 and lists NAME with host=a.
# Retries briefly in case the write is not visible at once.
expect_metric() {
    local name="$1" desc="$2"
    shift 2
    for _ in 1 2 3 4 5; do
        run "$@"
        if [[ $RC -eq 0 ]] && "$PYTHON" -c 'import json, sys
ms = json.loads(sys.stdin.read())
ms = ms.get("elements", ms) if isinstance(ms, dict) else ms
sys.exit(0 if any(m.get("name") == sys.argv[1] and m.get("dimensions", {}).get("host") == "a"
                  for m in ms) else 1)' "$name" <<<"$OUT" 2>/dev/null; then
            ok "$desc"
            return
        fi
        sleep 0.3
    done
    bad "$desc (exit $RC)"
}

# create_then_list TAG METRIC CMD-PREFIX...: metric-create then metric-list -j with that login.
create_then_list() {
    local tag="$1" metric="$2"
    shift 2
    run "$@" metric-create "$metric" 5 --dimensions host=a
    if [[ $RC -eq 0 ]]; then ok "$tag: metric-create $metric"; else bad "$tag: metric-create $metric (exit $RC)"; fi
    expect_metric "$metric" "$tag: metric-list -j --name $metric shows it" "$@" metric-list -j --name "$metric"
}

# 1. password login via flags
create_then_list "password (flags)" ks.cpu "$MONASCA_BIN" "${PW_FLAGS[@]}"

# 2. password login via OS_* env
create_then_list "password (OS_* env)" ks.env env OS_AUTH_URL="$KS_URL/v3" OS_USERNAME=mini-mon \
    OS_PASSWORD=password OS_PROJECT_NAME=mini-mon OS_USER_DOMAIN_NAME=Default \
    OS_PROJECT_DOMAIN_NAME=Default "$MONASCA_BIN"

# 3. clouds.yaml
cat >"$WORK/clouds.yaml" <<EOF
clouds:
  vigil-ks:
    auth:
      auth_url: $KS_URL/v3
      username: mini-mon
      password: password
      project_name: mini-mon
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
EOF
create_then_list "clouds.yaml" ks.cloud env OS_CLIENT_CONFIG_FILE="$WORK/clouds.yaml" \
    OS_CLOUD=vigil-ks "$MONASCA_BIN"

# 4. application credential
create_then_list "application credential" ks.appcred "$MONASCA_BIN" --os-auth-url "$KS_URL/v3" \
    --os-auth-type v3applicationcredential --os-application-credential-id "$AC_ID" \
    --os-application-credential-secret "$AC_SECRET"

# 5. token (from a password login made with python)
create_then_list "token" ks.token "$MONASCA_BIN" --os-auth-url "$KS_URL/v3" --os-auth-type token \
    --os-token "$MINIMON_TOKEN" --os-project-name mini-mon --os-project-domain-name Default

# 6. monasca-agent may post metrics but not read them
AGENT_FLAGS=(--os-auth-url "$KS_URL/v3" --os-username monasca-agent --os-password password
    --os-project-name mini-mon --os-user-domain-name Default --os-project-domain-name Default)
run "$MONASCA_BIN" "${AGENT_FLAGS[@]}" metric-create ks.agent 1 --dimensions host=a
if [[ $RC -eq 0 ]]; then ok "monasca-agent: metric-create"; else bad "monasca-agent: metric-create (exit $RC)"; fi
run "$MONASCA_BIN" "${AGENT_FLAGS[@]}" metric-list -j
if [[ $RC -eq 1 && "$ALL" == *Forbidden* ]]; then
    ok "monasca-agent: metric-list refused (exit 1, Forbidden)"
else
    bad "monasca-agent: metric-list should exit 1 with 'Forbidden' (exit $RC)"
fi
# ... and what the agent posted is in mini-mon, visible to mini-mon
expect_metric ks.agent "monasca-agent's metric is visible to mini-mon" \
    "$MONASCA_BIN" "${PW_FLAGS[@]}" metric-list -j --name ks.agent

# 7. a wrong password is refused and not echoed
WRONG_PW="wrong-$RANDOM-pass-$RANDOM"
run "$MONASCA_BIN" --os-auth-url "$KS_URL/v3" --os-username mini-mon --os-password "$WRONG_PW" \
    --os-project-name mini-mon --os-user-domain-name Default --os-project-domain-name Default metric-list
if [[ $RC -eq 1 && "$ALL" != *"$WRONG_PW"* ]]; then
    ok "wrong password: exit 1, password not in the output"
else
    bad "wrong password: expected exit 1 without the password in the output (exit $RC)"
fi

# 8. Vigil refuses a token Keystone does not know
status_for_bogus_token() {
    "$PYTHON" - "http://127.0.0.1:$VIGIL_PORT/v2.0/metrics" <<'EOF' 2>&1
import sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"X-Auth-Token": "not-a-keystone-token"})
try:
    urllib.request.urlopen(req, timeout=10)
    print("accepted")
except urllib.error.HTTPError as e:
    print(e.code)
EOF
}
ALL=""
OUT="$(status_for_bogus_token)" || true
if [[ "$OUT" == 401 ]]; then ok "vigil: unknown token -> 401"; else bad "vigil: unknown token should get 401 (got $OUT)"; fi

# 9. the real python-monascaclient, if its venv exists
if [[ -x "$INTEROP_VENV/bin/monasca" ]]; then
    expect_metric ks.cpu "python-monascaclient: password login, metric-list shows ks.cpu" \
        "$INTEROP_VENV/bin/monasca" --os-auth-url "$KS_URL/v3" --os-username mini-mon \
        --os-password password --os-project-name mini-mon --os-user-domain-name Default \
        --os-project-domain-name Default metric-list -j --name ks.cpu
else
    echo "skip python-monascaclient (no $INTEROP_VENV/bin/monasca)"
fi

echo
echo "$PASSED passed, $FAILED failed ($(($(date +%s) - T_START)) s)"
[[ $FAILED -eq 0 ]]
