#!/usr/bin/env bash
# Build the coverage-guided fuzz binary (fuzz/: one binary for every target of
# src/fuzzing.rs, chosen with FUZZ_TARGET) on the stable toolchain, and run targets.
#
#   scripts/fuzz.sh [--smoke] [--build-only|--no-build] [SECONDS|-runs=N] [TARGET...]
#   (default: 30 seconds, every target)
#
# Stable rustc has no `-Zsanitizer`, but SanitizerCoverage is an LLVM pass it can run:
# `-Cpasses=sancov-module` plus the llvm-args below give libFuzzer the same 8-bit counters,
# PC table and comparison hooks that cargo-fuzz asks for on nightly. Two builds:
#
# - default, for long runs: every crate instrumented (RUSTFLAGS), profile `fuzz` (optimised,
#   with debug assertions and overflow checks); `--target` keeps the flags off build scripts
#   and proc macros (they would not link against libFuzzer). Cold: a build of its own.
# - `--smoke`, for CI: only this workspace's crates (updraft and the fuzz binary) are
#   instrumented, through RUSTC_WORKSPACE_WRAPPER (this script), in the dev profile, so every
#   dependency is the one `cargo test` has already built in target/debug; what is compiled is
#   updraft (at opt-level 1) and libFuzzer. Coverage guides through our code (and the generic
#   dependency code it instantiates), not inside the dependencies.
#
# Fails on any crash, timeout, leak or out-of-memory; reproducers land in fuzz/artifacts/.
set -euo pipefail

sancov=(-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing)

# Called by cargo as the workspace's rustc wrapper (`--smoke`): `$1` is rustc. Only real
# compilations get the flags, not cargo's queries (`-vV`, `--crate-name ___ --print ...`).
if [ -n "${UPDRAFT_FUZZ_WRAPPER:-}" ]; then
    case " $* " in
        # cargo's queries, and build scripts (they run on the host, without libFuzzer).
        *" --crate-name ___ "* | *" --crate-name build_script_"*) exec "$@" ;;
        *" --crate-name "*) exec "$@" "${sancov[@]}" ;;
        *) exec "$@" ;;
    esac
fi

cd "$(dirname "$0")/.."
root=$PWD

smoke=0 build=1 run=1
while [ $# -gt 0 ]; do
    case $1 in
        --smoke) smoke=1 ;;
        --build-only) run=0 ;;
        --no-build) build=0 ;;
        *) break ;;
    esac
    shift
done
budget=${1:-30}
[ $# -gt 0 ] && shift
case $budget in
    -runs=*) limit=("$budget") ;;
    *[!0-9]* | '') echo "usage: $0 [--smoke] [--build-only|--no-build] [SECONDS|-runs=N] [TARGET...]" >&2; exit 2 ;;
    *) limit=("-max_total_time=$budget") ;;
esac
all=(request sigv4 gzip decode_query decode_json decode_cbor encode h1_response)
targets=("${@:-${all[@]}}")

target_dir=${CARGO_TARGET_DIR:-$root/target}
if [ "$smoke" = 1 ]; then
    bin=$target_dir/debug/updraft-fuzz
    build_cmd() {
        UPDRAFT_FUZZ_WRAPPER=1 RUSTC_WORKSPACE_WRAPPER="$root/scripts/fuzz.sh" \
            cargo build --locked -p updraft-fuzz \
            --config 'profile.dev.package.updraft.opt-level=1' \
            --config 'profile.dev.package.updraft.debug="line-tables-only"' \
            --config 'profile.dev.package.updraft-fuzz.debug="line-tables-only"'
    }
else
    triple=$(rustc -vV | sed -n 's/^host: //p')
    bin=$target_dir/$triple/fuzz/updraft-fuzz
    build_cmd() {
        RUSTFLAGS="${sancov[*]}" cargo build --locked -p updraft-fuzz --profile fuzz --target "$triple"
    }
fi
if [ "$build" = 1 ]; then build_cmd; fi
[ "$run" = 1 ] || exit 0

cd fuzz
mkdir -p artifacts
for t in "${targets[@]}"; do
    # A scratch copy: new inputs the run finds stay out of the committed seeds.
    work=$(mktemp -d)
    cp corpus/"$t"/* "$work"/
    echo "== $t"
    # -timeout: one input over 10 s is a hang; -rss_limit_mb: a leak or unbounded allocation.
    log=$(mktemp)
    status=0
    FUZZ_TARGET=$t "$bin" "$work" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="artifacts/$t-" >"$log" 2>&1 || status=$?
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" || true
    if [ "$status" -ne 0 ]; then tail -n 40 "$log" >&2; fi
    rm -f "$log"
    rm -rf "$work"
    if [ "$status" -ne 0 ]; then
        echo "fuzz target $t failed (exit $status); see fuzz/artifacts/" >&2
        exit 1
    fi
done
