using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Http;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// <c>GET /console/audit/export?from=FIRST&amp;to=END</c>: a range of ledger entries, each with its inclusion proof against
/// the latest signed checkpoint, as one JSON document an auditor verifies offline with only the ledger's public key
/// (format <c>enclave-audit-export@v1</c>, in <c>docs/console.md</c>). Each entry carries its exact bytes and a C2SP
/// tlog-proof (<c>c2sp.org/tlog-proof@v1</c>: index, proof hashes, the signed checkpoint), so any C2SP tool verifies
/// it too. Recorded as <c>ledger.exported</c> (<c>via: console</c>) with the auditor as actor.
/// </summary>
public static class AuditExport
{
    /// <summary>The document's format name.</summary>
    public const string Format = "enclave-audit-export@v1";

    /// <summary>Most entries one export holds (a larger range is refused: export it in parts).</summary>
    public const int MaxEntries = 2000;

    /// <summary>Answers the export, or a plain-text 400 (a bad range) or 409 (no signed checkpoint yet).</summary>
    public static async Task<IResult> HandleAsync(HttpContext http, SqliteLedger ledger, TimeProvider clock, string? from, string? to)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(clock);
        var checkpoint = ledger.LatestCheckpoint();
        if (checkpoint is null || checkpoint.Size == 0)
        {
            return Refuse(StatusCodes.Status409Conflict, "409 conflict: the ledger has no signed checkpoint yet, so no entry can be proven; try again in a moment");
        }

        if (!TryIndex(from, 0, out var first) || !TryIndex(to, checkpoint.Size, out var end))
        {
            return Refuse(StatusCodes.Status400BadRequest, $"400 bad request: from and to must be whole ledger indices (from inclusive, to exclusive), e.g. /console/audit/export?from=0&to={Math.Min(checkpoint.Size, MaxEntries)}");
        }

        if (end > checkpoint.Size || first >= end)
        {
            return Refuse(StatusCodes.Status400BadRequest, $"400 bad request: the latest signed checkpoint covers entries 0 to {checkpoint.Size - 1}; choose from < to ≤ {checkpoint.Size} (to is exclusive)");
        }

        if (end - first > MaxEntries)
        {
            return Refuse(StatusCodes.Status400BadRequest, $"400 bad request: {end - first} entries asked for; one export holds at most {MaxEntries}: export the range in parts");
        }

        var entries = new JsonArray();
        for (var index = first; index < end; index++)
        {
            var bytes = ledger.ReadEntry(index);
            var proof = ledger.ProveInclusion(index, checkpoint.Size);
            entries.Add(new JsonObject
            {
                ["index"] = index,
                ["entry"] = Convert.ToBase64String(bytes),
                ["leafHash"] = MerkleHash.Leaf(bytes).ToBase64(),
                ["inclusionProof"] = new JsonArray([.. proof.Select(h => (JsonNode)h.ToBase64())]),
                ["tlogProof"] = new TlogProof { Index = index, Proof = proof, SignedCheckpoint = checkpoint.Note }.Format(),
            });
        }

        var now = clock.GetUtcNow();
        var document = new JsonObject
        {
            ["format"] = Format,
            ["origin"] = ledger.Origin,
            ["exported"] = AuditEvent.FormatTime(now),
            ["exportedBy"] = http.User.PrincipalId(),
            ["from"] = first,
            ["to"] = end,
            ["treeSize"] = checkpoint.Size,
            ["checkpoint"] = checkpoint.Note,
            ["verifierKeys"] = new JsonArray([.. ledger.VerifierKeys.Select(k => (JsonNode)k)]),
            ["entries"] = entries,
        };

        // Who took which entries out is itself in the record, like `enclave ledger export`.
        try
        {
            await ledger.AppendAsync(
                AuditEvent.Create(now, http.User.PrincipalId(), $"ledger:{first}-{end - 1}", new LedgerExportedDetails
                {
                    From = first,
                    To = end - 1,
                    Entries = end - first,
                    Via = "console",
                }),
                http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException)
        {
            return Refuse(StatusCodes.Status503ServiceUnavailable, "503 unavailable: the export could not be recorded in the ledger, so it was not given out: " + e.Message);
        }

        var name = $"enclave-audit-{first}-{end - 1}.json";
        return Results.File(JsonSerializer.SerializeToUtf8Bytes(document, new JsonSerializerOptions { WriteIndented = true }), "application/json", name);
    }

    private static bool TryIndex(string? text, long absent, out long value)
    {
        value = absent;
        return string.IsNullOrEmpty(text) || (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 0);
    }

    private static IResult Refuse(int status, string message) => Results.Text(message + "\n", "text/plain; charset=utf-8", statusCode: status);
}
