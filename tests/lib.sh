# Shell helpers shared by the test harnesses (tests/interop, tests/keystone). Sourced; the
# caller defines `die MESSAGE`.

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

# free_port PYTHON: a loopback port nobody listens on right now.
free_port() {
    "$1" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}
