#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for billbridge's tests and benchmarks: its own data
# folder under a temporary directory, listening on 127.0.0.1 only (and a Unix socket in
# that directory), password authentication over TCP, stopped and deleted at the end.
#
#   cluster.sh run -- COMMAND...        start, run COMMAND with BILLBRIDGE_TEST_POSTGRES_URL
#                                       set, then stop and delete, even when COMMAND fails
#   cluster.sh start [--owner-pid PID]  start and print `url=…` and `dir=…`; with an owner,
#                                       the cluster stops by itself once that process exits
#   cluster.sh stop DIR                 stop the cluster started in DIR and delete DIR
#
# initdb refuses to run as root, so as root the server runs as the `postgres` user. When
# the binaries are missing they are installed from Debian's packages (postgresql-15).
# The cluster trades durability for speed (fsync off): it holds test data only.
set -euo pipefail

PG_BIN="${BILLBRIDGE_PG_BIN:-/usr/lib/postgresql/15/bin}"
DATABASE=billbridge
ROLE=billbridge

log() { echo "cluster.sh: $*" >&2; }

ensure_binaries() {
    if [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/postgres" ]]; then
        return
    fi
    if [[ "$(id -u)" != 0 ]]; then
        log "PostgreSQL 15 is not installed in $PG_BIN and only root can install it (apt-get install postgresql-15)"
        exit 1
    fi
    log "installing postgresql-15 from Debian's packages"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >&2
}

# Runs a PostgreSQL program as the user that owns the cluster.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_cluster() {
    local dir="$1"
    if [[ -d "$dir/data" ]]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    # Only ever a folder this script made: refuse anything else.
    if [[ "$dir" == "${TMPDIR:-/tmp}"/billbridge-pg.* && -f "$dir/.billbridge-cluster" ]]; then
        rm -rf -- "$dir"
    fi
}

start_cluster() {
    ensure_binaries
    local dir password port attempt
    dir="$(mktemp -d "${TMPDIR:-/tmp}/billbridge-pg.XXXXXX")"
    touch "$dir/.billbridge-cluster"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$dir"
    fi
    password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    # The superuser signs in over the Unix socket only (trust, the socket is private to
    # the folder); the test role signs in over TCP with its password.
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        stop_cluster "$dir"
        exit 1
    }
    for attempt in 1 2 3; do
        port="$(free_port)"
        if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
                -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                -c max_connections=300 -c shared_buffers=64MB" >/dev/null 2>&1; then
            break
        fi
        if [[ "$attempt" == 3 ]]; then
            cat "$dir/server.log" >&2 || true
            stop_cluster "$dir"
            exit 1
        fi
    done
    as_owner "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE $ROLE LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE $DATABASE OWNER $ROLE" >/dev/null
    echo "postgres://$ROLE:$password@127.0.0.1:$port/$DATABASE" >"$dir/url"
    echo "$dir"
}

# Stops the cluster in DIR once process OWNER has exited, from a detached process that
# holds none of the caller's output streams.
watch_owner() {
    local dir="$1" owner="$2"
    setsid bash -c '
        while kill -0 "$1" 2>/dev/null && [[ -d "$2" ]]; do sleep 0.5; done
        exec "$0" stop "$2"
    ' "$(realpath "$0")" "$owner" "$dir" </dev/null >/dev/null 2>&1 &
}

command="${1:-}"
shift || true
case "$command" in
    start)
        owner=""
        if [[ "${1:-}" == --owner-pid ]]; then
            owner="${2:?--owner-pid needs a process id}"
        fi
        dir="$(start_cluster)"
        if [[ -n "$owner" ]]; then
            watch_owner "$dir" "$owner"
        fi
        echo "url=$(cat "$dir/url")"
        echo "dir=$dir"
        ;;
    stop)
        stop_cluster "${1:?stop needs the folder of the cluster}"
        ;;
    run)
        [[ "${1:-}" == -- ]] && shift
        [[ $# -gt 0 ]] || { log "run needs a command: cluster.sh run -- COMMAND..."; exit 2; }
        dir="$(start_cluster)"
        trap 'stop_cluster "$dir"' EXIT INT TERM
        BILLBRIDGE_TEST_POSTGRES_URL="$(cat "$dir/url")"
        export BILLBRIDGE_TEST_POSTGRES_URL
        log "PostgreSQL running in $dir"
        "$@"
        ;;
    *)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
