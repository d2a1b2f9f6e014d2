"""Groups `perf report --sort dso,sym -t '|' -F overhead,dso,sym` lines of the gateway process into the parts of a request."""
import collections
import re
import sys

LINE = re.compile(r"\s*([\d.]+)%\s*\|([^|]*)\|\s*\[(.)\]\s+(.*)")

# Order matters: the first match wins.
RULES = [
    ("kernel: TCP/loopback, epoll, futex, scheduler", lambda d, s: "kernel" in d),
    ("SQLite engine (native)", lambda d, s: "e_sqlite3" in d),
    ("Microsoft.Data.Sqlite wrapper", lambda d, s: "Sqlite" in s or "SQLitePCL" in s),
    ("Ed25519 checkpoint signature (BouncyCastle)", lambda d, s: "BouncyCastle" in s),
    ("OpenSSL (SHA-256, RNG)", lambda d, s: "libcrypto" in d or "libssl" in d or "OpenSsl" in d),
    ("canonical JSON (Enclave.Core)", lambda d, s: "CanonicalJson" in s or "AuditEvent" in s),
    ("System.Text.Json (JsonNode, reader, writer)", lambda d, s: "System.Text.Json" in s or "System.Text.Encodings" in s),
    ("OpenTelemetry, Activity, metrics", lambda d, s: "OpenTelemetry" in s or "System.Diagnostics.Activity" in s or "DiagnosticListener" in s
        or "System.Diagnostics.Metrics" in s or "Tag" in s and "System.Diagnostics" in s),
    ("Enclave code (server, router, ledger)", lambda d, s: "Enclave." in s),
    ("Kestrel, ASP.NET Core (routing, auth, hosting)", lambda d, s: "Microsoft.AspNetCore" in s or "Microsoft.Extensions" in s),
    ("HttpClient (System.Net.Http)", lambda d, s: "System.Net.Http" in s),
    ("sockets, pipelines", lambda d, s: "System.Net.Sockets" in s or "System.IO.Pipelines" in s),
    ("tasks, thread pool, locks", lambda d, s: "Threading" in s or "Tasks" in s or "CompilerServices" in s),
    ("runtime: GC, allocation, stubs, JIT", lambda d, s: "libcoreclr" in d or "libclrjit" in d or "gc_heap" in s or "WKS::" in s or "SVR::" in s),
    ("libc (malloc/free, memcpy)", lambda d, s: "libc" in d or "ld-linux" in d),
    ("System.Private.CoreLib other (strings, collections, hashing)", lambda d, s: "System." in s),
]

totals = collections.Counter()
for line in sys.stdin:
    m = LINE.match(line)
    if not m:
        continue
    share, dso, sym = float(m.group(1)), m.group(2).strip(), m.group(4)
    name = next((n for n, rule in RULES if rule(dso, sym)), "other (" + dso + ")")
    totals[name] += share

for name, share in totals.most_common():
    if share >= 0.2:
        print(f"{share:6.2f}%  {name}")
