#!/usr/bin/env bash
# Build the coverage-guided fuzz targets in fuzz/ on the stable toolchain and run each one.
#
#   scripts/fuzz.sh [SECONDS|-runs=N] [TARGET...]     (default: 30 seconds, every target)
#
# Stable rustc has no `-Zsanitizer`, but SanitizerCoverage is an LLVM pass it can run:
# `-Cpasses=sancov-module` plus the llvm-args below give libFuzzer the same 8-bit counters,
# PC table and comparison hooks that cargo-fuzz asks for on nightly. `--target` keeps those
# flags off build scripts and proc macros (they would not link against libFuzzer).
# Fails on any crash, timeout, leak or out-of-memory; reproducers land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

budget=${1:-30}
[ $# -gt 0 ] && shift
case $budget in
    -runs=*) limit=("$budget") ;;
    *[!0-9]* | '') echo "usage: $0 [SECONDS|-runs=N] [TARGET...]" >&2; exit 2 ;;
    *) limit=("-max_total_time=$budget") ;;
esac
all=(request sigv4 gzip decode_query decode_json decode_cbor encode h1_response)
targets=("${@:-${all[@]}}")

triple=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/../target/fuzz}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
# (debug assertions and overflow checks come from fuzz/Cargo.toml's release profile.)
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
cargo build --locked --release --target "$triple" "${bins[@]}"

mkdir -p artifacts
for t in "${targets[@]}"; do
    # A scratch copy: new inputs the run finds stay out of the committed seeds.
    work=$(mktemp -d)
    cp corpus/"$t"/* "$work"/
    echo "== $t"
    # -timeout: one input over 10 s is a hang; -rss_limit_mb: a leak or unbounded allocation.
    log=$(mktemp)
    status=0
    "$CARGO_TARGET_DIR/$triple/release/$t" "$work" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
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
