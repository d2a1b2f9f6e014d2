#!/usr/bin/env bash
# Mutation testing of one verification core with Stryker.NET (a local tool: .config/dotnet-tools.json):
#   bench/mutation/run.sh CORE
# CORE is one of:
#   ledger    src/Enclave.Ledger Merkle/ and Checkpoints/ (Merkle proofs, verifier, compact ranges, checkpoints),
#             killed by tests/Enclave.Ledger.Tests
#   signing   src/Enclave.Signing Notes/ (C2SP signed notes, Ed25519 and ML-DSA-44 cosignatures),
#             killed by tests/Enclave.Signing.Tests
#   policy    src/Enclave.Policy Labels/ and Decisions/ (the label lattice, marking scanner and policy decider),
#             killed by tests/Enclave.Policy.Tests
#   tuf       src/Enclave.Airlock Tuf/ (the TUF updater and metadata parser), killed by the Tuf tests of
#             tests/Enclave.Airlock.Tests
#   bundle    src/Enclave.Airlock Bundles/ (the bundle and tar reader), killed by the Bundles tests of
#             tests/Enclave.Airlock.Tests
#   jwt       src/Enclave.Server Auth/ (JWT and JWKS handling), killed by the Identity tests of
#             tests/Enclave.EndToEnd.Tests (real HTTP on loopback: minutes per mutant)
# Reports (json, html, markdown) go to bench/results/mutation/CORE/ (git-ignored); docs/testing.md has the results
# and the list of equivalent mutants. CPU-heavy: one project at a time, one test run at a time (--concurrency 1);
# not part of CI. Extra arguments go to Stryker (e.g. --since:main). To run part of a core (one file or folder, so
# that a run stays short on a shared machine), set MUTATE to a glob (replacing the core's globs) and FILTER to a test
# filter (replacing the core's); MUTATE may hold several globs separated by spaces, '!' before one excludes it, e.g.
#   MUTATE='**/Merkle/MerkleVerifier.cs' FILTER='FullyQualifiedName~MerkleVerifierTests' bench/mutation/run.sh ledger
#   MUTATE='**/Merkle/*.cs !**/Merkle/MerkleVerifier.cs' bench/mutation/run.sh ledger
# Reports then go to bench/results/mutation/CORE/PART/, PART being MUTATE with its other characters than letters,
# digits, '_' and '.' as '-'.
# Stryker runs under nice -n 19.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

core="${1:-}"
[ $# -gt 0 ] && shift
case "$core" in
  ledger)  tests=tests/Enclave.Ledger.Tests;  project=Enclave.Ledger.csproj;  mutate=("**/Merkle/**/*.cs" "**/Checkpoints/**/*.cs")
           # the unit tests of these folders (seconds per mutant); the SQLite ledger tests add minutes and no kills here
           filter="FullyQualifiedName~Enclave.Ledger.Tests.Merkle|FullyQualifiedName~Enclave.Ledger.Tests.FormatTests" ;;
  signing) tests=tests/Enclave.Signing.Tests; project=Enclave.Signing.csproj; mutate=("**/Notes/**/*.cs"); filter="" ;;
  policy)  tests=tests/Enclave.Policy.Tests;  project=Enclave.Policy.csproj;  mutate=("**/Labels/**/*.cs" "**/Decisions/**/*.cs")
           filter="" ;;
  tuf)     tests=tests/Enclave.Airlock.Tests; project=Enclave.Airlock.csproj; mutate=("**/Tuf/**/*.cs")
           filter="FullyQualifiedName~Enclave.Airlock.Tests.Tuf" ;;
  bundle)  tests=tests/Enclave.Airlock.Tests; project=Enclave.Airlock.csproj; mutate=("**/Bundles/**/*.cs")
           filter="FullyQualifiedName~Enclave.Airlock.Tests.Bundles" ;;
  jwt)     tests=tests/Enclave.EndToEnd.Tests; project=Enclave.Server.csproj; mutate=("**/Auth/**/*.cs")
           filter="FullyQualifiedName~Enclave.EndToEnd.Tests.Identity" ;;
  *) echo "usage: bench/mutation/run.sh ledger|signing|policy|tuf|bundle|jwt [stryker options]" >&2; exit 2 ;;
esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cd "$root"
dotnet tool restore >/dev/null
out="$root/bench/results/mutation/$core"
if [ -n "${MUTATE:-}" ]; then
  read -r -a mutate <<<"$MUTATE"
  out="$out/$(printf '%s' "$MUTATE" | tr -c 'A-Za-z0-9_.' '-')"
fi
[ -n "${FILTER+x}" ] && filter="$FILTER"
mkdir -p "$out"
mutate_args=()
for m in "${mutate[@]}"; do mutate_args+=(--mutate "$m"); done
[ -n "$filter" ] && mutate_args+=(--test-case-filter "$filter")

cd "$root/$tests"
nice -n 19 dotnet stryker --project "$project" "${mutate_args[@]}" --concurrency 1 \
  --reporter progress --reporter cleartext --reporter json --reporter html --reporter markdown \
  --output "$out" --skip-version-check "$@"
echo "bench/mutation/run.sh: reports in $out/reports"
