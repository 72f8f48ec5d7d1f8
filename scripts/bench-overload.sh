#!/usr/bin/env bash
# The Overload rows of BENCHMARKS.md: SERVER_BINARY serving REGISTRY pinned to core 0 (one core
# for everything: runtime and engine), this checkout's `equipmatch bench overload` pinned to
# core 1, given the server's pid so it reports resident memory. SERVER_BINARY may be another
# build (main's, for a before/after in one session) as long as it speaks the same contract.
# Usage: scripts/bench-overload.sh SERVER_BINARY REGISTRY_DIR [bench overload flags…]
# Extra server flags: SERVE_ARGS="--engine-nice 0" scripts/bench-overload.sh … (a build with
# the console listens on 127.0.0.1:8080 too: SERVE_ARGS="--console off" if that port is taken).
# The server's log (RUST_LOG=warn: h2's GOAWAY warnings show there) goes to $LOG (a temp file
# unless set) and its GOAWAY lines are counted at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server_binary=$1
registry=$2
shift 2
(cd "$root" && cargo build --release -q)
equipmatch="$root/target/release/equipmatch"
work=$(mktemp -d)
log=${LOG:-$work/server.log}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pin=() client_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_pin=(taskset -c 0) client_pin=(taskset -c 1)
fi
# shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
RUST_LOG=warn "${server_pin[@]}" "$server_binary" serve --listen "127.0.0.1:$port" \
  --registry "$registry" --store "sqlite:$work/holds.sqlite" ${SERVE_ARGS:-} 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; [ -z "${LOG:-}" ] && rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"${client_pin[@]}" "$equipmatch" bench overload --server "http://127.0.0.1:$port" --server-pid "$server" "$@"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); server log lines naming a reset limit or GOAWAY: $(grep -ciE 'too_many_resets|goaway|streams reached limit' "$log" || true)" >&2
