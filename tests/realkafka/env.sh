# Sourced by fetch.sh and run: where the realkafka suite's cached tools live (outside the repo,
# kept across CI runs). Override WB_CACHE to move the cache, WB_KAFKA_VERSION to test another
# Kafka release (the README lists those tested).
_rk_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WB_CACHE="${WB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/webhook-bridge}"
WB_KAFKA_VERSION="${WB_KAFKA_VERSION:-4.4.0}"
export WB_CACHE WB_KAFKA_VERSION
export WB_RK_KAFKA_LIBS="$WB_CACHE/kafka-$WB_KAFKA_VERSION/libs"
# the venv is named after its requirements, so a new pin gets a new venv
_rk_req_hash=$(sha256sum "$_rk_here/requirements.txt" | cut -c1-12)
export WB_RK_VENV="$WB_CACHE/realkafka-venv-$_rk_req_hash"
export WB_RK_POM="$_rk_here/../kafka/pom.xml"
unset _rk_here _rk_req_hash
