# shellcheck shell=bash
# Throwaway database servers for the test and benchmark scripts, on loopback ports, from a
# directory of the caller's, killed by the caller: Debian's clickhouse-server and PostgreSQL.
# Sourced; the caller defines `die MESSAGE`.

# clickhouse_start DIR HTTP_PORT TCP_PORT [EXTRA_XML]: a clickhouse-server ($CLICKHOUSE_SERVER,
# else the one on PATH or in /usr/sbin) with its config, data and logs in DIR; waits for /ping.
# Sets CLICKHOUSE_PID.
clickhouse_start() {
    local d="$1" http=$2 tcp=$3 extra=${4:-} bin
    bin="${CLICKHOUSE_SERVER:-$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)}"
    [[ -x "$bin" ]] || die "no clickhouse-server binary ($bin)"
    mkdir -p "$d/log"
    cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  $extra
</yandex>
XML
    (cd "$d" && exec "$bin" --config-file="$d/config.xml" >/dev/null 2>&1) &
    CLICKHOUSE_PID=$!
    for _ in $(seq 600); do
        curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1 && return 0
        kill -0 "$CLICKHOUSE_PID" 2>/dev/null || { cat "$d/log/error.log" >&2 || true; die "clickhouse-server in $d exited"; }
        sleep 0.1
    done
    die "clickhouse-server in $d did not answer /ping"
}

# postgres_start DIR PORT: `initdb` into DIR/data (user vigil, trust auth on loopback, no
# fsync) and a server on PORT, waited for. As root it runs as the `postgres` user (Debian's
# package creates it), which must own DIR. Prints nothing; the URL of database NAME is
# postgres://vigil@127.0.0.1:PORT/NAME. Stop it with postgres_stop DIR.
postgres_start() {
    local d="$1" port=$2 bin run=()
    bin="${VIGIL_PG_BIN:-$(find /usr/lib/postgresql -maxdepth 3 -name initdb -path '*/bin/*' 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname)}"
    [[ -x "$bin/initdb" ]] || die "no PostgreSQL binaries (install Debian's postgresql or set VIGIL_PG_BIN)"
    mkdir -p "$d"
    if ((EUID == 0)); then
        chown postgres "$d"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$bin/initdb" -D "$d/data" -U vigil --auth=trust -E UTF8 --locale=C --no-sync >"$d/initdb.log" 2>&1 ||
        { cat "$d/initdb.log" >&2; die "initdb failed"; }
    "${run[@]}" "$bin/pg_ctl" -D "$d/data" -l "$d/log" -w \
        -o "-p $port -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
        { cat "$d/log" >&2; die "PostgreSQL did not start"; }
    POSTGRES_BIN=$bin
}

# postgres_stop DIR: stops the server started by postgres_start over DIR (fast shutdown).
postgres_stop() {
    local d="$1" run=()
    [[ -d "$d/data" ]] || return 0
    ((EUID == 0)) && run=(runuser -u postgres --)
    "${run[@]}" "$POSTGRES_BIN/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null 2>&1 || true
}

# postgres_createdb PORT NAME: a new, empty database NAME.
postgres_createdb() {
    "$POSTGRES_BIN/createdb" -h 127.0.0.1 -p "$1" -U vigil "$2" || die "createdb $2 failed"
}
