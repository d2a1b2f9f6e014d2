#!/usr/bin/env bash
# Runs one harness under afl++: fuzz/run.sh <harness> [--seconds N] [--resume]
#   <harness>   one of `fuzz/run.sh --list` (fuzz/README.md tells what each one feeds)
#   --seconds N stop after N seconds (default: run until Ctrl-C)
#   --resume    continue an earlier run's queue in fuzz/findings/<harness> instead of starting from the seeds
# Exit status: 0 when the run found no crash, 1 when it found at least one (they are in
# fuzz/findings/<harness>/default/crashes; replay one with `dotnet fuzz/out/Enclave.Fuzz.dll replay <harness> FILE`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"

harness="" seconds="" resume=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --resume) resume=1; shift ;;
    --list) bash "$here/build.sh"; dotnet "$out/Enclave.Fuzz.dll" list; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) harness="$1"; shift ;;
  esac
done
[ -n "$harness" ] || { echo "usage: fuzz/run.sh <harness> [--seconds N] [--resume]" >&2; exit 2; }
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }

bash "$here/build.sh"
corpus="$here/corpus/$harness"
[ -d "$corpus" ] || { echo "no seed corpus $corpus (regenerate with fuzz/seed.sh)" >&2; exit 2; }

dicts=()
case "$harness" in
  bundle) dicts=(tar) ;;
  tuf|canonical-json|openai-request|tokenizer|jwks|safetensors|stix-bundle|misp-event|osv|sbom|vex|kev|admin-request|vendor-answer) dicts=(json) ;;
  stix-pattern) dicts=(stix-pattern) ;;
  sigma) dicts=(sigma) ;;
  sse) dicts=(sse json) ;;
  jinja) dicts=(jinja) ;;
  note|checkpoint) dicts=(note) ;;
esac
dict_args=()
for d in "${dicts[@]}"; do dict_args+=(-x "$here/dict/$d.dict"); done

findings="$here/findings/$harness"
input=(-i "$corpus")
if [ "$resume" -eq 1 ] && [ -d "$findings/default/queue" ]; then
  input=(-i -)
else
  rm -rf "$findings"
fi
mkdir -p "$findings"

# Settings that let afl++ run as root on a stock Debian host (or in a container) without changing the host:
#   AFL_SKIP_BIN_CHECK    the target is `dotnet`, whose instrumentation is in the managed assemblies, not the binary
#   AFL_SKIP_CPUFREQ      do not insist on the "performance" CPU governor
#   AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES  core_pattern pipes cores to a helper (systemd-coredump, apport): crashes
#                         are still seen by afl-fuzz through the fork server, only the core dump is lost
#   AFL_NO_AFFINITY       do not pin to a core (CI and shared machines have none free)
#   AFL_FORKSRV_INIT_TMOUT the .NET runtime takes seconds to start on a busy machine
#   AFL_NO_UI             plain status lines instead of the curses screen
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
       AFL_FORKSRV_INIT_TMOUT=60000 AFL_NO_UI=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
duration=()
[ -n "$seconds" ] && duration=(-V "$seconds")
# ENCLAVE_FUZZ_SEED fixes afl++'s random seed (-s): the same seeds and the same mutations in the same order, so a short
# smoke run (CI) replays what a longer local run with the same seed already went through instead of a fresh gamble.
[ -n "${ENCLAVE_FUZZ_SEED:-}" ] && duration+=(-s "$ENCLAVE_FUZZ_SEED")

set +e
afl-fuzz "${input[@]}" -o "$findings" -t 5000 -m none "${dict_args[@]}" "${duration[@]}" -- \
  dotnet "$out/Enclave.Fuzz.dll" run "$harness" > "$findings/afl.log" 2>&1
status=$?
set -e

stats="$findings/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
  echo "$harness: afl-fuzz did not start (exit $status); its log:" >&2
  tail -30 "$findings/afl.log" >&2
  exit 2
fi
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(find "$findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$findings/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
echo "$harness: $(get run_time)s, $(get execs_done) execs, $(get execs_per_sec) execs/s, $(get corpus_count) paths, $(get edges_found) edges, $crashes crash(es), $hangs hang(s)"
if [ "$crashes" -gt 0 ]; then
  for f in "$findings"/default/crashes/id:*; do
    echo "--- $f" >&2
    dotnet "$out/Enclave.Fuzz.dll" replay "$harness" "$f" 2>&1 | head -5 >&2 || true
  done
  exit 1
fi
