#!/usr/bin/env bash
# `group_by` over many groups: `bash bench/group_by.sh` (the README's "group_by over 100,000
# groups"). One metric name x GB_HOSTS hosts (100,000) x GB_POINTS points (10, 30 s apart, the
# last at half past the hour before the current one) go into a fresh `vigil serve`; then
# GB_RUNS times (10) each of:
#   first 10000  GET /v2.0/metrics/statistics?...&group_by=hostname&limit=10000, groups not
#                cached yet (a new series was just posted, so the group cache is stale)
#   again 10000  the same request at once (groups cached)
#   first 100 / again 100  likewise with limit=100
# timed by curl (request to last byte, on loopback), printed sorted (ms). GB_PERIOD (3600 s)
# sets the statistics period: with 10 points a group has one row, so a 10,000-row page is
# 10,000 groups.
#
# GB_COMPARE=/path/to/other/vigil also runs that binary on the same data directory, in turns
# with this tree's (base, this, base, this), for before/after figures from the same minutes.
# BENCH_NO_BUILD=1 uses the binaries already in target/release. The machine should be quiet:
# the figures move with every other process on the cores (`uptime`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
HOSTS=${GB_HOSTS:-100000}
POINTS=${GB_POINTS:-10}
PERIOD=${GB_PERIOD:-3600}
RUNS=${GB_RUNS:-10}
VIGIL=$ROOT/target/release/vigil
LOADGEN=$ROOT/target/release/vigil-loadgen
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    cargo build --release -p vigil-server -p vigil-loadgen 2>&1 | tail -n 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-group-by.XXXXXX")
PID=""
cleanup() {
    if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

start() { # binary
    "$1" serve --bind 127.0.0.1:0 --data-dir "$WORK/data" 2>"$WORK/log" &
    PID=$!
    PORT=""
    for _ in $(seq 400); do
        PORT=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/log" | sed -n 's/.*listening.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' | head -1)
        [[ -n $PORT ]] && curl -sf "http://127.0.0.1:$PORT/healthcheck" >/dev/null && return
        kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
        sleep 0.05
    done
    echo "vigil did not start" >&2
    exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# A new series: the store's series generation changes, so the next grouping is not cached.
bump() {
    curl -sf -o /dev/null -H 'X-Auth-Token: bench' -H 'Content-Type: application/json' \
        -X POST "http://127.0.0.1:$PORT/v2.0/metrics" \
        -d "[{\"name\":\"gb.bump\",\"dimensions\":{\"n\":\"$1\"},\"timestamp\":$(($(date +%s) * 1000)),\"value\":1}]"
}
ms() { # url
    curl -sf -o "$WORK/answer.json" -w '%{time_total}' -H 'X-Auth-Token: bench' "$1" |
        awk '{ printf "%.1f", $1 * 1000 }'
}
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' '; }

measure() { # label binary
    start "$2"
    local u=http://127.0.0.1:$PORT name q i
    name=$(curl -sf -H 'X-Auth-Token: bench' "$u/v2.0/metrics/names" |
        sed 's/"name"/\n/g' | sed -n 's/^ *: *"\([^"]*\)".*/\1/p' | grep -v '^gb\.' | head -1)
    q="$u/v2.0/metrics/statistics?name=$name&statistics=avg&period=$PERIOD&group_by=hostname"
    q+="&start_time=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)"
    for i in 1 2 3; do bump "warm-$i"; ms "$q&limit=10000" >/dev/null; done
    local first=() again=() first100=() again100=()
    for i in $(seq "$RUNS"); do
        bump "$RANDOM-$i-a"
        first+=("$(ms "$q&limit=10000")")
        again+=("$(ms "$q&limit=10000")")
        bump "$RANDOM-$i-b"
        first100+=("$(ms "$q&limit=100")")
        again100+=("$(ms "$q&limit=100")")
    done
    echo "$1 (load $(cut -d' ' -f1 /proc/loadavg)): $(grep -o '"statistics":\[\[' "$WORK/answer.json" | wc -l) elements in the last 100-row page"
    echo "  first 10000  $(sorted "${first[@]}")"
    echo "  again 10000  $(sorted "${again[@]}")"
    echo "  first 100    $(sorted "${first100[@]}")"
    echo "  again 100    $(sorted "${again100[@]}")"
    stop
}

echo "fleet: 1 name x $HOSTS hosts x $POINTS points, period $PERIOD s; $(nproc) cores"
start "$VIGIL"
"$LOADGEN" ingest --url "http://127.0.0.1:$PORT" --tenant bench --names 1 --hosts "$HOSTS" \
    --points "$POINTS" --batch 5000 --end-ms $(($(date +%s) / 3600 * 3600000 - 1800000)) | tail -n 2
stop
if [[ -n ${GB_COMPARE:-} ]]; then
    for _ in 1 2; do
        measure "compared ($GB_COMPARE)" "$GB_COMPARE"
        measure "this tree" "$VIGIL"
    done
else
    measure "this tree" "$VIGIL"
fi
