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
# Build every test binary first, then run them directly (not through `cargo test`): cargo
# would hold the target directory's lock for the whole run, and the fuzz smoke build below
# needs it. Each binary runs from its package's folder, as `cargo test` runs it.
cargo test --locked --workspace --exclude updraft-fuzz --lib --bins --tests --no-run \
    --message-format=json-render-diagnostics > target/test-binaries.json
mapfile -t binaries < <(python3 - target/test-binaries.json <<'PY'
import json, os, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(os.path.dirname(m["manifest_path"]) + "\t" + m["executable"])
PY
)
[ "${#binaries[@]}" -gt 0 ] || { echo "no test binaries found" >&2; exit 1; }
# Where the time goes (CI's budget is checked against these lines).
echo "==> test binaries built at ${SECONDS}s"

# The fuzz binary reuses every dependency the tests just built (see scripts/fuzz.sh
# --smoke). Its build and runs go beside the tests, at the lowest priority: the tests mostly
# wait on clients and servers, and a niced fuzzer takes only what they leave, so the smoke
# costs little wall time and cannot slow a timing-sensitive test.
fuzz_seconds=${UPDRAFT_FUZZ_SECONDS:-30}
fuzz=
if [ "$fuzz_seconds" != 0 ]; then
    nice -n 19 bash -c "scripts/fuzz.sh --smoke --build-only && scripts/fuzz.sh --smoke --no-build $fuzz_seconds" \
        > target/fuzz-smoke.log 2>&1 &
    fuzz=$!
fi
# Each binary's output is also kept under target/test-logs, so that a failure's messages can
# be printed again at the very end, where a log cut in the middle still shows them.
mkdir -p target/test-logs
failed=0
failed_logs=()
for entry in "${binaries[@]}"; do
    dir=${entry%%$'\t'*} exe=${entry#*$'\t'}
    log=target/test-logs/$(basename "$exe").log
    echo "==> $(basename "$exe")"
    started=$SECONDS
    if ! (cd "$dir" && "$exe") 2>&1 | tee "$log"; then
        failed=1
        failed_logs+=("$log")
    fi
    echo "==> $(basename "$exe") took $((SECONDS - started))s"
done
echo "==> tests done at ${SECONDS}s"
if [ -n "$fuzz" ]; then
    status=0
    wait "$fuzz" || status=$?
    cat target/fuzz-smoke.log
    [ "$status" = 0 ] || { echo "fuzz smoke failed" >&2; exit 1; }
fi
if [ "$failed" != 0 ]; then
    for log in "${failed_logs[@]}"; do
        echo "==> failures in $log"
        sed -n '/^failures:$/,$p' "$log"
    done
    echo "tests failed" >&2
    exit 1
fi
