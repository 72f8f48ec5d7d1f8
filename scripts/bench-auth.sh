#!/usr/bin/env bash
# What TLS and bearer-token verification cost (BENCHMARKS.md): two servers on the same data
# from the same release binary — one plaintext without auth, one TLS + JWT — each pinned to
# core 0 with one worker thread, and `equipmatch bench auth` pinned to core 1, which calls
# GetSupplier on them in alternating rounds (plain, secure, plain, secure…) and prints the
# ratio of the medians. Needs openssl (a throwaway CA and server certificate) and taskset.
#
#   scripts/bench-auth.sh [bench auth options, e.g. --connections 2 --in-flight 32 --seconds 5 --rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/equipmatch"
dir="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=bench CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
"$bin" token keygen --out "$dir/keys" >/dev/null
"$bin" token issue --key "$dir/keys/signing-key.pem" --sub bench --scope equipmatch.read \
    --ttl 1h --issuer https://bench.example --audience equipmatch > "$dir/token"

plain_port=50061
secure_port=50062
RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c 0 "$bin" serve --listen "127.0.0.1:$plain_port" \
    --store "sqlite:$dir/plain.sqlite" &
pids+=($!)
RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c 0 "$bin" serve --listen "127.0.0.1:$secure_port" \
    --store "sqlite:$dir/secure.sqlite" --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
    --jwks "$dir/keys/jwks.json" --issuer https://bench.example --audience equipmatch &
pids+=($!)
for port in $plain_port $secure_port; do
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.2
    done
done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c 1 "$bin" bench auth --plain "http://127.0.0.1:$plain_port" \
    --secure "https://127.0.0.1:$secure_port" --ca "$dir/ca.pem" --token "$dir/token" "$@"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
