#!/usr/bin/env bash
# Starts and stops the parts of the cluster test (tests/cluster/run.sh) one by one, so that the
# checks can take an engine or a node away and bring it back exactly as it was started.
#
# Usage: ctl.sh ACTION [ARG]     with CLUSTER_DIR set (run.sh exports it; it holds cluster.env)
#   pg-start                 PostgreSQL on its port, waited for
#   pg-stop [fast|immediate] pg_ctl stop -m (default fast)
#   ch-start                 the two clickhouse-server shards on their ports, waited for (/ping)
#   ch-stop                  SIGKILL to both shards, waited for until they are gone
#   node-start N             `vigil serve` node N (1-based) on its port, waited for (/healthcheck)
#   node-kill N              SIGKILL to node N, reaped
#   stop-all                 every process above, for the exit trap
#
# Every process's pid is in $CLUSTER_DIR/pids/NAME; servers log to $CLUSTER_DIR/*.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${CLUSTER_DIR:?CLUSTER_DIR is not set (run tests/cluster/run.sh)}"
# shellcheck source=/dev/null
source "$CLUSTER_DIR/cluster.env"
die() { echo "cluster ctl: $*" >&2; exit 1; }
# shellcheck source=../throwaway.sh
source "$HERE/../throwaway.sh"
AS=()
if [[ "$(id -u)" == 0 ]]; then AS=(runuser -u postgres --); fi
mkdir -p "$CLUSTER_DIR/pids"

# running PID: the process exists and is not a zombie (an orphan's reaper may be slow).
running() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
alive() { [[ -f "$CLUSTER_DIR/pids/$1" ]] && running "$(cat "$CLUSTER_DIR/pids/$1")"; }

# gone NAME SECONDS: waits until the process of pid file NAME has exited.
gone() {
    local pid
    pid="$(cat "$CLUSTER_DIR/pids/$1")"
    for _ in $(seq $(($2 * 10))); do
        running "$pid" || { rm -f "$CLUSTER_DIR/pids/$1"; return 0; }
        sleep 0.1
    done
    return 1
}

case "${1:-}" in
pg-start)
    "${AS[@]}" "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg" -l "$CLUSTER_DIR/pg/log" -w \
        -o "-p $PG_PORT -k $CLUSTER_DIR/pgsock -c listen_addresses=127.0.0.1 -c fsync=off" \
        start >/dev/null || die "PostgreSQL did not start (see $CLUSTER_DIR/pg/log)"
    ;;
pg-stop)
    "${AS[@]}" "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg" -m "${2:-fast}" -w stop >/dev/null
    ;;
ch-start)
    # Two shards of one replica each, every server knowing the cluster.
    read -ra http <<<"$CH_HTTP"
    read -ra tcp <<<"$CH_TCP"
    remote="<remote_servers><vigil_cluster>"
    for t in "${tcp[@]}"; do
        remote+="<shard><replica><host>127.0.0.1</host><port>$t</port></replica></shard>"
    done
    remote+="</vigil_cluster></remote_servers>"
    for i in "${!http[@]}"; do
        alive "clickhouse$i" && die "clickhouse-server $i is already running"
        clickhouse_start "$CLUSTER_DIR/ch$i" "${http[$i]}" "${tcp[$i]}" "$remote"
        echo "$CLICKHOUSE_PID" >"$CLUSTER_DIR/pids/clickhouse$i"
    done
    ;;
ch-stop)
    # SIGKILL to every shard, as a crash: a graceful stop waits for the nodes' keep-alive
    # connections to close (25 s and more under load).
    read -ra http <<<"$CH_HTTP"
    for i in "${!http[@]}"; do
        alive "clickhouse$i" || die "clickhouse-server $i is not running"
        kill -9 "$(cat "$CLUSTER_DIR/pids/clickhouse$i")"
    done
    for i in "${!http[@]}"; do
        gone "clickhouse$i" 10 || die "clickhouse-server $i survived SIGKILL"
    done
    ;;
node-start)
    n="${2:?node number}"
    alive "node$n" && die "node $n is already running"
    read -ra ports <<<"$NODE_PORTS"
    port="${ports[$((n - 1))]}"
    VIGIL_LOG="${VIGIL_LOG:-info}" "$VIGIL" serve --bind "127.0.0.1:$port" \
        --data-dir "$CLUSTER_DIR/node$n" --config "$CLUSTER_DIR/vigil.toml" --auth identity \
        --config-db "$DB_URL" --metric-store clickhouse --clickhouse-cluster vigil_cluster \
        $(for h in $CH_HTTP; do printf -- '--clickhouse-url http://127.0.0.1:%s ' "$h"; done) \
        </dev/null >>"$CLUSTER_DIR/node$n.log" 2>&1 &
    pid=$!
    echo "$pid" >"$CLUSTER_DIR/pids/node$n"
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthcheck" 2>/dev/null && exit 0
        kill -0 "$pid" 2>/dev/null || die "node $n exited (see $CLUSTER_DIR/node$n.log)"
        sleep 0.1
    done
    die "node $n did not answer /healthcheck"
    ;;
node-kill)
    n="${2:?node number}"
    alive "node$n" || die "node $n is not running"
    kill -9 "$(cat "$CLUSTER_DIR/pids/node$n")"
    gone "node$n" 10 || die "node $n survived SIGKILL"
    ;;
stop-all)
    for f in "$CLUSTER_DIR"/pids/*; do
        [[ -f "$f" ]] || continue
        pid="$(cat "$f")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            running "$pid" || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
    [[ -f "$CLUSTER_DIR/pg/postmaster.pid" ]] &&
        "${AS[@]}" "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg" -m immediate stop >/dev/null 2>&1 || true
    ;;
*)
    die "unknown action '${1:-}' (see the header of $0)"
    ;;
esac
