#!/usr/bin/env bash
# The Vigil benchmark: `bash bench/run.sh` (Vigil and its peers on the same data), or
# `bash bench/run.sh scale` (1,000,000 series, 100,000,000 points into Vigil alone; see "Scale"),
# or `bash bench/run.sh notify` (notification delivery alone; see "Notifications"), or
# `bash bench/run.sh cores` (Vigil and VictoriaMetrics from 1 connection to one per core; see
# "Cores"), or `bash bench/run.sh promql` (PromQL queries, Vigil and Prometheus; see "PromQL"),
# or `bash bench/run.sh clickhouse` (Vigil over ClickHouse + PostgreSQL next to Vigil embedded;
# see bench/clickhouse.sh), or `bash bench/run.sh locks` (where the server's threads sleep on
# futexes during an ingest; see "Locks").
#
# Builds the release binaries, then for each system under test starts a server on a fresh data
# directory and a free loopback port, ingests the synthetic fleet (vigil-loadgen ingest) with 1
# and with 4 connections, records server CPU per point (/proc/PID/stat), memory (VmRSS/VmHWM)
# and disk per point (du), runs the query mix (vigil-loadgen query) and times the `monasca`
# CLI end to end. Then "vigil with alarms": a fresh server gets BENCH_DEFINITIONS alarm
# definitions (vigil-loadgen alarms), the same 1-connection ingest runs through the threshold
# engine and is compared with the plain one, the alarms are counted (vigil-loadgen alarm-count)
# and the delay from a crossing value to ALARM is measured (vigil-loadgen crossing); the
# alarm-expr parse rate comes from its parse_rate example. Finally one summary table with a
# column per system.
#
# Knobs (environment): BENCH_NAMES BENCH_HOSTS BENCH_POINTS BENCH_BATCH BENCH_ITERATIONS
# BENCH_RUNS (ingest runs per system and connection count, median reported; 5),
# BENCH_CLI_RUNS, BENCH_DEFINITIONS (1000; 0 skips the alarm section), BENCH_CROSSING_RUNS,
# BENCH_NO_BUILD=1 (use the binaries already in target/release), and BENCH_PEERS
# (space-separated peer systems, default "influxdb victoriametrics"; empty skips them; see
# "Peers" below). Peers missing from the machine are installed from Debian's packages.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

NAMES=${BENCH_NAMES:-10}
HOSTS=${BENCH_HOSTS:-1000}
# The scaling table is taken on the fleet of the issue that asked for it: 50,000 series.
[[ ${1:-} != cores && ${1:-} != locks ]] || HOSTS=${BENCH_HOSTS:-5000}
POINTS=${BENCH_POINTS:-100}
BATCH=${BENCH_BATCH:-5000}
ITERATIONS=${BENCH_ITERATIONS:-200}
CLI_RUNS=${BENCH_CLI_RUNS:-20}
DEFINITIONS=${BENCH_DEFINITIONS:-1000}
CROSSING_RUNS=${BENCH_CROSSING_RUNS:-20}
RUNS=${BENCH_RUNS:-5}
PEERS=${BENCH_PEERS-influxdb victoriametrics}
TENANT=bench
TOTAL_POINTS=$((NAMES * HOSTS * POINTS))
# Every ingest run writes the same samples: the last one at this moment.
END_MS=$(($(date +%s) * 1000))
FLEET=(--names "$NAMES" --hosts "$HOSTS" --points "$POINTS")

VIGIL=$ROOT/target/release/vigil
LOADGEN=$ROOT/target/release/vigil-loadgen
MONASCA=$ROOT/target/release/monasca
PARSE_RATE=$ROOT/target/release/examples/parse_rate
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench.XXXXXX")
SERVER_PID=""
PORT=""

# ---------------------------------------------------------------------------------------------
# Helpers

die() { echo "bench: $*" >&2; exit 1; }
section() { printf '\n=== %s\n' "$*"; }
calc() { awk "BEGIN { printf \"%s\", $* }"; }   # calc 'sprintf("%.1f", 1/3)'

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The port a process listens on: from ss, else from a log line naming 127.0.0.1:PORT.
listen_port() { # pid log
    local port
    port=$(ss -Htlnp 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
    if [[ -z $port && -f $2 ]]; then
        port=$(sed 's/\x1b\[[0-9;]*m//g' "$2" | sed -n 's/.*listening.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' | head -1)
    fi
    echo "$port"
}

# Waits until $1 (a URL) answers, failing if $SERVER_PID dies; sets READY_S to the seconds
# since the server was started ($STARTED_AT).
wait_ready() { # url log
    for _ in $(seq 600); do
        if curl -fsS -o /dev/null -H "X-Auth-Token: $TENANT" "$1" 2>/dev/null; then
            READY_S=$(calc "sprintf(\"%.2f\", $EPOCHREALTIME - $STARTED_AT)")
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; die "server exited"; }
        sleep 0.05
    done
    die "server not ready after 30 s"
}

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }   # utime+stime
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }            # VmRSS, VmHWM
disk_bytes() { du -sb "$1" | cut -f1; }
# Vigil's metric store alone: not the SQLite files of alarms and the Sysdig API.
store_bytes() { du -sb --exclude='*.db' --exclude='*.db-*' --exclude='sysdig-admin-token' "$1" | cut -f1; }
mb() { calc "sprintf(\"%.0f\", $1 / 1024)"; }                                      # kB -> MiB
kv() { sed -n "s/^$2=//p" "$1"; }                                                   # file key
thousands() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }                               # 1234 -> 1,234

# Results: R[system|row] = value; rows print in first-seen order, systems as columns.
declare -A R
ROWS=()
SYSTEMS=()
put() { # system row value
    local r
    R["$1|$2"]=$3
    for r in "${ROWS[@]}"; do
        if [[ $r == "$2" ]]; then return 0; fi
    done
    ROWS+=("$2")
}

# ---------------------------------------------------------------------------------------------
# Build

if [[ ${1:-} == clickhouse || ${1:-} == locks ]]; then
    # Only the server and the load generator.
    [[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release -p vigil-server -p vigil-loadgen 2>&1 | tail -n 3
    MONASCA=$VIGIL PARSE_RATE=$VIGIL
elif [[ -z ${BENCH_NO_BUILD:-} ]]; then
    section "build (release): vigil, vigil-loadgen, monasca, alarm-expr example parse_rate"
    cargo build --release -p vigil-server -p vigil-loadgen -p monasca-cli 2>&1 | tail -n 3
    cargo build --release -p alarm-expr --example parse_rate 2>&1 | tail -n 1
fi
for b in "$VIGIL" "$LOADGEN" "$MONASCA" "$PARSE_RATE"; do [[ -x $b ]] || die "missing $b"; done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "fleet:   $NAMES names x $HOSTS hosts x $POINTS points = $TOTAL_POINTS points, batches of $BATCH"

# ---------------------------------------------------------------------------------------------
# Vigil

start_vigil() { # data-dir log
    STARTED_AT=$EPOCHREALTIME
    "$VIGIL" serve --bind 127.0.0.1:0 --data-dir "$1" 2>"$2" &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 200); do
        PORT=$(listen_port "$SERVER_PID" "$2")
        [[ -n $PORT ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; die "vigil exited"; }
        sleep 0.05
    done
    [[ -n $PORT ]] || die "vigil did not listen"
    wait_ready "http://127.0.0.1:$PORT/healthcheck" "$2"
}

# One ingest run of a system on a fresh data dir; leaves the server running. Writes the
# loadgen summary plus server CPU, memory (and Vigil's disk) to $WORK/run-SYS-CONNS-RUN.txt and
# sets INGEST_DIR.
ingest_once() { # system connections run
    local sys=$1 conns=$2 run=$3 dir=$WORK/$1-$2-$3 log=$WORK/$1-$2-$3.log
    local sum=$WORK/run-$1-$2-$3.txt
    INGEST_DIR=$dir
    section "$sys: ingest, $conns connection(s), fresh data dir (run $run of $RUNS)"
    "start_$sys" "$dir" "$log"
    local rss0 cpu0 cpu1 rss hwm us_pt
    rss0=$(mem_kb "$SERVER_PID" VmRSS)
    cpu0=$(cpu_ticks "$SERVER_PID")
    local who=(--tenant "$TENANT")
    [[ $sys == vigil ]] || who=(--system "$sys")
    "$LOADGEN" ingest "${who[@]}" --url "http://127.0.0.1:$PORT" "${FLEET[@]}" \
        --batch "$BATCH" --end-ms "$END_MS" --connections "$conns" --summary "$sum"
    cpu1=$(cpu_ticks "$SERVER_PID")
    rss=$(mem_kb "$SERVER_PID" VmRSS)
    hwm=$(mem_kb "$SERVER_PID" VmHWM)
    us_pt=$(calc "sprintf(\"%.2f\", ($cpu1 - $cpu0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)")
    echo "  server CPU                 $(calc "sprintf(\"%.2f\", ($cpu1 - $cpu0) / $CLK_TCK)") s (user+sys) = ${us_pt} us/point"
    echo "  server memory              VmRSS $(mb "$rss0") MiB idle -> $(mb "$rss") MiB after ingest, VmHWM $(mb "$hwm") MiB"
    printf 'cpu_us_point=%s\nrss_kb=%s\nhwm_kb=%s\n' "$us_pt" "$rss" "$hwm" >>"$sum"
    if [[ $sys == vigil ]]; then
        local disk
        disk=$(store_bytes "$dir")
        echo "  disk                       $disk bytes = $(calc "sprintf(\"%.1f\", $disk / $TOTAL_POINTS)") bytes/point"
        echo "disk_bytes=$disk" >>"$sum"
    fi
}

# BENCH_RUNS ingest runs of a system (these machines are noisy: one run can be a third off),
# each on a fresh data dir; the run with the median points/s is reported, in
# $WORK/ingest-SYS-CONNS.txt, and puts its figures in the table. The last run's server is left
# running on its data (INGEST_DIR).
ingest_runs() { # system connections
    local sys=$1 conns=$2 run median sum
    local rates=()
    for run in $(seq "$RUNS"); do
        if ((run > 1)); then stop_server; rm -rf "$INGEST_DIR"; fi
        ingest_once "$sys" "$conns" "$run"
        rates+=("$(kv "$WORK/run-$sys-$conns-$run.txt" points_per_s) $run")
    done
    median=$(printf '%s\n' "${rates[@]}" | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $2 }')
    sum=$WORK/ingest-$sys-$conns.txt
    cp "$WORK/run-$sys-$conns-$median.txt" "$sum"
    if ((RUNS > 1)); then
        echo "  points/s of the $RUNS runs: $(printf '%s\n' "${rates[@]}" | sort -n | awk '{ printf "%s%s", sep, $1; sep = ", " }'); median: run $median"
    fi
    put "$sys" "ingest, $conns conn (points/s)" "$(thousands "$(kv "$sum" points_per_s)")"
    put "$sys" "  POST p50 / p99, $conns conn (ms)" "$(kv "$sum" p50_ms) / $(kv "$sum" p99_ms)"
    put "$sys" "  server CPU, $conns conn (us/point)" "$(kv "$sum" cpu_us_point)"
    put "$sys" "  server RSS after / peak, $conns conn (MiB)" "$(mb "$(kv "$sum" rss_kb)") / $(mb "$(kv "$sum" hwm_kb)")"
    if [[ $sys == vigil ]]; then
        put vigil "  disk, $conns conn (bytes/point)" "$(calc "sprintf(\"%.1f\", $(kv "$sum" disk_bytes) / $TOTAL_POINTS)")"
    fi
}

QUERY_ROWS='raw|measurements 1 series
stats_1|stats avg 1 series 60 s
stats_group|stats avg group_by=hostname 300 s
stats_merged|stats avg merge_metrics 300 s
names|metric names
dim_values|dimension values (hostname)
metric_list|metric-list 1 name'

# The query mix against a system's 4-connection data, over the window its ingest wrote;
# answers go to $WORK/answers-SYSTEM.txt for the cross-check.
run_queries() { # system url
    local sys=$1 sum=$WORK/query-$1.txt ing=$WORK/ingest-$1-4.txt key label
    section "$sys: query mix ($ITERATIONS iterations each)"
    "$LOADGEN" query --system "$sys" --url "$2" --tenant "$TENANT" "${FLEET[@]}" \
        --iterations "$ITERATIONS" --summary "$sum" --answers "$WORK/answers-$sys.txt" \
        --first-ms "$(kv "$ing" first_ms)" --last-ms "$(kv "$ing" last_ms)"
    while IFS='|' read -r key label; do
        put "$sys" "query: $label, p50 / p99 (ms)" "$(kv "$sum" "${key}_p50_ms") / $(kv "$sum" "${key}_p99_ms")"
    done <<<"$QUERY_ROWS"
}

vigil_queries() { run_queries vigil "http://127.0.0.1:$PORT"; }

vigil_cli() {
    local name runs=$CLI_RUNS out=$WORK/cli.out
    name=$(MONASCA_API_URL="http://127.0.0.1:$PORT/v2.0" OS_AUTH_TOKEN=$TENANT "$MONASCA" metric-name-list -j \
        | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' | sort | head -1)
    [[ -n $name ]] || die "monasca metric-name-list returned no names"
    section "monasca CLI: metric-list --name $name --dimensions hostname=host-0001 (mean of $runs runs)"
    local args=(metric-list --name "$name" --dimensions hostname=host-0001)
    local times=() t0 t1 i
    for ((i = -2; i < runs; i++)); do   # two warm-up runs
        t0=$EPOCHREALTIME
        MONASCA_API_URL="http://127.0.0.1:$PORT/v2.0" OS_AUTH_TOKEN=$TENANT "$MONASCA" "${args[@]}" >"$out"
        t1=$EPOCHREALTIME
        grep -q 'host-0001' "$out" || { cat "$out" >&2; die "monasca metric-list did not list host-0001"; }
        if ((i >= 0)); then times+=("$(calc "($t1 - $t0) * 1000")"); fi
    done
    [[ $(grep -c 'host-' "$out") -eq 1 ]] || { cat "$out" >&2; die "monasca metric-list: expected 1 row"; }
    cat "$out"
    local stats
    stats=$(printf '%s\n' "${times[@]}" | awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
        END { printf "%.1f %.1f %.1f", s / NR, lo, hi }')
    read -r mean lo hi <<<"$stats"
    echo "  wall time: mean $mean ms, min $lo ms, max $hi ms"
    put vigil "monasca metric-list end to end, mean (ms)" "$mean"
}

# ---------------------------------------------------------------------------------------------
# Peers
#
# Each name in BENCH_PEERS needs a function `peer_<name>` (added by the peer issue) that starts
# the peer on a fresh data dir and a free port (setting SERVER_PID so cleanup stops it), loads
# the same fleet, appends its name to SYSTEMS and records its figures with
# `put <name> "<row label>" <value>` using the row labels above; missing rows print as "-".

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Installs Debian package $2 unless command $1 exists.
need() { # command package
    command -v "$1" >/dev/null && return 0
    section "installing $2 from Debian's packages"
    local sudo=""
    ((EUID == 0)) || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null \
        || die "cannot install $2 (apt-get install $2)"
}

# Polls `du` of $1 every second until it holds still for 5 s (background compaction done).
wait_disk_stable() { # dir
    local last=-1 same=0 now
    for _ in $(seq 300); do
        now=$(disk_bytes "$1")
        if [[ $now == "$last" ]]; then same=$((same + 1)); else same=0; fi
        ((same >= 5)) && break
        last=$now
        sleep 1
    done
}

wait_http() { # url log name
    for _ in $(seq 600); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; die "$3 exited"; }
        sleep 0.05
    done
    die "$3 not ready after 30 s"
}

start_influxdb() { # dir log
    mkdir -p "$1"
    PORT=$(free_port)
    cat >"$1.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$(free_port)"
[meta]
  dir = "$1/meta"
[data]
  dir = "$1/data"
  wal-dir = "$1/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "2s"
  compact-full-write-cold-duration = "5s"
  max-series-per-database = 0
  max-values-per-tag = 0
[http]
  bind-address = "127.0.0.1:$PORT"
  log-enabled = false
[continuous_queries]
  enabled = false
[monitor]
  store-enabled = false
EOF
    influxd -config "$1.conf" >"$2" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$PORT/ping" "$2" influxd
    curl -fsS -o /dev/null -XPOST "http://127.0.0.1:$PORT/query" --data-urlencode "q=CREATE DATABASE mon" \
        || die "cannot create the InfluxDB database"
}

start_victoriametrics() { # dir log
    PORT=$(free_port)
    # latencyOffset=0: answer queries up to now (the fleet's last sample is "now").
    victoria-metrics -storageDataPath="$1" -httpListenAddr="127.0.0.1:$PORT" \
        -search.latencyOffset=0s -retentionPeriod=1y -loggerLevel=ERROR >"$2" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$PORT/health" "$2" victoria-metrics
}

# Settles a peer's data on disk the way the peer does it: InfluxDB snapshots its cache and fully
# compacts cold shards after the durations configured above; VictoriaMetrics flushes and merges
# on request.
compact_peer() { # system dir
    if [[ $1 == victoriametrics ]]; then
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT/internal/force_flush" || true
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT/internal/force_merge" || true
    fi
    wait_disk_stable "$2"
}

# A peer's ingest runs; after the 1-connection ones, its disk once settled.
peer_ingest() { # system connections
    local sys=$1 conns=$2 disk
    ingest_runs "$sys" "$conns"
    if ((conns == 1)); then
        compact_peer "$sys" "$INGEST_DIR"
        disk=$(disk_bytes "$INGEST_DIR")
        echo "  disk after compaction      $disk bytes = $(calc "sprintf(\"%.1f\", $disk / $TOTAL_POINTS)") bytes/point"
        put "$sys" "disk after compaction (bytes/point)" "$(calc "sprintf(\"%.1f\", $disk / $TOTAL_POINTS)")"
    fi
}

peer_run() { # system
    SYSTEMS+=("$1")
    peer_ingest "$1" 1
    stop_server
    peer_ingest "$1" 4
    # VictoriaMetrics makes new samples searchable after a buffer flush (about a second).
    [[ $1 != victoriametrics ]] || curl -fsS -o /dev/null "http://127.0.0.1:$PORT/internal/force_flush"
    run_queries "$1" "http://127.0.0.1:$PORT"
}

peer_influxdb() { need influxd influxdb && peer_run influxdb; }
peer_victoriametrics() { need victoria-metrics victoria-metrics && peer_run victoriametrics; }


# ---------------------------------------------------------------------------------------------
# Cores: `bash bench/run.sh cores` ingests the fleet (5,000 hosts unless BENCH_HOSTS says
# otherwise) into Vigil and VictoriaMetrics (JSON import) with 1, 2, 4, ... connections up to the machine's cores (BENCH_CORES_MAX), one fresh data dir
# per run, and prints points/s, server CPU per point, busy cores (server CPU seconds / wall
# seconds of the ingest) and request p50 / p99 for both, with the ratio: the table issue
# "Performance on big machines" asks for, one command on any machine.

if [[ ${1:-} == clickhouse ]]; then
    RUNS=${BENCH_RUNS:-3}
    # shellcheck source=clickhouse.sh
    source "$ROOT/bench/clickhouse.sh"
    exit 0
fi

if [[ ${1:-} == cores ]]; then
    need victoria-metrics victoria-metrics
    MAXC=${BENCH_CORES_MAX:-$(nproc)}
    CONNS=()
    for ((c = 1; c < MAXC; c *= 2)); do CONNS+=("$c"); done
    CONNS+=("$MAXC")
    RUNS=1
    declare -A C
    for conns in "${CONNS[@]}"; do
        for sys in vigil victoriametrics; do
            ingest_once "$sys" "$conns" 1
            stop_server
            rm -rf "$INGEST_DIR"
            sum=$WORK/run-$sys-$conns-1.txt
            busy=$(calc "sprintf(\"%.2f\", $(kv "$sum" cpu_us_point) * $TOTAL_POINTS / 1e6 / $(kv "$sum" seconds))")
            C["$sys|$conns"]="$(kv "$sum" points_per_s) $(kv "$sum" cpu_us_point) $busy $(kv "$sum" p50_ms) $(kv "$sum" p99_ms)"
        done
    done
    section "cores: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $TOTAL_POINTS points per run, batches of $BATCH"
    printf '%5s  %12s %12s %6s  %8s %8s  %6s %6s  %15s %15s\n' conns "vigil pts/s" "VM pts/s" ratio \
        "vigil us" "VM us" "vigil" "VM" "vigil p50/p99" "VM p50/p99"
    printf '%5s  %12s %12s %6s  %8s %8s  %6s %6s  %15s %15s\n' "" "" "" "" "CPU/pt" "CPU/pt" busy busy "ms" "ms"
    for conns in "${CONNS[@]}"; do
        read -r vp vc vb v50 v99 <<<"${C[vigil|$conns]}"
        read -r mp mc mb m50 m99 <<<"${C[victoriametrics|$conns]}"
        printf '%5s  %12s %12s %6s  %8s %8s  %6s %6s  %15s %15s\n' "$conns" "$(thousands "$vp")" \
            "$(thousands "$mp")" "$(calc "sprintf(\"%.2f\", $vp / $mp)")" "$vc" "$mc" "$vb" "$mb" \
            "$v50 / $v99" "$m50 / $m99"
    done
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Locks: `bash bench/run.sh locks` ingests the fleet (5,000 hosts unless BENCH_HOSTS says
# otherwise) into Vigil with BENCH_LOCK_CONNECTIONS (4), records every futex call of the server
# for half a second mid-ingest (`perf record -e syscalls:sys_enter_futex` with DWARF call
# stacks) and prints the callers: WAIT lines are a thread going to sleep (on a lock, a condition
# variable or a channel), WAKE lines a thread waking one. Needs perf (Debian's linux-perf) and
# permission to trace the server.

if [[ ${1:-} == locks ]]; then
    command -v perf >/dev/null || die "perf is needed (apt-get install linux-perf)"
    start_vigil "$WORK/locks" "$WORK/locks.log"
    "$LOADGEN" ingest --tenant "$TENANT" --url "http://127.0.0.1:$PORT" "${FLEET[@]}" \
        --batch "$BATCH" --end-ms "$END_MS" --connections "${BENCH_LOCK_CONNECTIONS:-4}" \
        >"$WORK/locks-ingest.txt" &
    load=$!
    # Bodies are built before the clock starts (about a second); record well inside the sending.
    sleep "${BENCH_LOCK_DELAY:-1.6}"
    perf record -q -e syscalls:sys_enter_futex --call-graph dwarf,16384 -p "$SERVER_PID" \
        -o "$WORK/futex.data" -- sleep 0.5 >/dev/null 2>&1
    wait "$load"
    grep -E "points/s|total time" "$WORK/locks-ingest.txt" || true
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

    exit 0
fi

# ---------------------------------------------------------------------------------------------
# PromQL: `bash bench/run.sh promql` loads the same day of samples (BENCH_PROMQL_HOSTS x 10
# counters plus a 100-bucket histogram, one sample every 30 s for BENCH_PROMQL_HOURS) into a fresh
# Vigil (Monasca API) and a fresh Prometheus (Debian's package, backfilled with `promtool tsdb
# create-blocks-from openmetrics`), then times the query mix of `vigil-loadgen promql-query`
# against both through /api/v1: p50/p99 per query, the server's peak memory added during it, and
# a digest of each answer (series, value sum) that must agree. BENCH_PROMQL_PROMETHEUS=0 runs
# Vigil alone.

start_prometheus() { # dir log
    PORT=$(free_port)
    printf 'global:\n  scrape_interval: 1h\n' >"$1.yml"
    prometheus --config.file="$1.yml" --storage.tsdb.path="$1" --storage.tsdb.retention.time=100y \
        --web.listen-address="127.0.0.1:$PORT" --log.level=warn >"$2" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$PORT/-/ready" "$2" prometheus
}

if [[ ${1:-} == promql ]]; then
    need prometheus prometheus
    PQ_HOSTS=${BENCH_PROMQL_HOSTS:-1000}
    PQ_HOURS=${BENCH_PROMQL_HOURS:-24}
    PQ_ITER=${BENCH_PROMQL_ITERATIONS:-10}
    PQ_END=$((END_MS / 1000 / 30 * 30 * 1000 - 3600000))
    SHAPE=(--hosts "$PQ_HOSTS" --hours "$PQ_HOURS" --end-ms "$PQ_END")
    section "promql: ${PQ_HOSTS} hosts x 10 counters + 100 buckets, ${PQ_HOURS} h at 30 s"
    start_vigil "$WORK/vigil-promql" "$WORK/vigil-promql.log"
    "$LOADGEN" promql-data --url "http://127.0.0.1:$PORT" --tenant "$TENANT" "${SHAPE[@]}" | sed 's/^/  vigil: /'
    wait_disk_stable "$WORK/vigil-promql"
    echo "  vigil: VmRSS $(mb "$(mem_kb "$SERVER_PID" VmRSS)") MiB with the data loaded"
    "$LOADGEN" promql-query --url "http://127.0.0.1:$PORT" --tenant "$TENANT" "${SHAPE[@]}" \
        --iterations "$PQ_ITER" --pid "$SERVER_PID" --summary "$WORK/promql-vigil.txt"
    stop_server
    rm -rf "$WORK/vigil-promql"
    [[ ${BENCH_PROMQL_PROMETHEUS:-1} == 1 ]] || exit 0
    "$LOADGEN" promql-data "${SHAPE[@]}" --openmetrics "$WORK/promql.om" | sed 's/^/  prometheus: /'
    t0=$EPOCHREALTIME
    promtool tsdb create-blocks-from openmetrics --max-block-duration=24h "$WORK/promql.om" \
        "$WORK/prometheus-promql" >"$WORK/promtool.log" 2>&1 || { tail "$WORK/promtool.log"; die "promtool failed"; }
    echo "  prometheus: backfilled in $(calc "sprintf(\"%.0f\", $EPOCHREALTIME - $t0)") s"
    rm -f "$WORK/promql.om"
    start_prometheus "$WORK/prometheus-promql" "$WORK/prometheus-promql.log"
    wait_disk_stable "$WORK/prometheus-promql"
    "$LOADGEN" promql-query --url "http://127.0.0.1:$PORT" "${SHAPE[@]}" \
        --iterations "$PQ_ITER" --pid "$SERVER_PID" --summary "$WORK/promql-prometheus.txt"
    stop_server
    section "promql: Vigil / Prometheus (ratios below 1 are Vigil faster or smaller)"
    printf '%-48s %17s %17s %6s %15s %s\n' query "vigil p50/p99 ms" "prom p50/p99 ms" "p99 x" "peak +MiB v/p" answers
    v=$WORK/promql-vigil.txt p=$WORK/promql-prometheus.txt
    for n in 0 1 2 3 4 5; do
        same=same
        if [[ $(kv "$v" "q${n}_series") != "$(kv "$p" "q${n}_series")" ]] \
            || [[ $(calc "(($(kv "$v" "q${n}_sum") - $(kv "$p" "q${n}_sum"))^2 > 1e-12 * ($(kv "$p" "q${n}_sum"))^2 + 1e-9)") == 1 ]]; then
            same="DIFFERENT ($(kv "$v" "q${n}_series") vs $(kv "$p" "q${n}_series") series)"
        fi
        printf '%-48s %17s %17s %6s %15s %s\n' "$(kv "$v" "q${n}_label")" \
            "$(kv "$v" "q${n}_p50_ms") / $(kv "$v" "q${n}_p99_ms")" \
            "$(kv "$p" "q${n}_p50_ms") / $(kv "$p" "q${n}_p99_ms")" \
            "$(calc "sprintf(\"%.2f\", $(kv "$v" "q${n}_p99_ms") / $(kv "$p" "q${n}_p99_ms"))")" \
            "$(kv "$v" "q${n}_mem_mib") / $(kv "$p" "q${n}_mem_mib")" "$same"
    done
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Scale: `bash bench/run.sh scale` ingests BENCH_SCALE_HOSTS x BENCH_NAMES series (1,000,000 by
# default) x BENCH_POINTS points (100,000,000) into one fresh Vigil, bodies generated while
# sending (the generator shares the 2 cores), then reports throughput, peak memory, bytes per
# series and per point, and how fast the cardinality queries stay. Nothing else runs.

if [[ ${1:-} == scale ]]; then
    SCALE_HOSTS=${BENCH_SCALE_HOSTS:-100000}
    SCALE_ITERATIONS=${BENCH_SCALE_ITERATIONS:-5}
    SERIES=$((NAMES * SCALE_HOSTS))
    SCALE_POINTS=$((SERIES * POINTS))
    SCALE_FLEET=(--names "$NAMES" --hosts "$SCALE_HOSTS" --points "$POINTS")
    dir=$WORK/vigil-scale log=$WORK/vigil-scale.log sum=$WORK/ingest-vigil-4.txt
    section "vigil at scale: $(thousands $SERIES) series x $POINTS points = $(thousands $SCALE_POINTS) points, 4 connections, streamed"
    start_vigil "$dir" "$log"
    ( while kill -0 "$SERVER_PID" 2>/dev/null; do mem_kb "$SERVER_PID" VmRSS; sleep 1; done ) >"$WORK/rss.txt" 2>/dev/null &
    sampler=$!
    cpu0=$(cpu_ticks "$SERVER_PID")
    "$LOADGEN" ingest --url "http://127.0.0.1:$PORT" --tenant "$TENANT" "${SCALE_FLEET[@]}" \
        --batch "$BATCH" --end-ms "$END_MS" --connections 4 --stream --summary "$sum"
    cpu1=$(cpu_ticks "$SERVER_PID")
    hwm=$(mem_kb "$SERVER_PID" VmHWM)
    rss=$(mem_kb "$SERVER_PID" VmRSS)
    disk=$(store_bytes "$dir")
    echo "  server CPU                 $(calc "sprintf(\"%.2f\", ($cpu1 - $cpu0) / $CLK_TCK * 1e6 / $SCALE_POINTS)") us/point"
    echo "  server memory              VmRSS $(mb "$rss") MiB after ingest, peak (VmHWM) $(mb "$hwm") MiB = $(calc "sprintf(\"%.0f\", $hwm * 1024 / $SERIES)") bytes/series"
    echo "  RSS every 10 s (MiB)       $(awk 'NR % 10 == 1 { printf "%d ", $1 / 1024 }' "$WORK/rss.txt")"
    echo "  disk                       $disk bytes = $(calc "sprintf(\"%.1f\", $disk / $SCALE_POINTS)") bytes/point"
    ITERATIONS=$SCALE_ITERATIONS
    FLEET=("${SCALE_FLEET[@]}")
    run_queries vigil "http://127.0.0.1:$PORT"
    stop_server
    kill "$sampler" 2>/dev/null || true
    du_stopped=$(store_bytes "$dir")
    echo "  disk after graceful stop   $du_stopped bytes = $(calc "sprintf(\"%.1f\", $du_stopped / $SCALE_POINTS)") bytes/point"
    "$VIGIL" compact --data-dir "$dir" | sed 's/^/  vigil compact: /'
    du_compacted=$(store_bytes "$dir")
    echo "  disk after vigil compact   $du_compacted bytes = $(calc "sprintf(\"%.2f\", $du_compacted / $SCALE_POINTS)") bytes/point"
    section "vigil at scale: restart on that data"
    start_vigil "$dir" "$WORK/vigil-scale-restart.log"
    echo "  ready after                $READY_S s, VmRSS $(mb "$(mem_kb "$SERVER_PID" VmRSS)") MiB"
    stop_server
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Notifications: BENCH_NOTIFY_ALARMS alarms with a webhook action flip to ALARM at once on a
# fresh Vigil (deliveries per second to a local receiver), then BENCH_NOTIFY_RUNS single
# crossings are timed from the crossing metric's 204 to the webhook's arrival.
# `bash bench/run.sh notify` runs only this.

NOTIFY_ALARMS=${BENCH_NOTIFY_ALARMS:-10000}
NOTIFY_RUNS=${BENCH_NOTIFY_RUNS:-100}

vigil_notify() {
    local dir=$WORK/vigil-notify log=$WORK/vigil-notify.log sum=$WORK/notify.txt
    section "vigil notifications: $(thousands "$NOTIFY_ALARMS") alarms flip at once, then $NOTIFY_RUNS single crossings, fresh data dir"
    start_vigil "$dir" "$log"
    "$LOADGEN" notify --url "http://127.0.0.1:$PORT" --tenant "$TENANT" \
        --alarms "$NOTIFY_ALARMS" --runs "$NOTIFY_RUNS" --summary "$sum"
    stop_server
    put vigil "notifications: $(thousands "$NOTIFY_ALARMS") alarms flipping, delivered (per s)" "$(thousands "$(kv "$sum" per_s)")"
    put vigil "  crossing 204 -> webhook p50 / p99 (ms; goal p99 < 100)" "$(kv "$sum" p50_ms) / $(kv "$sum" p99_ms)"
}

if [[ ${1:-} == notify ]]; then
    SYSTEMS+=(vigil)
    vigil_notify
    for r in "${ROWS[@]}"; do printf '%-60s %s\n' "$r" "${R[vigil|$r]}"; done
    exit 0
fi

SYSTEMS+=(vigil)

ingest_runs vigil 1
INGEST1_DIR=$INGEST_DIR
stop_server
section "vigil: graceful stop, offline compaction, cold start on the 1-connection data dir"
du_stopped=$(store_bytes "$INGEST1_DIR")
echo "  disk after graceful stop   $du_stopped bytes = $(calc "sprintf(\"%.1f\", $du_stopped / $TOTAL_POINTS)") bytes/point (blocks as sealed)"
"$VIGIL" compact --data-dir "$INGEST1_DIR" | sed 's/^/  vigil compact: /'
du_compacted=$(store_bytes "$INGEST1_DIR")
echo "  disk after vigil compact   $du_compacted bytes = $(calc "sprintf(\"%.2f\", $du_compacted / $TOTAL_POINTS)") bytes/point"
put vigil "disk after compaction (bytes/point)" "$(calc "sprintf(\"%.2f\", $du_compacted / $TOTAL_POINTS)")"
start_vigil "$INGEST1_DIR" "$WORK/vigil-restart.log"
COLD_START_S=$READY_S
echo "  ready after                $COLD_START_S s (with $TOTAL_POINTS points)"
stop_server
rm -rf "$INGEST1_DIR"

ingest_runs vigil 4
put vigil "cold start with the data (s)" "$COLD_START_S"
vigil_queries
vigil_cli
stop_server

# ---------------------------------------------------------------------------------------------
# Vigil with alarms: the 1-connection ingest again, through the threshold engine.

vigil_alarms() {
    local dir=$WORK/vigil-alarms log=$WORK/vigil-alarms.log
    local defs=$WORK/alarm-defs.txt sum=$WORK/ingest-alarms.txt count=$WORK/alarm-count.txt
    local cross=$WORK/crossing.txt url
    section "vigil with alarms: $DEFINITIONS alarm definitions notifying a webhook on ALARM and OK, then ingest, 1 connection, fresh data dir"
    start_vigil "$dir" "$log"
    url="http://127.0.0.1:$PORT"
    # A local webhook receiver the definitions' actions point at: notifications are on.
    local hook_file=$WORK/hook-url.txt hook_count=$WORK/hook-count.txt hook_pid
    "$LOADGEN" receive --url-file "$hook_file" --count-file "$hook_count" &
    hook_pid=$!
    for _ in $(seq 100); do [[ -s $hook_file ]] && break; sleep 0.05; done
    [[ -s $hook_file ]] || die "the webhook receiver did not start"
    "$LOADGEN" alarms --url "$url" --tenant "$TENANT" "${FLEET[@]}" --definitions "$DEFINITIONS" \
        --webhook "$(cat "$hook_file")" --summary "$defs"
    echo
    # First contact: the fleet's previous 100 samples per series, which create the 10,900 alarms
    # (rows in alarms.db) as their series first arrive.
    local cold=$WORK/ingest-alarms-cold.txt cold_cpu0 cold_cpu1 cold_us cold_ratio
    echo "first contact (the earlier samples of every series; the alarms are created):"
    cold_cpu0=$(cpu_ticks "$SERVER_PID")
    "$LOADGEN" ingest --url "$url" --tenant "$TENANT" "${FLEET[@]}" \
        --batch "$BATCH" --connections 1 --end-ms $((END_MS - POINTS * 30000)) --summary "$cold"
    cold_cpu1=$(cpu_ticks "$SERVER_PID")
    cold_us=$(calc "sprintf(\"%.2f\", ($cold_cpu1 - $cold_cpu0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)")
    cold_ratio=$(calc "sprintf(\"%.2f\", $(kv "$cold" points_per_s) / $(kv "$WORK/ingest-vigil-1.txt" points_per_s))")
    echo "  server CPU                 $cold_us us/point; vs without alarms $cold_ratio"
    echo
    # Steady state: the same samples as the plain runs, every series' alarms known.
    echo "steady state (the plain runs' samples; every series already has its alarms):"
    local cpu0 cpu1 rss hwm
    cpu0=$(cpu_ticks "$SERVER_PID")
    "$LOADGEN" ingest --url "$url" --tenant "$TENANT" "${FLEET[@]}" \
        --batch "$BATCH" --connections 1 --end-ms "$END_MS" --summary "$sum"
    cpu1=$(cpu_ticks "$SERVER_PID")
    rss=$(mem_kb "$SERVER_PID" VmRSS)
    hwm=$(mem_kb "$SERVER_PID" VmHWM)
    local us_pt plain with ratio slower verdict
    us_pt=$(calc "sprintf(\"%.2f\", ($cpu1 - $cpu0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)")
    plain=$(kv "$WORK/ingest-vigil-1.txt" points_per_s)
    with=$(kv "$sum" points_per_s)
    ratio=$(calc "sprintf(\"%.2f\", $with / $plain)")
    slower=$(calc "sprintf(\"%.0f\", (1 - $with / $plain) * 100)")
    verdict=$(calc "($with / $plain >= 0.8) ? \"met\" : \"MISSED\"")
    echo "  server CPU                 $us_pt us/point (without alarms: $(kv "$WORK/ingest-vigil-1.txt" cpu_us_point) us/point)"
    echo "  server memory              VmRSS $(mb "$rss") MiB after ingest, VmHWM $(mb "$hwm") MiB"
    echo "  vs without alarms          $(thousands "$with") / $(thousands "$plain") points/s = $ratio ($slower% slower; goal: < 20% slower, $verdict)"
    echo
    "$LOADGEN" alarm-count --url "$url" --tenant "$TENANT" --expect "$(kv "$defs" expected_alarms)" \
        --summary "$count"

    section "vigil with alarms: crossing delay ($CROSSING_RUNS runs, $(kv "$count" alarms) alarms in the engine)"
    "$LOADGEN" crossing --url "$url" --tenant "$TENANT" --runs "$CROSSING_RUNS" --summary "$cross"
    stop_server
    sleep 1
    kill "$hook_pid" 2>/dev/null || true
    wait "$hook_pid" 2>/dev/null || true
    echo "  webhooks received          $(kv "$hook_count" requests)"

    local d=$(thousands "$DEFINITIONS")
    put vigil "with $d alarm definitions, notifying: ingest, 1 conn (points/s)" "$(thousands "$with")"
    put vigil "  vs without alarms, 1 conn (ratio; goal >= 0.80)" "$ratio"
    put vigil "  first contact, alarms created: points/s (ratio; CPU us/point)" "$(thousands "$(kv "$cold" points_per_s)") ($cold_ratio; $cold_us)"
    put vigil "  POST p50 / p99 with alarms (ms)" "$(kv "$sum" p50_ms) / $(kv "$sum" p99_ms)"
    put vigil "  server CPU with alarms (us/point)" "$us_pt"
    put vigil "  server RSS after / peak with alarms (MiB)" "$(mb "$rss") / $(mb "$hwm")"
    put vigil "  alarms created (series matched)" "$(thousands "$(kv "$count" alarms)") ($(thousands "$(kv "$defs" series)"))"
    put vigil "  alarm definitions created (per s)" "$(thousands "$(kv "$defs" per_s)")"
    put vigil "alarm crossing to ALARM seen, p50 / p99 / max (ms)" \
        "$(kv "$cross" p50_ms) / $(kv "$cross" p99_ms) / $(kv "$cross" max_ms)"
    put vigil "  of which GET /v2.0/alarms?alarm_definition_id, p50 (ms)" "$(kv "$cross" get_p50_ms)"
}

vigil_parse_rate() {
    section "alarm-expr: parse rate (cargo run --release -p alarm-expr --example parse_rate)"
    local out=$WORK/parse-rate.txt rate
    "$PARSE_RATE" >"$out"
    sed -n '/^parse:/,$p' "$out"
    rate=$(sed -n 's/^parse: .* \([0-9][0-9]*\) expressions\/s.*/\1/p' "$out")
    [[ -n $rate ]] || { cat "$out" >&2; die "parse_rate printed no rate"; }
    put vigil "alarm-expr parse (expressions/s)" "$(thousands "$rate")"
}

if ((DEFINITIONS > 0)); then
    vigil_alarms
fi
if ((NOTIFY_ALARMS > 0)); then
    vigil_notify
fi
vigil_parse_rate

for peer in $PEERS; do
    declare -F "peer_$peer" >/dev/null || die "unknown peer '$peer' (no function peer_$peer)"
    "peer_$peer"
    stop_server
done

# Every system must give the same answers to the same queries.
if [[ -n $PEERS ]]; then
    section "answers: each peer's against Vigil's (canonical form: epoch ms, 9 significant digits)"
    for peer in $PEERS; do
        same=""
        while IFS='|' read -r key label; do
            a=$(sed -n "s/^$key //p" "$WORK/answers-vigil.txt")
            b=$(sed -n "s/^$key //p" "$WORK/answers-$peer.txt")
            if [[ -n $a && $a == "$b" ]]; then
                verdict=same
            else
                verdict=DIFFERENT
                echo "    vigil: ${a:0:300}" >&2
                echo "    $peer: ${b:0:300}" >&2
            fi
            echo "  $peer, $label: $verdict"
            same+=${verdict:0:1}
        done <<<"$QUERY_ROWS"
        put "$peer" "answers same as vigil's (S = same, per query)" "$same"
    done
fi

# ---------------------------------------------------------------------------------------------
# Summary

section "summary ($TOTAL_POINTS points: $NAMES names x $HOSTS hosts x $POINTS points; $(nproc) cores, loopback)"
{
    w=0
    for r in "${ROWS[@]}"; do w=$((${#r} > w ? ${#r} : w)); done
    cols=()
    for s in "${SYSTEMS[@]}"; do
        c=${#s}
        for r in "${ROWS[@]}"; do v=${R[$s|$r]:--}; c=$((${#v} > c ? ${#v} : c)); done
        cols+=("$c")
    done
    line() { # label values...
        local label=$1 i=0 out
        shift
        out=$(printf '%-*s' "$w" "$label")
        for v in "$@"; do out+=$(printf '   %*s' "${cols[$i]}" "$v"); i=$((i + 1)); done
        echo "$out"
    }
    line "" "${SYSTEMS[@]}"
    rules=()
    for c in "${cols[@]}"; do rules+=("$(printf '%*s' "$c" '' | tr ' ' -)"); done
    line "$(printf '%*s' "$w" '' | tr ' ' -)" "${rules[@]}"
    for r in "${ROWS[@]}"; do
        vals=()
        for s in "${SYSTEMS[@]}"; do vals+=("${R[$s|$r]:--}"); done
        line "$r" "${vals[@]}"
    done
}

# Vigil's figures as ratios of each peer's, for the rows every system has.
if [[ -n $PEERS ]]; then
    # "1,234 / 5.6" over "617 / 2.8" -> "2.00 / 2.00"
    ratio() { # vigil peer
        local out="" i a b
        IFS='/' read -ra A <<<"${1//,/}"
        IFS='/' read -ra B <<<"${2//,/}"
        for i in "${!A[@]}"; do
            a=${A[$i]// /} b=${B[$i]:-}
            b=${b// /}
            [[ -n $out ]] && out+=" / "
            if [[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]] && [[ $(calc "($b > 0)") == 1 ]]; then
                out+=$(calc "sprintf(\"%.2f\", $a / $b)")
            else
                out+="-"
            fi
        done
        echo "$out"
    }
    section "Vigil / peer (throughput: above 1 is better; CPU, disk, memory, latency: below 1 is better)"
    {
        w=0
        for r in "${ROWS[@]}"; do w=$((${#r} > w ? ${#r} : w)); done
        printf '%-*s' "$w" ""
        for peer in $PEERS; do printf '   %18s' "vigil / $peer"; done
        echo
        for r in "${ROWS[@]}"; do
            [[ -n ${R[vigil|$r]:-} ]] || continue
            any=""
            line=$(printf '%-*s' "$w" "$r")
            for peer in $PEERS; do
                v=${R[$peer|$r]:-}
                if [[ -n $v ]]; then any=1; line+=$(printf '   %18s' "$(ratio "${R[vigil|$r]}" "$v")"); else line+=$(printf '   %18s' -); fi
            done
            [[ -n $any ]] && echo "$line"
        done
    }
fi
