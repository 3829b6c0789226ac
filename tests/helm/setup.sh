#!/usr/bin/env bash
# setup.sh BINDIR - the CTest fixture of the chart tests: the pinned helm (helm.sh) and the
# Go test binary (this module, dependencies pinned in go.mod/go.sum, fetched from the Go
# module proxy into the cache once), built into BINDIR. Fails, never skips, when a tool is
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bindir=${1:?usage: setup.sh BINDIR}
mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
helm=$("$here/helm.sh")
eval "$("$here/helm.sh" --go-env | sed 's/^/export /')"
command -v promtool >/dev/null || {
  echo "setup.sh: promtool not found (Debian package prometheus: bash .ci/deps --test)" >&2
  exit 1
}
echo "$helm" >"$bindir/helm.path"
cd "$here"
# -mod=readonly: go.mod and go.sum are the pins; a test run never rewrites them.
"$GO" test -mod=readonly -c -o "$bindir/chart.test" .
echo "helm: $("$helm" version --short); test binary: $bindir/chart.test"
