#!/usr/bin/env bash
# run.sh BINDIR REGEX [BRIDGE] - run the chart tests whose names match REGEX with the
# binary setup.sh built. A REGEX that runs no test fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bindir=${1:?usage: run.sh BINDIR REGEX [BRIDGE]}
bindir=$(cd "$bindir" && pwd) # absolute: the tests run from tests/helm
regex=${2:?usage: run.sh BINDIR REGEX [BRIDGE]}
[ -x "$bindir/chart.test" ] && [ -s "$bindir/helm.path" ] || {
  echo "run.sh: $bindir/chart.test missing: run the helm.setup test (tests/helm/setup.sh)" >&2
  exit 1
}
export WB_HELM WB_OUT="$bindir/out"
WB_HELM=$(cat "$bindir/helm.path")
if [ -n "${3:-}" ]; then
  WB_BRIDGE=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
  export WB_BRIDGE
fi
mkdir -p "$WB_OUT"
cd "$here"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
"$bindir/chart.test" -test.run "$regex" -test.v -test.timeout 10m 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if grep -q '^testing: warning: no tests to run' "$log" || ! grep -q '^--- PASS\|^--- FAIL' "$log"; then
  echo "run.sh: no test matched '$regex'" >&2
  exit 1
fi
exit "$rc"
