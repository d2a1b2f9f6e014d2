#!/usr/bin/env bash
# Samples the 256-writer append benchmark with Linux perf and prints where CPU time goes, per thread and per
# function. Needs perf and permission to attach (root, or kernel.perf_event_paranoid <= 1).
#   bench/Enclave.Bench.Ledger/perf-record.sh [seconds] [extra benchmark args...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-8}"; shift || true
work="$(mktemp -d /tmp/enclave-perf.XXXXXX)"
export EnclaveBuildSlot="${EnclaveBuildSlot:-bench}"
dotnet build -c Release -v q -nologo >/dev/null
# Perf maps name JIT-compiled methods; W^X double-mapping hides them from perf, so turn it off for this run.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  dotnet run -c Release --no-build -- append --writers "${WRITERS:-256}" --compare-interval 0 --warmup 3 --duration "$((seconds + 4))" "$@" \
  >"$work/report.md" 2>"$work/log.txt" &
runner=$!
pid=""
for _ in $(seq 1 100); do
  pid="$(pgrep -n -f 'Enclave.Bench.Ledger append' || true)"
  [ -n "$pid" ] && [ "$pid" != "$runner" ] && break
  sleep 0.1
done
sleep 4 # past the warm-up
perf record -F 999 -g -p "$pid" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$runner"
grep "^| ${WRITERS:-256} " "$work/report.md" || cat "$work/log.txt"
echo "--- CPU samples by thread"
perf report -i "$work/perf.data" --no-children --sort comm -g none -q 2>/dev/null | head -8
echo "--- self time by thread and category (% of all samples)"
perf report -i "$work/perf.data" --no-children --sort comm,dso,sym -g none -q -F overhead,comm,dso,sym 2>/dev/null | python3 "$(pwd)/perf-categories.py"
echo "--- sequencer thread (enclave-ledger-), top functions"
perf report -i "$work/perf.data" --no-children --comm enclave-ledger- --sort dso,sym -g none -q 2>/dev/null | head -25
echo "--- inclusive time of the parts of an append (all threads)"
perf report -i "$work/perf.data" --children --sort sym -g none -q 2>/dev/null \
  | grep -E 'ToCanonicalJson\(|SqliteLedger::Commit|SqliteLedger::WriterLoop|SignedNote::Sign|MerkleHash::Leaf|CompactRange::Append|CompactRange::Root|SqliteCommand::ExecuteNonQuery|SqliteTransaction::Commit|do_fsync|gc_heap::garbage_collect|ThreadPoolWorkQueue::Dispatch|TrySetResult|__x64_sys_futex|__x64_sys_sched_yield|ChannelWriter|BoundedChannel' \
  | head -30
echo "perf data and report in $work"
