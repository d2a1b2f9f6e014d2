#!/usr/bin/env bash
# Regenerates the seed corpora fuzz/corpus/<harness>/ with the harness's own seed writers (the producers Enclave
# uses, and the inputs of the parsers' tests). Commit the result; each file stays a few KB.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/build.sh"
for harness in $(dotnet "$here/out/Enclave.Fuzz.dll" list | cut -f1); do
  rm -rf "$here/corpus/$harness"
  dotnet "$here/out/Enclave.Fuzz.dll" seed "$harness" "$here/corpus/$harness"
done
