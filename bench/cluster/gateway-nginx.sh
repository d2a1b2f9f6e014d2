#!/usr/bin/env bash
# Gateway requests/s through nginx in front of 1 and 3 `enclave serve` replicas on one PostgreSQL database
# (docs/benchmarks.md, "Gateway through nginx with 1 and 3 replicas").
#
# What runs, all on loopback: a PostgreSQL 15 server of its own with the default durability (fsync on,
# synchronous_commit on), a fast stub upstream (nginx answering the gateway benchmark's fixed chat completion,
# bench/Enclave.Bench.Gateway/ChatRequest.cs), N replicas (own data directories, the same ledger keys, the
# production default CheckpointInterval of 1 s), and nginx as the load balancer with the directives of
# deploy/nginx/enclave.conf without TLS. wrk (bench/Enclave.Bench.Gateway/chat.lua) sends the benchmark's chat request
# through the balancer: every request is authenticated, admitted by the policy, forwarded, and recorded durably in the
# one ledger before its answer (two appends).
#
# Usage (after `dotnet build -c Release src/Enclave.Cli`):
#   bench/cluster/gateway-nginx.sh            # COUNTS="1 3" WARMUP=10 DURATION=15 CONNECTIONS=64 THREADS=2
# A count of "sqlite" runs the baseline: one replica on its embedded SQLite state, behind the same nginx.
# Prints one markdown row per replica count on stdout; progress on stderr. Everything it starts is stopped on exit.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
ENCLAVE_DLL=${ENCLAVE_DLL:-$REPO/src/Enclave.Cli/bin/Release/net10.0/enclave.dll}
PG_BIN=${ENCLAVE_PG_BIN:-/usr/lib/postgresql/15/bin}
COUNTS=${COUNTS:-"1 3"}
WARMUP=${WARMUP:-10}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
LUA=$REPO/bench/Enclave.Bench.Gateway/chat.lua
BODY='{"model":"bench-chat","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16,"temperature":0}'
COMPLETION='{"id":"chatcmpl-bench0000000000000000","object":"chat.completion","created":1700000000,"model":"bench-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the stub upstream."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":7,"total_tokens":31}}'
MODELS='{"object":"list","data":[{"id":"bench-chat","object":"model","created":1700000000,"owned_by":"bench"}]}'

[ -f "$ENCLAVE_DLL" ] || { echo "no $ENCLAVE_DLL: run dotnet build -c Release src/Enclave.Cli first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not on PATH" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx is not on PATH" >&2; exit 2; }

WORK=$(mktemp -d /tmp/enclave-bench-gw-XXXXXX)
chmod 755 "$WORK"
PIDS=()
PG_DATA=$WORK/pg/data
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(runuser -u postgres --)

cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done
  [ -f "$WORK/lb/nginx.pid" ] && kill "$(cat "$WORK/lb/nginx.pid")" 2>/dev/null || true
  [ -f "$WORK/stub/nginx.pid" ] && kill "$(cat "$WORK/stub/nginx.pid")" 2>/dev/null || true
  [ -f "$PG_DATA/postmaster.pid" ] && "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # URL, seconds
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "$1 did not answer within $2 s" >&2; return 1; }
    sleep 0.2
  done
}

# PostgreSQL with the default durability.
mkdir -p "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
PG_PORT=$(free_port)
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U enclave --auth=trust --encoding=UTF8 --locale=C >/dev/null
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/server.log" -w \
  -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
echo "PostgreSQL on port $PG_PORT" >&2

# The stub upstream: nginx answering the fixed completion.
STUB_PORT=$(free_port)
mkdir -p "$WORK/stub"
cat >"$WORK/stub/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $WORK/stub/nginx.pid;
error_log $WORK/stub/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/stub/body;
    proxy_temp_path $WORK/stub/proxy;
    fastcgi_temp_path $WORK/stub/fastcgi;
    uwsgi_temp_path $WORK/stub/uwsgi;
    scgi_temp_path $WORK/stub/scgi;
    server {
        listen 127.0.0.1:$STUB_PORT;
        default_type application/json;
        location = /v1/chat/completions { return 200 '$COMPLETION'; }
        location = /v1/models { return 200 '$MODELS'; }
    }
}
EOF
nginx -p "$WORK/stub" -c "$WORK/stub/nginx.conf"
wait_for "http://127.0.0.1:$STUB_PORT/v1/models" 10

cat >"$WORK/enclave.json" <<EOF
{"Upstream":{"Backends":[{"Name":"stub","BaseUrl":"http://127.0.0.1:$STUB_PORT/v1","Models":["bench-chat"],"Labels":{"Classification":"UNCLASSIFIED","Jurisdiction":"local"}}]},
 "Models":{"bench-chat":{"Kind":"chat"}}}
EOF

echo "| replicas | requests/s | p50 ms | p99 ms | errors | load average (1, 5, 15 min) at the end |"
echo "|---:|---:|---:|---:|---:|---|"
run=0
for count in $COUNTS; do
  run=$((run + 1))
  replicas=$count
  provider=postgres
  if [ "$count" = sqlite ]; then replicas=1; provider=sqlite; fi
  database=gw_$run
  "${RUN_AS[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U enclave -d postgres -qc "CREATE DATABASE $database" >/dev/null
  connection="Host=127.0.0.1;Port=$PG_PORT;Database=$database;Username=enclave;Maximum Pool Size=60"
  urls=()
  key=""
  for i in $(seq 0 $((replicas - 1))); do
    dir=$WORK/run-$run/replica-$i
    mkdir -p "$dir"
    if [ "$i" -gt 0 ]; then cp -r "$WORK/run-$run/replica-0/keys" "$dir/keys"; fi
    port=$(free_port)
    ENCLAVE__State__Provider=$provider ENCLAVE__State__ConnectionString=$([ "$provider" = postgres ] && echo "$connection") \
      dotnet "$ENCLAVE_DLL" serve --data "$dir" --urls "http://127.0.0.1:$port" --config "$WORK/enclave.json" \
      >"$dir/stdout.log" 2>"$dir/stderr.log" &
    PIDS+=($!)
    disown $!
    wait_for "http://127.0.0.1:$port/readyz" 120
    if [ "$i" -eq 0 ]; then key=$(grep -o 'ek_[A-Za-z0-9_.-]*' "$dir/stdout.log" | head -1); fi
    urls+=("127.0.0.1:$port")
  done
  [ -n "$key" ] || { echo "the first replica printed no admin key" >&2; exit 1; }

  LB_PORT=$(free_port)
  mkdir -p "$WORK/lb"
  servers=$(for u in "${urls[@]}"; do echo "        server $u max_fails=2 fail_timeout=5s;"; done)
  cat >"$WORK/lb/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $WORK/lb/nginx.pid;
error_log $WORK/lb/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/lb/body;
    proxy_temp_path $WORK/lb/proxy;
    fastcgi_temp_path $WORK/lb/fastcgi;
    uwsgi_temp_path $WORK/lb/uwsgi;
    scgi_temp_path $WORK/lb/scgi;
    upstream enclave_replicas {
        least_conn;
$servers
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$LB_PORT;
        client_max_body_size 64m;
        location / {
            proxy_pass http://enclave_replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_next_upstream error timeout;
        }
    }
}
EOF
  nginx -p "$WORK/lb" -c "$WORK/lb/nginx.conf"
  wait_for "http://127.0.0.1:$LB_PORT/readyz" 10

  echo "$count replica(s): warming up ${WARMUP}s" >&2
  ENCLAVE_BENCH_BODY=$BODY ENCLAVE_BENCH_KEY=$key wrk -t "$THREADS" -c "$CONNECTIONS" -d "${WARMUP}s" -s "$LUA" \
    "http://127.0.0.1:$LB_PORT/v1/chat/completions" >/dev/null
  echo "$count replica(s): measuring ${DURATION}s" >&2
  line=$(ENCLAVE_BENCH_BODY=$BODY ENCLAVE_BENCH_KEY=$key wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" -s "$LUA" \
    "http://127.0.0.1:$LB_PORT/v1/chat/completions" | grep '^BENCH ')
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  python3 - "$count" "$line" "$load" <<'EOF'
import sys
count, line, load = sys.argv[1], sys.argv[2], sys.argv[3]
f = dict(kv.split("=") for kv in line.split()[1:])
errors = sum(int(f[k]) for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"))
rps = int(f["requests"]) / (int(f["duration_us"]) / 1e6)
print(f"| {count} | {rps:,.0f} | {int(f['p50_us'])/1000:.2f} | {int(f['p99_us'])/1000:.2f} | {errors} | {load} |")
EOF

  kill "$(cat "$WORK/lb/nginx.pid")"; rm -f "$WORK/lb/nginx.pid"
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  PIDS=()
done
