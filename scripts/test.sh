#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/prepare.sh: Debian packages, the
# pinned clients, the protocol vectors), checks the trimmed models are what the script makes,
# then runs every Rust test of the workspace (unit, integration with the real aws CLI, an old
# awscli and boto3 and a Docker Engine, the console in headless Chromium, vectors, SigV4 suite,
# and tests/sdk-rust with the AWS SDK for Rust).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prepare.sh
python3 protocol/trim_models.py --check
cargo test --locked --workspace --lib --bins --tests
