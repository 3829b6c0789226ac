#!/bin/sh
# inbound_bench.sh - inbound listener throughput: verified + published + acked requests/s,
# server CPU us/request, p50/p99, peak RSS; then the same loader against nginx `return 204`
# (the ceiling) and the ratio. Figures only, no pass/fail.
#
# usage: tests/bench/inbound_bench.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#   BUILD_DIR defaults to build-rel (cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release).
# Kafka: by default a mock cluster in a separate process (so the server's CPU figure is the
# bridge's own: HTTP + verify + dedupe + produce); WB_BENCH_EMBEDDED=1 runs it in the server
# process instead (`bootstrap.servers: embedded`). WB_BENCH_PARTITIONS (default 8),
# WB_BENCH_BROKERS (default 1).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-rel}
secs=${2:-10}
conns=${3:-128}
server=$build/tests/integration/inbound/inbound_server
bench=$build/tests/integration/inbound/inbound_bench
[ -x "$server" ] && [ -x "$bench" ] || { echo "build $build first"; exit 1; }

dir=$(mktemp -d)
srv_pid=""
ngx_pid=""
mock_pid=""
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

secret="whsec_$(head -c 24 /dev/urandom | base64)"
mkdir "$dir/connectors"
cat > "$dir/connectors/bench.yaml" <<YAML
name: bench
direction: inbound
verify: { scheme: standard-webhooks, secrets: ["$secret"], tolerance: 5m }
topic: bench.inbound
key: /data/id
event_type: /type
max_body: 64KiB
YAML
parts=${WB_BENCH_PARTITIONS:-8}
brokers=${WB_BENCH_BROKERS:-1}
mkfifo "$dir/ctl" "$dir/mockctl"
if [ "${WB_BENCH_EMBEDDED:-0}" = 1 ]; then
  bootstrap=embedded
  where="embedded Kafka in the same process"
else
  "$server" --mock "$brokers" "$parts" bench.inbound < "$dir/mockctl" > "$dir/mockready" 2>/dev/null &
  mock_pid=$!
  exec 4> "$dir/mockctl"
  for _ in $(seq 100); do grep -q READY "$dir/mockready" 2>/dev/null && break; sleep 0.1; done
  bootstrap=$(awk '/READY/ {print $3}' "$dir/mockready")
  where="mock Kafka cluster in another process (pid $mock_pid)"
fi
cat > "$dir/bridge.yaml" <<YAML
kafka:
  bootstrap.servers: "$bootstrap"
embedded: { brokers: $brokers, partitions: $parts }
inbound:
  listen: 127.0.0.1:0
  threads: ${WB_BENCH_THREADS:-2}
  max_connections: 4096
log: { level: warn }
connectors: connectors
YAML

# The server runs with stdin on a fifo we hold open; closing it stops the server.
"$server" "$dir/bridge.yaml" < "$dir/ctl" > "$dir/ready" 2>"$dir/server.log" &
srv_pid=$!
exec 3> "$dir/ctl"
for _ in $(seq 100); do grep -q READY "$dir/ready" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/READY/ {print $2}' "$dir/ready")
[ -n "$port" ] || { cat "$dir/server.log"; exit 1; }

echo "== webhook-bridge inbound (verify + dedupe + produce acks=all + answer after ack); $where, $parts partitions"
"$bench" -p "$port" -c "$conns" -d "$secs" -s "$secret" -u /webhooks/bench -P "$srv_pid" -n inbound | tee "$dir/inbound.out"
exec 3>&-
wait "$srv_pid" 2>/dev/null || true
srv_pid=""
if [ -n "$mock_pid" ]; then
  exec 4>&-
  wait "$mock_pid" 2>/dev/null || true
  mock_pid=""
fi

if command -v nginx >/dev/null 2>&1; then
  nport=$((20000 + $$ % 20000))
  mkdir -p "$dir/nginx/logs"
  cat > "$dir/nginx/nginx.conf" <<NGX
worker_processes 2;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  server { listen 127.0.0.1:$nport; keepalive_requests 1000000; location / { return 204; } }
}
NGX
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" &
  ngx_pid=$!
  sleep 0.5
  echo "== ceiling: nginx return 204 (same loader, unsigned, same body size)"
  "$bench" -p "$nport" -c "$conns" -d "$secs" -u /webhooks/bench -n nginx | tee "$dir/nginx.out"
  kill "$ngx_pid" 2>/dev/null || true
  wait "$ngx_pid" 2>/dev/null || true
  ngx_pid=""
  a=$(awk -F'rps=' '/RESULT/ {print $2}' "$dir/inbound.out")
  b=$(awk -F'rps=' '/RESULT/ {print $2}' "$dir/nginx.out")
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "ratio inbound / nginx ceiling: %.2f\n", a / b }'
else
  echo "nginx not found: no ceiling"
fi
