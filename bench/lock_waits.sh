#!/usr/bin/env bash
# Where Vigil's threads sleep on user-space locks during an ingest: `bash bench/lock_waits.sh
# [CONNECTIONS]` (4). Starts a release server on a fresh data directory, ingests the 50,000-series
# fleet (10 names x 5,000 hosts x 100 points, batches of 5,000) with vigil-loadgen, records every
# futex call of the server for half a second mid-ingest (`perf record -e
# syscalls:sys_enter_futex` with DWARF call stacks) and prints the callers: FUTEX_WAIT lines are
# a thread going to sleep (on a lock, a condition variable or a channel), FUTEX_WAKE lines a
# thread waking one. Needs perf (Debian's linux-perf) and permission to trace the server.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONNS=${1:-4}
VIGIL=$ROOT/target/release/vigil
LOADGEN=$ROOT/target/release/vigil-loadgen
command -v perf >/dev/null || { echo "lock_waits: perf is needed (apt-get install linux-perf)" >&2; exit 1; }
[[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -p vigil-server -p vigil-loadgen 2>&1 | tail -n 1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-locks.XXXXXX")
PID=""
cleanup() {
    [[ -z $PID ]] || kill "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$VIGIL" serve --bind 127.0.0.1:0 --data-dir "$WORK/data" 2>"$WORK/log" &
PID=$!
PORT=""
for _ in $(seq 200); do
    PORT=$(ss -Htlnp | awk -v p="pid=$PID," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
    [[ -n $PORT ]] && break
    sleep 0.05
done
[[ -n $PORT ]] || { cat "$WORK/log" >&2; exit 1; }
until curl -fs -o /dev/null -H "X-Auth-Token: bench" "http://127.0.0.1:$PORT/healthcheck"; do sleep 0.05; done

"$LOADGEN" ingest --tenant bench --url "http://127.0.0.1:$PORT" --names 10 --hosts 5000 --points 100 \
    --batch 5000 --connections "$CONNS" >"$WORK/ingest.txt" &
LOAD=$!
# Bodies are built before the clock starts (about a second); record well inside the sending.
sleep "${LOCKS_DELAY:-1.6}"
perf record -q -e syscalls:sys_enter_futex --call-graph dwarf,16384 -p "$PID" -o "$WORK/futex.data" \
    -- sleep 0.5 >/dev/null 2>&1
wait "$LOAD"
grep -E "points/s|total time" "$WORK/ingest.txt" || true
perf script -i "$WORK/futex.data" 2>/dev/null >"$WORK/futex.txt"
echo "futex calls of the server in 0.5 s, by thread, operation and the first callers of our own:"
python3 - "$WORK/futex.txt" <<'PY'
import collections, re, sys

SKIP = ("syscall", "futex", "std::sys", "core::", "std::thread", "Condvar", "RwLock", "Mutex",
        "lock_contended", "__GI", "unknown", "[unknown]", "start_thread", "clone3")
count = collections.Counter()

def flush(block):
    if not block:
        return
    op = re.search(r"op: (0x[0-9a-f]+)", block[0])
    frames = [re.sub(r"^\s*[0-9a-f]+\s+", "", l).split(" (")[0] for l in block[1:]]
    frames = [re.sub(r"\+0x[0-9a-f]+$", "", f) for f in frames if not any(s in f for s in SKIP)]
    # The command without FUTEX_PRIVATE_FLAG: WAIT and WAIT_BITSET sleep, WAKE and
    # WAKE_BITSET wake a sleeper.
    code = int(op.group(1), 16) & 0x7F if op else -1
    op = {0: "WAIT", 9: "WAIT", 1: "WAKE", 10: "WAKE"}.get(code, str(code))
    count[(block[0].split()[0], op, " < ".join(frames[:2]))] += 1

block = []
for line in open(sys.argv[1]):
    if line.strip():
        block.append(line.rstrip())
    else:
        flush(block)
        block = []
flush(block)
for (thread, op, where), n in count.most_common(20):
    print(f"{n:6} {thread:16} {op:5} {where}")
PY
