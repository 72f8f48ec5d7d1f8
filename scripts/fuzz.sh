#!/usr/bin/env bash
# Fuzzes equipmatch's hostile-input surfaces with cargo-fuzz (libFuzzer), each target for a
# bounded number of executions and time. Not part of CI: it needs cargo-fuzz
# (`cargo install cargo-fuzz`) and nightly compiler flags, which this stable toolchain allows
# with RUSTC_BOOTSTRAP=1. What it finds goes to fuzz/regressions/<target>/, which `cargo test`
# replays (tests/it/fuzz.rs) once the bug is fixed.
#
#   scripts/fuzz.sh seed                       # (re)write the committed seed corpus, fuzz/seeds/
#   scripts/fuzz.sh run [RUNS] [SECONDS] [TARGET…]
#                                              # each target until RUNS executions (default 1e6)
#                                              # or SECONDS (default 3600), whichever comes first
#   scripts/fuzz.sh merge TARGET               # add the working corpus's new-coverage inputs
#                                              # to the committed seeds
#
# The working corpus (fuzz/corpus/, git-ignored) grows across runs; the sanitizer is off
# (`--sanitizer none`): the crate forbids unsafe code, and without ASan's 2–3× slowdown the
# 1e6 executions per target fit in the time the shared machine has.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
targets_all=(scenario_toml registry_csv drill_file request jwt jwks cap_reader)

command="${1:-run}"
shift || true
case "$command" in
seed)
    cargo run --quiet --example fuzz_seeds
    find fuzz/seeds -type f | awk -F/ '{print $3}' | sort | uniq -c
    ;;
run)
    runs="${1:-1000000}"
    seconds="${2:-3600}"
    shift 2 || shift $# || true
    targets=("$@")
    [ ${#targets[@]} -eq 0 ] && targets=("${targets_all[@]}")
    cargo fuzz build --sanitizer none -O
    mkdir -p target/fuzz-logs
    printf '%-15s %12s %9s %10s  %s\n' target executions seconds exec/s findings
    for target in "${targets[@]}"; do
        mkdir -p "fuzz/corpus/$target" "fuzz/regressions/$target" "fuzz/artifacts/$target"
        log="target/fuzz-logs/$target.log"
        started=$(date +%s)
        status=0
        cargo fuzz run --sanitizer none -O "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
            -runs="$runs" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
            -max_len=65536 -print_final_stats=1 \
            >"$log" 2>&1 || status=$?
        elapsed=$(( $(date +%s) - started ))
        executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
        findings=0
        for artifact in fuzz/artifacts/"$target"/*; do
            [ -f "$artifact" ] || continue
            findings=$((findings + 1))
            cp "$artifact" "fuzz/regressions/$target/"
        done
        rate=$(( executed / (elapsed > 0 ? elapsed : 1) ))
        printf '%-15s %12s %9s %10s  %s\n' "$target" "$executed" "$elapsed" "$rate" \
            "$findings$([ "$status" -ne 0 ] && echo " (exit $status, see $log)")"
    done
    ;;
merge)
    target="$1"
    cargo fuzz run --sanitizer none -O "$target" -- -merge=1 "fuzz/seeds/$target" "fuzz/corpus/$target"
    echo "fuzz/seeds/$target: $(find "fuzz/seeds/$target" -type f | wc -l) files"
    ;;
*)
    echo "usage: scripts/fuzz.sh seed | run [RUNS] [SECONDS] [TARGET…] | merge TARGET" >&2
    exit 2
    ;;
esac
