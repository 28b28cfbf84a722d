#!/usr/bin/env bash
# The test command: installs busybox-static (for the Docker backend's tests) and the pinned
# clients, fetches the protocol vectors, checks the trimmed models are what the script makes,
# then runs every Rust test (unit, integration with the real aws CLI and boto3 and a Docker
# Engine, the console in headless Chromium, vectors, SigV4 suite).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Docker backend's tests build Updraft's default AMI around a static busybox (Debian's
# busybox-static); in CI they fail rather than skip without it.
# The console's browser tests drive Debian's headless Chromium through chromedriver; in CI
# they fail rather than skip without them.
APT_PACKAGES=()
[ -x /bin/busybox ] || APT_PACKAGES+=(busybox-static)
command -v chromium >/dev/null || APT_PACKAGES+=(chromium)
command -v chromedriver >/dev/null || APT_PACKAGES+=(chromium-driver)
# A Korean font, so the Korean screenshots show Hangul rather than empty boxes.
[ -d /usr/share/fonts/truetype/nanum ] || APT_PACKAGES+=(fonts-nanum)
if [ "${#APT_PACKAGES[@]}" -gt 0 ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "scripts/test.sh: ${APT_PACKAGES[*]} missing and there is no root to install them" >&2
    SUDO=(false)
  fi
  echo "==> apt-get install ${APT_PACKAGES[*]}"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
fi

PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
bash protocol/fetch_vectors.sh
python3 protocol/trim_models.py --check
cargo test --locked --lib --bins --tests
