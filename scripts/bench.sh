#!/usr/bin/env bash
# Build the release binary, then run the codec benchmarks and the load generator.
#
#   scripts/bench.sh                 # everything (about 1.5 min after the build)
#   LOADGEN_CONNECTIONS=8 LOADGEN_REQUESTS=50000 scripts/bench.sh
#
# The codec bench prints criterion's time and throughput (elements/s and bytes/s) per
# protocol; loadgen prints requests/s, latency percentiles, start-up time and idle RSS of
# target/release/updraft (which is why the release build comes first).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo build --release"
cargo build --release

echo
echo "==> cargo bench --bench codecs"
cargo bench --bench codecs

echo
echo "==> cargo bench --bench loadgen"
cargo bench --bench loadgen
