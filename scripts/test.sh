#!/usr/bin/env bash
# The test command: installs the pinned clients, fetches the protocol vectors, checks the
# trimmed models are what the script makes, then runs every Rust test (unit, integration
# with the real aws CLI and boto3, vectors, SigV4 suite).
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
bash protocol/fetch_vectors.sh
python3 protocol/trim_models.py --check
cargo test --locked --lib --bins --tests
