#!/usr/bin/env bash
# Build a FROM-scratch image `updraft:local` around a statically linked updraft binary.
#
# The binary is built on the host (glibc, +crt-static; `--target` keeps the flag away from
# build scripts and proc macros), checked to be static and to run, and copied alone into the
# build context target/docker/. No base image is pulled.
#
#   scripts/docker-build.sh            # image tag updraft:local
#   IMAGE=updraft:dev scripts/docker-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-gnu
IMAGE=${IMAGE:-updraft:local}
CONTEXT=target/docker
BIN=target/$TARGET/release/updraft

echo "==> static release build ($TARGET, +crt-static)"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" cargo build --release --target "$TARGET" --bin updraft

echo "==> checking $BIN"
description=$(file -L "$BIN")
echo "$description"
case "$description" in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) echo "error: $BIN is not statically linked" >&2; exit 1 ;;
esac
"$BIN" --version

echo "==> build context $CONTEXT"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"
cp "$BIN" "$CONTEXT/updraft"
cp Dockerfile "$CONTEXT/Dockerfile"

echo "==> docker build -t $IMAGE"
# The classic builder: it needs no buildx plugin, and FROM scratch needs nothing pulled.
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -t "$IMAGE" -f "$CONTEXT/Dockerfile" "$CONTEXT"
docker image ls "$IMAGE"
