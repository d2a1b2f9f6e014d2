#!/usr/bin/env bash
# Runs every harness in turn for a fixed time: fuzz/run-all.sh --seconds N
# Prints one line per harness (time, executions, execs/s, paths, crashes, hangs) and exits 1 if any harness
# found a crash (each crash is replayed on stderr). CI runs it with a small N (.ci/run); docs/fuzzing.md has
# the longer documented runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "usage: fuzz/run-all.sh --seconds N" >&2; exit 2 ;;
  esac
done

bash "$here/build.sh"
failed=()
for harness in $(dotnet "$here/out/Enclave.Fuzz.dll" list | cut -f1); do
  if ! bash "$here/run.sh" "$harness" --seconds "$seconds"; then
    failed+=("$harness")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes (or a harness that did not start) in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crash in any harness ($seconds s each)"
