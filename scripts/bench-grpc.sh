#!/usr/bin/env bash
# The gRPC rows of BENCHMARKS.md: a release server on the given registry pinned to core 0, the
# project's load generator pinned to core 1 (where taskset and two cores exist), measuring the
# empty call (health check), Shortlist and Match against the same server in one run.
# Usage: scripts/bench-grpc.sh [REGISTRY_DIR|-] [extra `equipmatch bench grpc` flags…]
# ("-" or nothing = the embedded sample registry). Prints the generator's JSON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
registry=${1:--}
shift || true
(cd "$root" && cargo build --release -q)
equipmatch="$root/target/release/equipmatch"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pin=() client_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_pin=(taskset -c 0) client_pin=(taskset -c 1)
fi
registry_args=()
[ "$registry" != "-" ] && registry_args=(--registry "$registry")
# One worker thread on the pinned core: a second thread there would only contend.
TOKIO_WORKER_THREADS=1 RUST_LOG=warn "${server_pin[@]}" "$equipmatch" serve --listen "127.0.0.1:$port" --console off "${registry_args[@]}" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
TOKIO_WORKER_THREADS=1 "${client_pin[@]}" "$equipmatch" bench grpc --server "http://127.0.0.1:$port" --json "$@"
