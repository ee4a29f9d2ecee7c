#!/bin/sh
# Builds the release binary exactly as the Dockerfile does, so CI (which has
# no Docker engine) builds it too: static (no cgo), trimmed, versioned, and
# with -tags nodemo, which leaves the demo's test servers out, and goolm,
# mautrix's pure-Go Olm (end-to-end encryption without cgo).
#   tools/build.sh [OUTPUT]          VERSION and COMMIT from the environment
set -eu
out=${1:-ibbot}
version=${VERSION:-devel}
commit=${COMMIT:-unknown}
CGO_ENABLED=0 go build -trimpath -tags nodemo,goolm \
  -ldflags "-s -w -X github.com/osbuild/ibbot/internal/buildinfo.version=${version} -X github.com/osbuild/ibbot/internal/buildinfo.commit=${commit}" \
  -o "$out" ./cmd/ibbot
