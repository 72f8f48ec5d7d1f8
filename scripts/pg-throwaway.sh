#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback for the tests (Debian's postgresql-15 package).
#
#   scripts/pg-throwaway.sh start        prints two shell assignments:
#                                          EQUIPMATCH_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#                                          EQUIPMATCH_PG_DIR=/tmp/equipmatch-pg.XXXXXX
#   scripts/pg-throwaway.sh stop DIR     stops the cluster and removes DIR
#
# Trust authentication on 127.0.0.1 only; the data lives in a temporary folder. initdb refuses
# to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# Ports tried, in order, for a free one.
PORT_FIRST=54329
PORT_LAST=54429

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
start)
    if [ ! -x "$PG_BIN/initdb" ]; then
        echo "error: $PG_BIN/initdb missing: apt-get install -y postgresql-15" >&2
        exit 1
    fi
    dir="$(mktemp -d /tmp/equipmatch-pg.XXXXXX)"
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    port=""
    for candidate in $(seq "$PORT_FIRST" "$PORT_LAST"); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            port="$candidate"
            break
        fi
    done
    if [ -z "$port" ]; then
        echo "error: no free port in $PORT_FIRST..$PORT_LAST" >&2
        exit 1
    fi
    as_owner "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    echo "EQUIPMATCH_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "EQUIPMATCH_PG_DIR=$dir"
    ;;
stop)
    dir="${2:?usage: $0 stop DIR}"
    case "$dir" in /tmp/equipmatch-pg.*) ;; *) echo "error: $dir is not a throwaway cluster" >&2; exit 1 ;; esac
    if [ -d "$dir/data" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
