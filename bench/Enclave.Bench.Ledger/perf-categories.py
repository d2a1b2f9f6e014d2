"""Groups `perf report --sort comm,dso,sym -F overhead,comm,dso,sym` lines into the parts of a ledger append."""
import collections
import re
import sys

LINE = re.compile(r"\s*([\d.]+)%\s+(.{15})\s+(\S.*?)\s+\[(.)\]\s+(.*)")


def category(dso: str, sym: str) -> str:
    if "ToCanonicalJson" in sym or "CanonicalJson" in sym or "System.Text.Json" in sym or "Encodings.Web" in sym:
        return "canonical JSON encoding"
    if "BouncyCastle" in sym:
        return "Ed25519 checkpoint signature (BouncyCastle)"
    if "e_sqlite3" in dso:
        return "SQLite engine (native)"
    if "Sqlite" in sym or "SQLitePCL" in sym:
        return "Microsoft.Data.Sqlite wrapper"
    if "libcrypto" in dso or "OpenSsl" in dso or "Security.Cryptography" in sym:
        return "SHA-256 via OpenSSL (incl. interop overhead)"
    if "kernel" in dso:
        return "kernel (write(2) copies, fsync, futex, scheduler)"
    if "libcoreclr" in dso or "gc_heap" in sym or "WKS::" in sym:
        return "runtime: GC, allocation, stubs"
    if "libc" in dso or "ld-linux" in dso:
        return "libc (malloc/free, memcpy, locks)"
    if "Enclave.Bench" in sym:
        return "benchmark loop"
    if "Enclave." in sym:
        return "Enclave code (Merkle, sequencer)"
    if "Threading" in sym or "Tasks" in sym or "Channels" in sym or "CompilerServices" in sym:
        return "tasks, channel, thread pool"
    return "other managed code"


totals = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    m = LINE.match(line)
    if not m:
        continue
    share, comm, dso, _, sym = float(m.group(1)), m.group(2).strip(), m.group(3), m.group(4), m.group(5)
    thread = "sequencer" if comm.startswith("enclave-ledger") else ("thread pool" if "TP Worker" in comm else comm)
    totals[thread][category(dso, sym)] += share

for thread, counter in sorted(totals.items(), key=lambda kv: -sum(kv[1].values())):
    print(f"{sum(counter.values()):6.2f}%  {thread}")
    for name, share in counter.most_common():
        if share >= 0.3:
            print(f"    {share:6.2f}%  {name}")
