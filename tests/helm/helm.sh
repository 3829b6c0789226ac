#!/usr/bin/env bash
# helm.sh - the pinned Helm binary of the chart tests: builds it once with the machine's Go
# from the Go module proxy (`go install helm.sh/helm/v3/cmd/helm@VERSION`) into a cache
# outside the repository, and prints its path. Later runs only print the path.
#
#   tests/helm/helm.sh            prints e.g. ~/.cache/webhook-bridge/helm-v3.22.0/helm
#   tests/helm/helm.sh --go-env   prints the Go environment the chart tests build with
#
# Environment: WB_CACHE (default ~/.cache/webhook-bridge), GO (default: go on PATH, else
# /usr/local/go/bin/go). A missing Go is an error, never a skip.
set -euo pipefail

HELM_VERSION=v3.22.0
cache=${WB_CACHE:-$HOME/.cache/webhook-bridge}

go=${GO:-}
if [ -z "$go" ]; then
  go=$(command -v go || true)
  [ -n "$go" ] || go=/usr/local/go/bin/go
fi
if [ ! -x "$go" ]; then
  echo "helm.sh: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go; set GO=)" >&2
  exit 1
fi

# One module and build cache for helm and the Go chart test, outside the repository, so
# repeated CI runs download and compile nothing. GOTOOLCHAIN=local: never fetch another Go.
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-modcacherw
export GOTOOLCHAIN=local CGO_ENABLED=0
if [ "${1:-}" = "--go-env" ]; then
  printf 'GO=%s\nGOMODCACHE=%s\nGOCACHE=%s\nGOFLAGS=%s\nGOTOOLCHAIN=%s\nCGO_ENABLED=%s\n' \
    "$go" "$GOMODCACHE" "$GOCACHE" "$GOFLAGS" "$GOTOOLCHAIN" "$CGO_ENABLED"
  exit 0
fi

bindir="$cache/helm-$HELM_VERSION"
helm="$bindir/helm"
if [ ! -x "$helm" ]; then
  mkdir -p "$bindir"
  # Build into a temporary directory first: an interrupted build never leaves a half binary.
  tmp=$(mktemp -d "$bindir/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "helm.sh: building helm $HELM_VERSION with $("$go" version) (once, cached in $bindir)" >&2
  GOBIN="$tmp" "$go" install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$tmp/helm" "$helm"
fi
# The binary must be the pinned release: a stale or foreign file in the cache is an error.
if ! "$helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION%.0}"; then
  echo "helm.sh: $helm is not helm $HELM_VERSION ($("$helm" version --short 2>&1 || true)); delete it" >&2
  exit 1
fi
echo "$helm"
