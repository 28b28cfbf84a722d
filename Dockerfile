# Updraft in an empty image: one statically linked binary, nothing else.
#
# Build with scripts/docker-build.sh, which compiles the static binary on the host and uses
# target/docker/ (holding just `updraft` and this file) as the build context:
#   scripts/docker-build.sh && docker run --rm -p 4566:4566 updraft:local
FROM scratch

COPY updraft /updraft

ENV UPDRAFT_LISTEN=0.0.0.0:4566
EXPOSE 4566

ENTRYPOINT ["/updraft"]
