#!/usr/bin/env bash
# Fetch the third-party conformance vectors into protocol/vectors/ (git-ignored).
#
# Source: the botocore 1.43.11 source distribution (Apache-2.0). Only two
# directories are extracted:
#   tests/unit/protocols          -> protocol/vectors/protocols/
#   tests/unit/auth/aws4_testsuite -> protocol/vectors/aws4_testsuite/
#
# Idempotent: does nothing once protocol/vectors/.complete exists.
# Delete protocol/vectors/ to force a fresh download.
# Needs: pip (set PIP="python3 -m pip" to choose another), tar, sha256sum.
set -euo pipefail

BOTOCORE_VERSION="1.43.11"
SDIST="botocore-${BOTOCORE_VERSION}.tar.gz"
SDIST_SHA256="d7d479cc2809ec2728f2898521003adfb79bfe6a4615c59dfd222ec52b0cee6b"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${here}/vectors"

if [[ -f "${dest}/.complete" ]]; then
    echo "protocol/vectors already present (remove it to re-fetch)"
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

${PIP:-pip} download "botocore==${BOTOCORE_VERSION}" \
    --no-binary :all: --no-deps --disable-pip-version-check -q -d "${tmp}/dl"

archive="${tmp}/dl/${SDIST}"
if [[ ! -f "${archive}" ]]; then
    echo "error: pip did not produce ${SDIST}" >&2
    exit 1
fi
actual="$(sha256sum "${archive}" | cut -d' ' -f1)"
if [[ "${actual}" != "${SDIST_SHA256}" ]]; then
    echo "error: ${SDIST} sha256 is ${actual}, expected ${SDIST_SHA256}" >&2
    exit 1
fi

root="botocore-${BOTOCORE_VERSION}/tests/unit"
tar -xzf "${archive}" -C "${tmp}" "${root}/protocols" "${root}/auth/aws4_testsuite"

# Assemble next to the destination, then move into place in one step.
stage="${dest}.partial"
rm -rf "${stage}" "${dest}"
mkdir -p "${stage}"
mv "${tmp}/${root}/protocols" "${stage}/protocols"
mv "${tmp}/${root}/auth/aws4_testsuite" "${stage}/aws4_testsuite"
echo "botocore ${BOTOCORE_VERSION} sdist, sha256 ${SDIST_SHA256}" > "${stage}/.complete"
mv "${stage}" "${dest}"

echo "fetched $(find "${dest}" -type f ! -name .complete | wc -l) files into protocol/vectors"
