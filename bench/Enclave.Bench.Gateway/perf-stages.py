"""Splits `perf script` samples of the gateway process into the stages of a request, by what is on each sample's stack.

Each sample is counted once: first by the specific rules (an SQLite call under the API key check counts as the key
check, a send(2) under HttpClient as kernel sockets), then by the innermost frame that names a broad stage. Prints each
stage's share of the process's samples and, given the CPU per request (µs) as the first argument, its µs per request.
"""
import collections
import re
import sys

# Specific stages: the first rule the whole stack matches wins.
RULES = [
    ("thread pool: idle workers spinning (sched_yield)", lambda comm, s: "__x64_sys_sched_yield" in s or "LowLevelLifoSemaphore" in s),
    ("ledger sequencer: Ed25519 checkpoint signature", lambda comm, s: comm.startswith("enclave-ledger") and ("SignedNote::Sign" in s or "BouncyCastle" in s)),
    ("ledger sequencer: fsync", lambda comm, s: comm.startswith("enclave-ledger") and "fsync" in s),
    ("ledger sequencer: SQLite statements, WAL writes", lambda comm, s: comm.startswith("enclave-ledger") and ("e_sqlite3" in s or "Sqlite" in s or "pwrite" in s)),
    ("ledger sequencer: Merkle hashing, queue, wake-ups", lambda comm, s: comm.startswith("enclave-ledger")),
    ("auth: API key lookup (ApiKeyStore.Validate, SQLite)", lambda comm, s: "ApiKeyStore::Validate" in s),
    ("audit: prompt and answer digests (RequestAuditor.Digest)", lambda comm, s: "RequestAuditor::Digest" in s),
    ("audit: building, encoding, queueing the two entries", lambda comm, s: re.search(r"AuditEvent::ToCanonicalJson|RequestAuditor::(AdmitAsync|CompleteAsync|Event)|SqliteLedger::Append|MerkleHash::Leaf", s) is not None),
    ("kernel: loopback TCP send/receive, epoll", lambda comm, s: re.search(r"__x64_sys_(sendto|recvfrom|sendmsg|recvmsg|write|read|epoll_wait|epoll_ctl|writev|readv)\b", s) is not None),
]

# Broad stages: the frame nearest the leaf that matches one of these decides (middleware frames sit under every
# request's synchronous part, so only the innermost owner is meaningful).
FRAMES = [
    ("telemetry: OpenTelemetry traces and metrics", re.compile(r"OpenTelemetry|System\.Diagnostics\.(Activity|DiagnosticListener|Metrics)|EnclaveTelemetry")),
    ("upstream call: HttpClient, router, answer parsing", re.compile(r"System\.Net\.Http|OpenAiUpstreamBackend|UpstreamRouter|UpstreamJson|RoutedUpstreamBackend")),
    ("request handler: body, JSON, result", re.compile(r"RequestHandler|OpenAiEndpoints|System\.Text\.Json|HttpResultsHelper")),
    ("auth: authentication and authorization middleware", re.compile(r"Microsoft\.AspNetCore\.Authentication|Microsoft\.AspNetCore\.Authorization|ApiKeyAuthenticationHandler")),
    ("Kestrel and ASP.NET Core: HTTP parsing, routing, response", re.compile(r"Microsoft\.AspNetCore|Kestrel|System\.IO\.Pipelines")),
]

ORDER = [name for name, _ in RULES] + [name for name, _ in FRAMES] + [
    "kernel: context switches, other system calls",
    "other: runtime (GC, stubs), thread pool dispatch, unresolved",
]


def classify(comm, frames):
    stack = "\n".join(frames)
    for name, rule in RULES:
        if rule(comm, stack):
            return name
    for frame in frames:  # leaf first
        for name, pattern in FRAMES:
            if pattern.search(frame):
                return name
    if "[kernel.kallsyms]" in stack:
        return "kernel: context switches, other system calls"
    return "other: runtime (GC, stubs), thread pool dispatch, unresolved"


per_request = float(sys.argv[1]) if len(sys.argv) > 1 else None
counts = collections.Counter()
total = 0
for block in sys.stdin.read().split("\n\n"):
    lines = [l.strip() for l in block.strip().split("\n") if l.strip()]
    if len(lines) < 2:
        continue
    comm = re.split(r"\s+\d+\s", lines[0], maxsplit=1)[0].strip()
    total += 1
    counts[classify(comm, lines[1:])] += 1

print(f"{total} samples" + (f"; {per_request:.0f} µs CPU per request" if per_request else ""))
for name in ORDER:
    share = counts[name] / max(1, total)
    micros = f"  {share * per_request:6.1f} µs" if per_request else ""
    print(f"{share * 100:6.1f}%{micros}  {name}")
