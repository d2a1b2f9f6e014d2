using System.Security.Cryptography;
using System.Text.Json;
using Enclave.Core.Audit;

namespace Enclave.Bench.Ledger;

/// <summary>
/// Realistic <c>request.admitted</c> audit events: token counts, a request ID and SHA-256 digests as hex,
/// about 250 bytes of canonical details and about 370 bytes per canonical event. A fixed pool of distinct
/// details is built up front so the benchmark measures the ledger, not the JSON parser of the benchmark.
/// </summary>
internal sealed class BenchEvents
{
    private readonly JsonElement[] _details;
    private readonly TimeProvider _clock;
    private int _next;

    public BenchEvents(int distinct, int seed, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(distinct, 1);
        _clock = clock;
        var random = new Random(seed); // workload shape only; nothing here is secret
        _details = new JsonElement[distinct];
        for (var i = 0; i < distinct; i++)
        {
            _details[i] = JsonSerializer.SerializeToElement(new Dictionary<string, object>
            {
                ["request_id"] = "req_" + Convert.ToHexStringLower(RandomBytes(random, 12)),
                ["model_digest"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(RandomBytes(random, 16))),
                ["prompt_digest"] = Convert.ToHexStringLower(SHA256.HashData(RandomBytes(random, 16))),
                ["prompt_tokens"] = random.Next(8, 8192),
                ["max_tokens"] = random.Next(16, 4096),
                ["route"] = "/v1/chat/completions",
                ["decision"] = "admitted",
            });
        }
    }

    /// <summary>The next event, stamped with the current time (the caller builds one per request in the server).</summary>
    public AuditEvent Next()
    {
        var i = (int)((uint)Interlocked.Increment(ref _next) % (uint)_details.Length);
        return new AuditEvent
        {
            Type = "request.admitted",
            Time = _clock.GetUtcNow(),
            Actor = "key:ek_bench",
            Subject = "model:demo",
            Details = _details[i],
        };
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
