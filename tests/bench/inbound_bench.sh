#!/bin/sh
# inbound_bench.sh - inbound throughput of the real bridge (`webhook-bridge run`): requests
# verified, deduplicated, published with acks=all and answered after the broker's ack, per
# second; server CPU us/request (the bridge process only: utime+stime / 2xx answers); p50/p99
# latency; peak RSS (VmHWM). Then the same loader against nginx `return 204` (the ceiling,
# measured in the same run) and the ratio. Figures only, no pass/fail.
#
# usage: tests/bench/inbound_bench.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#   BUILD_DIR defaults to build (cmake --preset release).
# Kafka is wb-mock (librdkafka's mock cluster) in a process of its own, so the CPU figure is
# the bridge's: HTTP + verify + dedupe + produce + delivery reports. WB_BENCH_PARTITIONS
# (default 8), WB_BENCH_THREADS (inbound.threads, default 2), WB_BENCH_BODY (bytes, 200),
# WB_BENCH_BRIDGE (a webhook-bridge binary of another build, for before/after figures).
# Every process started here is stopped on exit.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
secs=${2:-10}
conns=${3:-128}
bridge=${WB_BENCH_BRIDGE:-$build/webhook-bridge} # another build's binary: same loader, same mock
mock=$build/tests/tools/wb-mock
bench=$build/tests/integration/inbound/inbound_bench
for b in "$bridge" "$mock" "$bench"; do
  [ -x "$b" ] || { echo "missing $b: build $build first"; exit 1; }
done

dir=$(mktemp -d)
srv_pid=""
ngx_pid=""
mock_pid=""
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
  [ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null || true
  exec 4>&- 2>/dev/null || true
  [ -n "$mock_pid" ] && { kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

parts=${WB_BENCH_PARTITIONS:-8}
body=${WB_BENCH_BODY:-200}
secret="whsec_$(head -c 24 /dev/urandom | base64)"

# wb-mock runs until its stdin closes: hold a fifo open on fd 4.
mkfifo "$dir/mockctl"
"$mock" --brokers 1 --topic "bench.inbound:$parts" < "$dir/mockctl" > "$dir/mock.out" 2>"$dir/mock.err" &
mock_pid=$!
exec 4> "$dir/mockctl"
for _ in $(seq 100); do grep -q bootstrap= "$dir/mock.out" 2>/dev/null && break; sleep 0.1; done
bootstrap=$(sed -n 's/^bootstrap=//p' "$dir/mock.out")
[ -n "$bootstrap" ] || { cat "$dir/mock.err"; exit 1; }

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
cat > "$dir/bridge.yaml" <<YAML
kafka:
  bootstrap.servers: "$bootstrap"
inbound:
  listen: 127.0.0.1:0
  threads: ${WB_BENCH_THREADS:-2}
  max_connections: 4096
  max_connections_per_ip: 0
admin: { listen: 127.0.0.1:0 }
log: { level: warn }
connectors: connectors
YAML
# (an older binary without max_connections_per_ip: drop the key)
"$bridge" check -c "$dir/bridge.yaml" > /dev/null 2>&1 || sed -i '/max_connections_per_ip/d' "$dir/bridge.yaml"
"$bridge" check -c "$dir/bridge.yaml" > /dev/null
# log level warn hides the port line: ask for info on stderr, filtered below
sed -i 's/level: warn/level: info/' "$dir/bridge.yaml"
"$bridge" run -c "$dir/bridge.yaml" > "$dir/bridge.out" 2> "$dir/bridge.err" &
srv_pid=$!
port=""
for _ in $(seq 150); do
  port=$(grep -o 'inbound listener on port [0-9]*' "$dir/bridge.err" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { tail -20 "$dir/bridge.err"; exit 1; }

echo "== webhook-bridge run: verify + dedupe + produce (acks=all) + answer after the ack;" \
     "wb-mock in another process, $parts partitions, $conns connections, ${body}-byte bodies"
"$bench" -p "$port" -c "$conns" -d "$secs" -s "$secret" -u /webhooks/bench -P "$srv_pid" \
  -b "$body" -n bridge | tee "$dir/bridge.result"
kill -TERM "$srv_pid" 2>/dev/null || true
wait "$srv_pid" 2>/dev/null || true
srv_pid=""
exec 4>&-
wait "$mock_pid" 2>/dev/null || true
mock_pid=""

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
  # the same requests, signed the same way: the loader does the same work in both runs
  echo "== ceiling: nginx return 204, same loader, same signed requests"
  "$bench" -p "$nport" -c "$conns" -d "$secs" -s "$secret" -u /webhooks/bench -b "$body" -n nginx \
    | tee "$dir/nginx.result"
  kill "$ngx_pid" 2>/dev/null || true
  wait "$ngx_pid" 2>/dev/null || true
  ngx_pid=""
  a=$(awk -F'rps=' '/RESULT/ {print $2}' "$dir/bridge.result")
  b=$(awk -F'rps=' '/RESULT/ {print $2}' "$dir/nginx.result")
  awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "ratio bridge / nginx ceiling: %.2f\n", a / b }'
else
  echo "nginx not found: no ceiling (bash .ci/deps --test installs it)"
fi
