#!/usr/bin/env bash
# Hold visibility across two PostgreSQL replicas (BENCHMARKS.md): a throwaway PostgreSQL
# cluster, two `serve` processes on it (A on 127.0.0.1:50061, B on :50062), then
# `equipmatch bench visibility` (PlaceHold on A, read B until it shows), then everything stops.
#
#   scripts/bench-visibility.sh REGISTRY|- [bench visibility flags…]
#
# REGISTRY is a registry folder, `-` the embedded sample. EQUIPMATCH_SERVER_BIN picks the
# servers' binary (default target/release/equipmatch: build it first), so an older build can
# be measured by the same client (EQUIPMATCH_CLIENT_BIN, default the same release build).
# SQLITE=1 runs one server on an SQLite file on tmpfs instead (A = B): what PlaceHold costs
# when a commit republishes the snapshot, with --prefill-lines.
set -euo pipefail
cd "$(dirname "$0")/.."
registry="${1:?usage: scripts/bench-visibility.sh REGISTRY|- [bench visibility flags…]}"
shift
server_bin="${EQUIPMATCH_SERVER_BIN:-target/release/equipmatch}"
client_bin="${EQUIPMATCH_CLIENT_BIN:-target/release/equipmatch}"
# How long a replica may take to load its registry and listen (seconds).
LISTEN_WAIT_SECONDS=180
registry_args=()
[ "$registry" != - ] && registry_args=(--registry "$registry")

pids=()
pg_dir=""
work="$(mktemp -d /tmp/equipmatch-visibility.XXXXXX)"
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "$pg_dir" ]; then scripts/pg-throwaway.sh stop "$pg_dir" || true; fi
    rm -rf "$work" /dev/shm/equipmatch-visibility-$$.sqlite*
}
trap cleanup EXIT

wait_listening() {
    local port="$1" waited=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        waited=$((waited + 1))
        if [ "$waited" -gt $((LISTEN_WAIT_SECONDS * 10)) ]; then
            echo "error: nothing listens on $port; logs in $work" >&2
            cat "$work"/*.log >&2
            exit 1
        fi
        sleep 0.1
    done
}

if [ "${SQLITE:-}" = 1 ]; then
    store="sqlite:/dev/shm/equipmatch-visibility-$$.sqlite"
    RUST_LOG=warn "$server_bin" serve --listen 127.0.0.1:50061 --console off --store "$store" \
        "${registry_args[@]}" >"$work/a.log" 2>&1 &
    pids+=($!)
    wait_listening 50061
    b=http://127.0.0.1:50061
else
    cluster="$(scripts/pg-throwaway.sh start)"
    pg_dir="$(printf '%s\n' "$cluster" | sed -n 's/^EQUIPMATCH_PG_DIR=//p')"
    url="$(printf '%s\n' "$cluster" | sed -n 's/^EQUIPMATCH_TEST_PG_URL=//p')"
    # A starts (and migrates) first, B after it listens.
    RUST_LOG=warn "$server_bin" serve --listen 127.0.0.1:50061 --console off --store "$url" \
        "${registry_args[@]}" >"$work/a.log" 2>&1 &
    pids+=($!)
    wait_listening 50061
    RUST_LOG=warn "$server_bin" serve --listen 127.0.0.1:50062 --console off --store "$url" \
        "${registry_args[@]}" >"$work/b.log" 2>&1 &
    pids+=($!)
    wait_listening 50062
    b=http://127.0.0.1:50062
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$client_bin" bench visibility --a http://127.0.0.1:50061 --b "$b" "$@"
