# shellcheck shell=bash
# ClickHouse: `bash bench/run.sh clickhouse` (sourced by run.sh, which defines the helpers).
# Vigil with its measurements in ClickHouse and its configuration in PostgreSQL (one throwaway
# clickhouse-server and one PostgreSQL, Debian's packages, on loopback) next to Vigil embedded,
# on the same fleet: for 1 and 4 connections, BENCH_RUNS ingest runs each (fresh data dir and
# fresh databases per run, median points/s reported) with the server CPU per point read from
# /proc of the Vigil node and, for the ClickHouse setup, of clickhouse-server as well (during
# the ingest, and again once ClickHouse's background merges have settled), the bytes per point
# ClickHouse keeps (system.parts, active parts, after the merges) next to the embedded store's
# du as running (its head still in the WAL: `bash bench/run.sh` gives it after compaction), then
# the query mix on the 4-connection data, whose answers must match between the two.

command -v clickhouse-server >/dev/null || [[ -x /usr/sbin/clickhouse-server ]] ||
    need clickhouse-server clickhouse-server
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need pg_ctlcluster postgresql
# shellcheck source=../tests/throwaway.sh
source "$ROOT/tests/throwaway.sh"

CH_DIR=$WORK/clickhouse-server
CH_HTTP=$(free_port)
clickhouse_start "$CH_DIR" "$CH_HTTP" "$(free_port)"
CH_SERVER_PID=$CLICKHOUSE_PID
CH_URL="http://127.0.0.1:$CH_HTTP"
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-pg.XXXXXX")
PG_PORT=$(free_port)
postgres_start "$PG_DIR" "$PG_PORT"
trap 'stop_server; postgres_stop "$PG_DIR"; rm -rf "$PG_DIR"; kill "$CH_SERVER_PID" 2>/dev/null; wait "$CH_SERVER_PID" 2>/dev/null; cleanup' EXIT
ch() { curl -fsS "$CH_URL/" --data-binary "$1"; }
echo "ClickHouse $(ch 'SELECT version()') at $CH_URL; PostgreSQL $("$POSTGRES_BIN/postgres" -V | awk '{ print $3 }') on port $PG_PORT"

# Waits until ClickHouse runs no merge of database $1 and its active part count held still 3 s.
ch_settle() {
    local last="" now same=0
    for _ in $(seq 600); do
        now=$(ch "SELECT count() FROM system.parts WHERE database = '$1' AND active")
        if [[ $now == "$last" && $(ch "SELECT count() FROM system.merges WHERE database = '$1'") == 0 ]]; then
            ((++same >= 3)) && return 0
        else
            same=0
        fi
        last=$now
        sleep 1
    done
}

# One ingest run: SYSTEM (embedded | clickhouse), CONNECTIONS, RUN. Leaves the server running;
# writes the loadgen summary and the CPU and disk figures to $WORK/ch-run-SYS-CONNS-RUN.txt.
ch_ingest_once() {
    local sys=$1 conns=$2 run=$3 dir=$WORK/ch-$1-$2-$3 sum=$WORK/ch-run-$1-$2-$3.txt
    local db=vigil_bench_${conns}_$run v0 v1 c0=0 c1=0 c2=0 v2 bytes rows
    section "$sys: ingest, $conns connection(s), fresh data dir (run $run of $RUNS)"
    if [[ $sys == clickhouse ]]; then
        postgres_createdb "$PG_PORT" "$db"
        export VIGIL_METRIC_STORE=clickhouse VIGIL_CLICKHOUSE_URLS=$CH_URL VIGIL_CLICKHOUSE_DATABASE=$db
        export VIGIL_CONFIG_DB="postgres://vigil@127.0.0.1:$PG_PORT/$db"
    fi
    start_vigil "$dir" "$dir.log"
    unset VIGIL_METRIC_STORE VIGIL_CLICKHOUSE_URLS VIGIL_CLICKHOUSE_DATABASE VIGIL_CONFIG_DB
    v0=$(cpu_ticks "$SERVER_PID")
    [[ $sys == clickhouse ]] && c0=$(cpu_ticks "$CH_SERVER_PID")
    "$LOADGEN" ingest --tenant "$TENANT" --url "http://127.0.0.1:$PORT" "${FLEET[@]}" \
        --batch "$BATCH" --end-ms "$END_MS" --connections "$conns" --summary "$sum"
    v1=$(cpu_ticks "$SERVER_PID")
    if [[ $sys == clickhouse ]]; then
        c1=$(cpu_ticks "$CH_SERVER_PID")
        ch_settle "$db"
        c2=$(cpu_ticks "$CH_SERVER_PID")
        bytes=$(ch "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '$db' AND active")
        rows=$(ch "SELECT count() FROM $db.points")
        ((rows == TOTAL_POINTS)) || echo "  WARNING: ClickHouse holds $rows points, $TOTAL_POINTS were acknowledged"
    else
        wait_disk_stable "$dir"
        bytes=$(store_bytes "$dir")
    fi
    v2=$(cpu_ticks "$SERVER_PID")
    local us_ingest us_settled
    us_ingest=$(calc "sprintf(\"%.2f\", ($v1 - $v0 + $c1 - $c0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)")
    us_settled=$(calc "sprintf(\"%.2f\", ($v2 - $v0 + $c2 - $c0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)")
    echo "  CPU, Vigil + ClickHouse     $us_ingest us/point during the ingest ($(calc "sprintf(\"%.2f\", ($v1 - $v0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)") Vigil), $us_settled us/point with the merges after it"
    echo "  disk                        $bytes bytes = $(calc "sprintf(\"%.1f\", $bytes / $TOTAL_POINTS)") bytes/point"
    printf 'cpu_us_point=%s\ncpu_settled_us_point=%s\nvigil_us_point=%s\ndisk_bytes=%s\n' "$us_ingest" "$us_settled" \
        "$(calc "sprintf(\"%.2f\", ($v1 - $v0) / $CLK_TCK * 1e6 / $TOTAL_POINTS)")" "$bytes" >>"$sum"
}

ch_ingest_runs() { # system connections
    local sys=$1 conns=$2 run rates=() median sum
    for run in $(seq "$RUNS"); do
        ((run > 1)) && { stop_server; rm -rf "$WORK/ch-$sys-$conns-$((run - 1))"; }
        ch_ingest_once "$sys" "$conns" "$run"
        rates+=("$(kv "$WORK/ch-run-$sys-$conns-$run.txt" points_per_s) $run")
    done
    median=$(printf '%s\n' "${rates[@]}" | sort -n | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $2 }')
    sum=$WORK/ch-run-$sys-$conns-$median.txt
    echo "  points/s of the $RUNS runs: $(printf '%s\n' "${rates[@]}" | sort -n | awk '{ printf "%s%s", sep, $1; sep = ", " }'); median: run $median"
    put "$sys" "ingest, $conns conn (points/s)" "$(thousands "$(kv "$sum" points_per_s)")"
    put "$sys" "  POST p50 / p99, $conns conn (ms)" "$(kv "$sum" p50_ms) / $(kv "$sum" p99_ms)"
    put "$sys" "  server CPU during ingest, $conns conn (us/point)" "$(kv "$sum" cpu_us_point)"
    put "$sys" "    of which the Vigil node, $conns conn (us/point)" "$(kv "$sum" vigil_us_point)"
    put "$sys" "  server CPU incl. merges after, $conns conn (us/point)" "$(kv "$sum" cpu_settled_us_point)"
    put "$sys" "  disk, $conns conn (bytes/point; embedded: as running, WAL not yet sealed)" "$(calc "sprintf(\"%.1f\", $(kv "$sum" disk_bytes) / $TOTAL_POINTS)")"
}

for sys in embedded clickhouse; do
    SYSTEMS+=("$sys")
    ch_ingest_runs "$sys" 1
    stop_server
    ch_ingest_runs "$sys" 4
    section "$sys: query mix ($ITERATIONS iterations each)"
    qsum=$WORK/ch-query-$sys.txt
    "$LOADGEN" query --system vigil --url "http://127.0.0.1:$PORT" --tenant "$TENANT" "${FLEET[@]}" \
        --iterations "$ITERATIONS" --summary "$qsum" --answers "$WORK/ch-answers-$sys.txt" \
        --first-ms "$(kv "$WORK/ch-run-$sys-4-1.txt" first_ms)" --last-ms "$(kv "$WORK/ch-run-$sys-4-1.txt" last_ms)"
    while IFS='|' read -r key label; do
        put "$sys" "query: $label, p50 / p99 (ms)" "$(kv "$qsum" "${key}_p50_ms") / $(kv "$qsum" "${key}_p99_ms")"
    done <<<"$QUERY_ROWS"
    stop_server
done
if cmp -s "$WORK/ch-answers-embedded.txt" "$WORK/ch-answers-clickhouse.txt"; then
    echo "answers: the same from both stores"
else
    echo "answers: DIFFER between the stores:"
    diff "$WORK/ch-answers-embedded.txt" "$WORK/ch-answers-clickhouse.txt" | head -n 20
fi

section "summary ($TOTAL_POINTS points: $NAMES names x $HOSTS hosts x $POINTS points; $(nproc) cores, loopback; clickhouse = Vigil + ClickHouse $(ch 'SELECT version()') + PostgreSQL, CPU of both processes)"
{
    printf '| | embedded | clickhouse |\n|---|---:|---:|\n'
    for row in "${ROWS[@]}"; do
        printf '| %s | %s | %s |\n' "$row" "${R[embedded|$row]:-}" "${R[clickhouse|$row]:-}"
    done
}
