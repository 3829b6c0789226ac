#!/usr/bin/env bash
# Fetches what the realkafka suite runs, once, into the cache (see env.sh):
#   - the Apache Kafka broker and tools jars (tests/kafka/pom.xml, Maven Central)
#   - a Python venv with requirements.txt (PyPI)
# A second run with everything cached downloads nothing and takes well under a second.
# Exits non-zero when java (17+), mvn, python3's venv module or a download is missing: the
# suite must fail, not skip, on a machine without them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

fail() { echo "realkafka fetch: $*" >&2; exit 1; }

for tool in java mvn /usr/bin/python3; do
  command -v "$tool" >/dev/null || fail "$tool not found (bash .ci/deps --test installs it)"
done
java_major=$(java -XshowSettings:properties -version 2>&1 |
             sed -n 's/^ *java.specification.version = //p')
[ "${java_major:-0}" -ge 17 ] 2>/dev/null || fail "Kafka $WB_KAFKA_VERSION needs Java 17+, java is ${java_major:-unknown}"

mkdir -p "$WB_CACHE"
if [ ! -f "$WB_RK_KAFKA_LIBS/.complete" ]; then
  echo "realkafka fetch: Kafka $WB_KAFKA_VERSION jars -> $WB_RK_KAFKA_LIBS"
  tmp="$WB_RK_KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  if ! mvn -q -B -f "$WB_RK_POM" dependency:copy-dependencies -Dkafka.version="$WB_KAFKA_VERSION" \
         -DoutputDirectory="$tmp" >"$WB_CACHE/mvn-kafka-$WB_KAFKA_VERSION.log" 2>&1; then
    tail -30 "$WB_CACHE/mvn-kafka-$WB_KAFKA_VERSION.log" >&2
    rm -rf "$tmp"
    fail "mvn could not fetch Kafka $WB_KAFKA_VERSION"
  fi
  ls "$tmp"/kafka_2.13-"$WB_KAFKA_VERSION".jar >/dev/null || fail "no kafka_2.13 jar fetched"
  rm -rf "$WB_RK_KAFKA_LIBS"
  mv "$tmp" "$WB_RK_KAFKA_LIBS"
  touch "$WB_RK_KAFKA_LIBS/.complete"   # written last: a half-done fetch is redone
fi

if [ ! -f "$WB_RK_VENV/.complete" ]; then
  echo "realkafka fetch: Python venv -> $WB_RK_VENV"
  rm -rf "$WB_RK_VENV"
  /usr/bin/python3 -m venv "$WB_RK_VENV" || fail "python3 -m venv failed (python3-venv installed?)"
  "$WB_RK_VENV/bin/pip" install -q --no-deps -r "$here/requirements.txt" ||
    { rm -rf "$WB_RK_VENV"; fail "pip could not install requirements.txt"; }
  "$WB_RK_VENV/bin/python" -c 'import kafka' || fail "kafka-python does not import"
  touch "$WB_RK_VENV/.complete"
fi
echo "realkafka fetch: Kafka $WB_KAFKA_VERSION and the venv are cached"
