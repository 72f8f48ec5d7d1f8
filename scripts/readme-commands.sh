#!/usr/bin/env bash
# Runs every command of README.md's ```sh blocks, in order, and fails on the first that fails:
# README's promise is that every command it shows runs as shown on the embedded data.
#
# Conventions (README.md repeats them in an HTML comment before its first ```sh block):
#   - Every line of a ```sh block is a command (a line ending in `\` continues it); blank
#     lines and lines starting with `#` are not. Nothing is skipped: a command either runs as
#     written or runs substituted, and the script prints each substitution.
#   - Commands run one after another in ONE bash shell (so `eval`, `export` and variables carry
#     over), in a fresh temporary folder holding symlinks to the repository's `scenarios/`,
#     `registry/`, `scripts/` and `tests/`: what a command writes (./equipmatch-holds.sqlite,
#     shortlist.csv, tangshan.html) lands there, never in the repository.
#   - `equipmatch` is the repository's binary (on PATH); `cargo run [--release] -- ARGS` runs
#     the same binary with ARGS and any other `cargo …` runs against the repository's
#     Cargo.toml. README_COMMANDS_PROFILE=debug uses the debug build for both (CI does: the
#     test run has built it already) — printed as a substitution.
#   - A command whose subcommand is `serve` starts a server in the background; the script waits
#     until it listens on 127.0.0.1:50051 (the default every client command uses) and stops it
#     when the next `serve` starts or at the end. Ports 50051 and 8080 (the console) must be
#     free.
#   - Substitutions: README lines of the form `FROM => TO ; why` inside an HTML comment that
#     opens with `<!-- readme-commands` replace the text FROM by TO in every command
#     (for a system path, or a database URL). TO may use $EQUIPMATCH_TEST_PG_URL: when it is
#     not set, the script starts a throwaway PostgreSQL cluster (scripts/pg-throwaway.sh) and
#     stops it at the end.
#
# Usage: scripts/readme-commands.sh            (from anywhere; .ci/run runs it)
#        README_COMMANDS_LIST=1 scripts/readme-commands.sh   only lists the commands
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
readme="$repo/README.md"
profile="${README_COMMANDS_PROFILE:-}"
# How long a started server may take to listen (seconds).
SERVE_WAIT_SECONDS=60
SERVE_ADDR=127.0.0.1
SERVE_PORT=50051

# --- extract: one command per array element, continuation lines joined ---------------------
commands=()
in_block=0
pending=""
while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    if [ "$in_block" = 0 ]; then
        [[ "$line" =~ ^\`\`\`sh[[:space:]]*$ ]] && in_block=1
        continue
    fi
    if [[ "$line" =~ ^\`\`\` ]]; then
        in_block=0
        continue
    fi
    if [ -n "$pending" ]; then
        line="$pending ${line#"${line%%[![:space:]]*}"}"
        pending=""
    fi
    if [[ "$line" =~ \\$ ]]; then
        pending="${line%\\}"
        continue
    fi
    trimmed="${line#"${line%%[![:space:]]*}"}"
    [ -z "$trimmed" ] && continue
    [[ "$trimmed" == \#* ]] && continue
    commands+=("$trimmed")
done <"$readme"

# --- substitutions: `FROM => TO ; why` lines inside <!-- readme-commands … --> comments ------
subst_from=()
subst_to=()
subst_why=()
in_comment=0
while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    if [ "$in_comment" = 0 ]; then
        [[ "$line" == "<!-- readme-commands"* ]] && in_comment=1
        continue
    fi
    [[ "$line" == *"-->"* ]] && { in_comment=0; continue; }
    [[ "$line" == *" => "* ]] || continue
    from="${line%% => *}"
    rest="${line#* => }"
    subst_from+=("$from")
    subst_to+=("${rest%% ; *}")
    subst_why+=("${rest#* ; }")
done <"$readme"

if [ "${README_COMMANDS_LIST:-}" = 1 ]; then
    printf '%s\n' "${commands[@]}"
    exit 0
fi
[ "${#commands[@]}" -gt 0 ] || { echo "error: no \`\`\`sh commands found in $readme" >&2; exit 1; }

# --- the place the commands run in --------------------------------------------------------
work="$(mktemp -d /tmp/equipmatch-readme.XXXXXX)"
chmod 755 "$work" # the throwaway cluster runs as `postgres` and starts in this folder
own_pg_dir=""
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() {
    stop_server
    if [ -n "$own_pg_dir" ]; then "$repo/scripts/pg-throwaway.sh" stop "$own_pg_dir" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if (exec 3<>"/dev/tcp/$SERVE_ADDR/$SERVE_PORT") 2>/dev/null; then
    echo "error: $SERVE_ADDR:$SERVE_PORT is in use; README's commands need it free" >&2
    exit 1
fi

build_flag="--release"
bin="$repo/target/release/equipmatch"
if [ "$profile" = debug ]; then
    build_flag=""
    bin="$repo/target/debug/equipmatch"
fi
echo "== building the binary (cargo build $build_flag)"
(cd "$repo" && cargo build $build_flag --bin equipmatch --quiet)
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/equipmatch"
for entry in scenarios registry scripts tests; do ln -s "$repo/$entry" "$work/$entry"; done

if [ -z "${EQUIPMATCH_TEST_PG_URL:-}" ] &&
    printf '%s\n' "${subst_to[@]}" | grep -q 'EQUIPMATCH_TEST_PG_URL'; then
    echo "== a throwaway PostgreSQL cluster for the README's PostgreSQL commands"
    cluster="$("$repo/scripts/pg-throwaway.sh" start)"
    own_pg_dir="$(printf '%s\n' "$cluster" | sed -n 's/^EQUIPMATCH_PG_DIR=//p')"
    EQUIPMATCH_TEST_PG_URL="$(printf '%s\n' "$cluster" | sed -n 's/^EQUIPMATCH_TEST_PG_URL=//p')"
fi
export EQUIPMATCH_TEST_PG_URL="${EQUIPMATCH_TEST_PG_URL:-}"

# `cargo run [--release] -- ARGS` runs the chosen binary; other cargo commands run on the repo.
cargo() {
    if [ "${1:-}" = run ]; then
        shift
        while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
        [ $# -gt 0 ] && shift
        "$bin" "$@"
    else
        local subcommand="$1"
        shift
        command cargo "$subcommand" --manifest-path "$repo/Cargo.toml" "$@"
    fi
}

is_serve() {
    # The subcommand is `serve`: `equipmatch serve …` or `cargo run … -- serve …`.
    [[ " $1 " =~ (^|[[:space:]])(equipmatch|--)[[:space:]]+serve([[:space:]]|$) ]]
}

start_server() {
    stop_server
    # The server replaces the subshell (exec), so its pid is the one to stop.
    (
        eval "set -- $1"
        if [ "$1" = cargo ]; then
            while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
            shift
        else
            shift # equipmatch
        fi
        exec "$bin" "$@"
    ) >"$work/server.log" 2>&1 &
    server_pid=$!
    local waited=0
    until (exec 3<>"/dev/tcp/$SERVE_ADDR/$SERVE_PORT") 2>/dev/null; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" || true
            server_pid=""
            cat "$work/server.log" >&2
            return 1
        fi
        waited=$((waited + 1))
        if [ "$waited" -gt $((SERVE_WAIT_SECONDS * 10)) ]; then
            cat "$work/server.log" >&2
            return 1
        fi
        sleep 0.1
    done
}

cd "$work"
export PATH="$work/bin:$PATH"
passed=0
substituted=0
for command in "${commands[@]}"; do
    run="$command"
    for i in "${!subst_from[@]}"; do
        if [[ "$run" == *"${subst_from[$i]}"* ]]; then
            run="${run//"${subst_from[$i]}"/"${subst_to[$i]}"}"
            echo "-- substituted: ${subst_from[$i]} => ${subst_to[$i]} (${subst_why[$i]})"
            substituted=$((substituted + 1))
        fi
    done
    if [ "$profile" = debug ] && [[ "$run" == *"cargo run --release"* ]]; then
        echo "-- substituted: cargo run --release => the debug build (README_COMMANDS_PROFILE=debug)"
        substituted=$((substituted + 1))
    fi
    echo "\$ $run"
    status=0
    if is_serve "$run"; then
        start_server "$run" || status=$?
        [ "$status" = 0 ] && echo "   (serving in the background, pid $server_pid)"
    else
        # In this shell, not a subshell: `eval`, `export` and variables carry over.
        eval "$run" || status=$?
    fi
    if [ "$status" != 0 ]; then
        echo "FAILED (exit $status): $command" >&2
        echo "readme-commands: $passed passed, 1 failed"
        exit 1
    fi
    passed=$((passed + 1))
done
stop_server
echo "readme-commands: $substituted substitution(s) printed above"
echo "readme-commands: $passed passed, 0 failed"
