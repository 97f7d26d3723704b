#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the demo, the tests and the benchmarks. Source this file, then:
#   pa_pg_start DIR [PORT]   initdb (if needed) + start; exports PA_PGHOST, PA_PGPORT, PGHOST, PGPORT, PGUSER
#   pa_pg_stop DIR [MODE]    stop (fast by default; "immediate" for crash tests)
#   pa_pg_restart DIR        start again after a stop
#   pa_psql ARGS...          psql against it as the superuser, ON_ERROR_STOP
# As root, the server runs as the `postgres` OS user (runuser), which Debian's package creates.
# The cluster listens only on a Unix socket inside DIR and on 127.0.0.1 (TCP, for TLS tests later).

PA_PG_BIN=${PA_PG_BIN:-/usr/lib/postgresql/15/bin}

pa__as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pa_pg_start() {
    local dir=$1 port=${2:-${PA_PGPORT:-55432}}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        # postgres must be able to reach DIR: make every parent traversable
        local p=$dir
        while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pa__as_pg "$PA_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 100
log_min_messages = warning
log_statement = none
CONF
    fi
    pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { tail -20 "$dir/server.log" >&2; return 1; }
    export PA_PGDIR=$dir PA_PGHOST=$dir PA_PGPORT=$port PGHOST=$dir PGPORT=$port PGUSER=postgres
}

pa_pg_stop() {
    local dir=${1:-$PA_PGDIR} mode=${2:-fast}
    [ -f "$dir/data/postmaster.pid" ] || return 0
    pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || true
}

pa_pg_restart() {
    local dir=${1:-$PA_PGDIR}
    pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

pa_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$PA_PGHOST" -p "$PA_PGPORT" -U postgres "$@"
}
