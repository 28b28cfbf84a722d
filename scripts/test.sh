#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/prepare.sh: Debian packages, the
# pinned clients, the protocol vectors), checks the trimmed models are what the script makes,
# then runs every Rust test of the workspace (unit, integration with the real aws CLI, an old
# awscli and boto3 and a Docker Engine, the console in headless Chromium, vectors, SigV4 suite,
# and tests/sdk-rust with the AWS SDK for Rust), and beside them a fuzz smoke: every fuzz
# target for UPDRAFT_FUZZ_SECONDS seconds (default 30; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prepare.sh
python3 protocol/trim_models.py --check
tests=(cargo test --locked --workspace --exclude updraft-fuzz --lib --bins --tests)
"${tests[@]}" --no-run

# The fuzz binary reuses every dependency the tests just built (see scripts/fuzz.sh
# --smoke). Its runs go beside the tests, at the lowest priority: the tests mostly wait on
# clients and servers, and a niced fuzzer takes only what they leave, so the smoke costs
# little wall time and cannot slow a timing-sensitive test.
fuzz_seconds=${UPDRAFT_FUZZ_SECONDS:-30}
fuzz=
if [ "$fuzz_seconds" != 0 ]; then
    scripts/fuzz.sh --smoke --build-only
    nice -n 19 scripts/fuzz.sh --smoke --no-build "$fuzz_seconds" > target/fuzz-smoke.log 2>&1 &
    fuzz=$!
fi
"${tests[@]}"
if [ -n "$fuzz" ]; then
    status=0
    wait "$fuzz" || status=$?
    cat target/fuzz-smoke.log
    [ "$status" = 0 ] || { echo "fuzz smoke failed" >&2; exit 1; }
fi
