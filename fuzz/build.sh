#!/usr/bin/env bash
# Publishes the harness to fuzz/out and instruments the Enclave assemblies under test with SharpFuzz (in place,
# once per publish). Used by run.sh and run-all.sh; safe to run again (it republishes only when sources changed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out"
cd "$root"

# FUZZ_SKIP_BUILD=1: use fuzz/out as it is (a long run from a copy of fuzz/ while the sources change).
if [ "${FUZZ_SKIP_BUILD:-0}" = 1 ] && [ -f "$out/.instrumented" ]; then
  exit 0
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null

# Republish when any source the harness builds from, or this script (which names the instrumented assemblies), is
# newer than the last instrumented publish.
stamp="$out/.instrumented"
if [ -f "$stamp" ] && [ ! "$here/build.sh" -nt "$stamp" ] && [ -z "$(find "$root/src" "$here/Enclave.Fuzz" "$root/Directory.Packages.props" "$root/Directory.Build.props" \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$stamp" -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; then
  exit 0
fi

rm -rf "$out"
dotnet publish "$here/Enclave.Fuzz/Enclave.Fuzz.csproj" -c Release -o "$out" -p:EnclaveBuildSlot=fuzz --nologo -v quiet
# Only our assemblies carry afl++ edge coverage: the parsers under test and the code they call.
for assembly in Enclave.Core Enclave.Signing Enclave.Ledger Enclave.Inference Enclave.Airlock Enclave.Server Enclave.Intel Enclave.Retrieval; do
  dotnet sharpfuzz "$out/$assembly.dll" >/dev/null
done
touch "$stamp"
echo "fuzz/build.sh: harness published and instrumented in $out"
