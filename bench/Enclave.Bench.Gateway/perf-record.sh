#!/usr/bin/env bash
# Samples the enclave gateway process under wrk load with Linux perf and prints where its CPU time goes, per thread,
# per category and per request stage. Needs perf and permission to attach (root, or kernel.perf_event_paranoid <= 1).
#   bench/Enclave.Bench.Gateway/perf-record.sh [seconds] [extra benchmark args...]
# TARGET=forwarder samples the bare forwarder instead; the default load is the benchmark's wrk run (-t2 -c64).
# MODE=latency samples it under the fixed-rate client instead (RATE requests/s, default 1000).
set -eu # no pipefail: `perf report | head` ends perf with SIGPIPE
cd "$(dirname "$0")"
seconds="${1:-10}"; shift || true
target="${TARGET:-gateway}"
work="$(mktemp -d /tmp/enclave-gateway-perf.XXXXXX)"
export EnclaveBuildSlot="${EnclaveBuildSlot:-gateway}"
dotnet build -c Release -v q -nologo >/dev/null
# Perf maps name JIT-compiled methods; W^X double-mapping hides them from perf, so turn it off for this run.
if [ "${MODE:-throughput}" = latency ]; then
  load=(latency --targets "$target" --rates "${RATE:-1000}" --rate-warmup 20 --rate-duration "$((seconds + 4))")
else
  load=(throughput --targets "$target" --warmup 20 --duration "$((seconds + 4))")
fi
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  dotnet run -c Release --no-build -- "${load[@]}" "$@" >"$work/report.md" 2>"$work/log.txt" &
runner=$!
pid=""
for _ in $(seq 1 300); do
  pid="$(pgrep -n -f "Enclave.Bench.Gateway $target --" || true)"
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "no $target process"; cat "$work/log.txt"; exit 1; }
# Past the verification requests and the 20 s warm-up (tiered JIT settles after about 15 s of load), 2 s into the measured run.
for _ in $(seq 1 600); do grep -qE "warm-up:|latency Gateway|latency Forwarder" "$work/log.txt" 2>/dev/null && break; sleep 0.1; done
if [ "${MODE:-throughput}" = latency ]; then sleep 22; else sleep 2; fi
perf record -F 999 -g -p "$pid" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$runner"
grep -E "^\| .*(stub|forwarder|gateway)" "$work/report.md" | grep -v "^| target" || cat "$work/log.txt"
echo "--- stages of a request (each sample counted once; see perf-stages.py)"
per_request="$(grep -E "^\| .*(stub|forwarder|gateway)" "$work/report.md" | grep -v "^| target" | head -1 | tr '|' '\n' | grep "µs" | head -1 | tr -dc '0-9.')"
perf script -i "$work/perf.data" 2>/dev/null | python3 "$(pwd)/perf-stages.py" ${per_request:+"$per_request"} || true
echo "--- CPU samples by thread"
perf report -i "$work/perf.data" --no-children --sort comm -g none -q 2>/dev/null | head -12 || true
echo "--- self time by category (% of all samples)"
perf report -i "$work/perf.data" --no-children --sort dso,sym -g none -q -t '|' -F overhead,dso,sym 2>/dev/null | python3 "$(pwd)/perf-categories.py" || true
echo "--- top functions, self time"
perf report -i "$work/perf.data" --no-children --sort dso,sym -g none -q 2>/dev/null | head -40 || true
echo "--- inclusive time of request stages (all threads)"
perf report -i "$work/perf.data" --children --sort sym -g none -q 2>/dev/null \
  | grep -E 'ApiKeyAuthenticationHandler::HandleAuthenticateAsync|ApiKeyStore::Validate|ApiKeyStore::Open|RequestHandler::HandleAsync|RequestHandler::ReadBodyAsync|RequestAuditor::(AdmitAsync|CompleteAsync|Digest|Event)|AuditEvent::ToCanonicalJson|CanonicalJson::Canonicalize|SqliteLedger::(Commit|WriterLoop|AppendAsync|AppendRawAsync)|SignedNote::Sign|OpenAiUpstreamBackend::(PostAsync|SendAsync)|UpstreamJson::ReadObjectAsync|UpstreamRouter::|RoutedUpstreamBackend::|JsonNode::Parse|JsonNode::ToJsonString|JsonSerializer::SerializeToElement|Activity::Start|ActivitySource::|OpenTelemetry|HttpConnection::SendAsync|SocketsHttpHandler::SendAsync|HttpProtocol::ProcessRequests|Http1Connection::|EnclaveTelemetry::RecordRequest|TimerQueue|CancellationTokenSource::\.ctor|gc_heap::garbage_collect|ThreadPoolWorkQueue::Dispatch|LowLevelLifoSemaphore|__x64_sys_futex|__x64_sys_sched_yield|do_fsync|tcp_sendmsg|tcp_recvmsg|__x64_sys_epoll_wait' \
  | head -60 || true
echo "--- inclusive time of system calls (all threads)"
perf report -i "$work/perf.data" --children --sort sym -g none -q 2>/dev/null \
  | grep -E '\] (__x64_sys_[a-z0-9_]+|finish_task_switch[.a-z0-9]*|schedule)$' | head -25 || true
echo "perf data, report and log in $work"
