#!/usr/bin/env bash
# What the tests need on the machine, installed once (each step is a no-op when already done):
# Debian packages, the pinned Python clients (and the old awscli's virtualenv), botocore's
# protocol vectors. `scripts/test.sh` runs it first; `.ci/run` also starts it early, beside
# the lints, to save CI time.
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
# The old-client test's awscli 1.36 / botocore 1.35 (query-protocol CloudWatch) in a virtualenv
# of its own; rebuilt only when its pinned requirements change.
OLD_CLI=target/awscli-1.36
if ! cmp -s tests/requirements-awscli-1.36.txt "$OLD_CLI/requirements.txt"; then
  echo "==> virtualenv $OLD_CLI"
  rm -rf "$OLD_CLI"
  python3 -m venv "$OLD_CLI"
  "$OLD_CLI/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements-awscli-1.36.txt
  cp tests/requirements-awscli-1.36.txt "$OLD_CLI/requirements.txt"
fi
bash protocol/fetch_vectors.sh
