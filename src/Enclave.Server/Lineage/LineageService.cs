using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;

namespace Enclave.Server.Lineage;

/// <summary>
/// The lineage of one answer, read from the ledger alone: the request's <c>request.completed</c> and
/// <c>request.admitted</c> entries → the model and its digest → the <c>import.activated</c> entry that made the model
/// servable → its <c>import.verified</c> entry (TUF role versions, the root version, the signing key IDs, manifest, SBOM
/// and provenance digests) → the <c>import.approved</c> entries (approvers and times) → for a request with retrieval,
/// the <c>retrieval.searched</c> entries that fed it and the <c>file.uploaded</c> entries of the documents returned, and
/// for a document of a <c>dataset</c> bundle the import chain of that bundle (<c>import.activated</c>, approvals,
/// <c>import.verified</c>).
/// Every hop carries its ledger index, its exact entry bytes and an inclusion proof against one signed checkpoint, so
/// that a tool can check each hop offline (<c>enclave lineage</c> does). Lookups walk the ledger backwards from the
/// request, at most <see cref="MaxScan"/> entries per lookup.
/// </summary>
internal sealed class LineageService(SqliteLedger ledger)
{
    /// <summary>The most entries one lookup reads (a request ID, an activation, a document's upload).</summary>
    public const long MaxScan = 1_000_000;

    /// <summary>The most retrieval searches and documents followed for one request.</summary>
    public const int MaxDocuments = 256;

    /// <summary>The lineage of the request with this ID.</summary>
    /// <exception cref="LineageException">No request with that ID among the last <see cref="MaxScan"/> entries.</exception>
    public async Task<JsonObject> ForRequestAsync(string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        var needle = Encoding.UTF8.GetBytes(requestId);
        var found = Find(ledger.Size - 1, e => e.Type is "request.completed" or "request.admitted" && Str(e, "requestId") == requestId, needle);
        return found is null
            ? throw new LineageException(LineageError.NotFound, $"no request '{requestId}' among the ledger's last {MaxScan} entries")
            : await FromRequestEntryAsync(found.Value.Index, found.Value.Event, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lineage of the request whose <c>request.completed</c> or <c>request.admitted</c> entry is at <paramref name="index"/>.</summary>
    /// <exception cref="LineageException">No entry there, or not a request entry.</exception>
    public async Task<JsonObject> ForIndexAsync(long index, CancellationToken cancellationToken)
    {
        if (index < 0 || index >= ledger.Size)
        {
            throw new LineageException(LineageError.NotFound, $"the ledger has no entry {index} (its size is {ledger.Size})");
        }

        var entry = AuditEvent.Parse(ledger.ReadEntry(index));
        return entry.Type is "request.completed" or "request.admitted"
            ? await FromRequestEntryAsync(index, entry, cancellationToken).ConfigureAwait(false)
            : throw new LineageException(LineageError.NotARequest, $"entry {index} is a {entry.Type}, not a request.completed or request.admitted entry; give the index of a request's entry");
    }

    private async Task<JsonObject> FromRequestEntryAsync(long index, AuditEvent entry, CancellationToken cancellationToken)
    {
        var hops = new List<(string Hop, long Index)>();
        long admittedIndex;
        AuditEvent admitted;
        long? completedIndex = null;
        AuditEvent? completed = null;
        var requestId = Str(entry, "requestId") ?? string.Empty;
        if (entry.Type == "request.completed")
        {
            (completedIndex, completed) = (index, entry);
            admittedIndex = Num(entry, "admittedIndex") ?? throw new LineageException(LineageError.NotARequest, $"entry {index} names no admittedIndex");
            admitted = AuditEvent.Parse(ledger.ReadEntry(admittedIndex));
        }
        else
        {
            (admittedIndex, admitted) = (index, entry);
            var needle = Encoding.UTF8.GetBytes(requestId);
            var later = FindForward(index + 1, e => e.Type == "request.completed" && Str(e, "requestId") == requestId, needle);
            if (later is not null)
            {
                (completedIndex, completed) = (later.Value.Index, later.Value.Event);
            }
        }

        if (completedIndex is { } c)
        {
            hops.Add(("request.completed", c));
        }

        hops.Add(("request.admitted", admittedIndex));
        var model = admitted.Subject.StartsWith("model:", StringComparison.Ordinal) ? admitted.Subject["model:".Length..] : Str(admitted, "model") ?? string.Empty;
        var summary = new JsonObject
        {
            ["requestId"] = requestId,
            ["actor"] = admitted.Actor,
            ["time"] = admitted.Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["endpoint"] = Str(admitted, "endpoint"),
            ["model"] = model,
            ["modelDigest"] = completed is null ? null : Str(completed, "modelDigest"),
            ["backend"] = completed is null ? Str(admitted, "backend") : Str(completed, "backend"),
            ["outcome"] = completed is null ? null : Str(completed, "outcome"),
        };

        // The import that made the model servable: the last activation of a model of that name before the request.
        var activation = Find(admittedIndex - 1, e => e.Type == "import.activated" && Str(e, "kind") == "model" && Str(e, "name") == model, Encoding.UTF8.GetBytes(model));
        if (activation is { } act)
        {
            hops.Add(("import.activated", act.Index));
            summary["import"] = ImportChain(act.Index, act.Event, hops);
        }
        else
        {
            summary["import"] = null; // configured (an upstream or a development model): no airlock import stands behind it
        }

        // Retrieval: the searches that fed the request and the documents they returned.
        var documents = new JsonArray();
        var searches = new JsonArray();
        var seenFiles = new HashSet<string>(StringComparer.Ordinal);
        var imports = new Dictionary<string, JsonNode>(StringComparer.Ordinal); // dataset imports already followed
        foreach (var searchIndex in (admitted.Details is { } d && d.TryGetProperty("retrieval", out var r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray() : default)
                     .Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt64()).Where(i => i >= 0 && i < admittedIndex).Take(MaxDocuments))
        {
            var search = AuditEvent.Parse(ledger.ReadEntry(searchIndex));
            if (search.Type != "retrieval.searched")
            {
                continue;
            }

            hops.Add(("retrieval.searched", searchIndex));
            var results = search.Details is { } sd && sd.TryGetProperty("results", out var rs) && rs.ValueKind == JsonValueKind.Array ? rs : default;
            searches.Add(new JsonObject { ["index"] = searchIndex, ["vectorStoreId"] = Str(search, "vectorStoreId"), ["results"] = results.ValueKind == JsonValueKind.Array ? results.GetArrayLength() : 0 });
            if (results.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var result in results.EnumerateArray())
            {
                var fileId = result.TryGetProperty("fileId", out var f) ? f.GetString() : null;
                if (fileId is null || seenFiles.Count >= MaxDocuments || !seenFiles.Add(fileId))
                {
                    continue;
                }

                var upload = Find(searchIndex - 1, e => e.Type == "file.uploaded" && e.Subject == fileId, Encoding.UTF8.GetBytes(fileId));
                var document = new JsonObject
                {
                    ["fileId"] = fileId,
                    ["sha256"] = result.TryGetProperty("sha256", out var s) ? s.GetString() : null,
                };
                if (upload is { } up)
                {
                    hops.Add(("file.uploaded", up.Index));
                    document["uploadIndex"] = up.Index;
                    document["uploadedBy"] = up.Event.Actor;
                    document["uploadedAt"] = up.Event.Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
                    document["filename"] = Str(up.Event, "filename");
                    document["label"] = Str(up.Event, "highestLabel");

                    // A document of a dataset bundle: on to the bundle's import (activated, approved, verified).
                    if (Str(up.Event, "importId") is { } importId)
                    {
                        if (imports.TryGetValue(importId, out var known))
                        {
                            document["import"] = known.DeepClone();
                            documents.Add(document);
                            continue;
                        }

                        var importSubject = "import:" + importId;
                        var activated = Find(up.Index - 1, e => e.Type == "import.activated" && e.Subject == importSubject, Encoding.UTF8.GetBytes(importSubject));
                        if (activated is { } a)
                        {
                            hops.Add(("import.activated", a.Index));
                            document["import"] = ImportChain(a.Index, a.Event, hops);
                        }
                        else
                        {
                            document["import"] = new JsonObject { ["importId"] = importId, ["activatedIndex"] = null };
                        }

                        imports[importId] = document["import"]!;
                    }
                }

                documents.Add(document);
            }
        }

        summary["retrieval"] = searches;
        summary["documents"] = documents;

        var ordered = hops.DistinctBy(h => h.Index).ToList();
        var checkpoint = ledger.LatestCheckpoint();
        var highest = ordered.Max(h => h.Index);
        if (checkpoint is null || checkpoint.Size <= highest)
        {
            checkpoint = await ledger.CheckpointAsync(cancellationToken).ConfigureAwait(false);
        }

        summary["checkpoint"] = new JsonObject { ["size"] = checkpoint.Size, ["note"] = checkpoint.Note };
        summary["hops"] = new JsonArray([.. ordered.Select(h => (JsonNode)Hop(h.Hop, h.Index, checkpoint.Size))]);
        return summary;
    }

    /// <summary>The activation, the verification before it and the approvals between them, for one import.</summary>
    private JsonObject ImportChain(long activatedIndex, AuditEvent activated, List<(string Hop, long Index)> hops)
    {
        var subject = activated.Subject;
        var needle = Encoding.UTF8.GetBytes(subject);
        var chain = new JsonObject
        {
            ["importId"] = subject.StartsWith("import:", StringComparison.Ordinal) ? subject["import:".Length..] : subject,
            ["activatedIndex"] = activatedIndex,
            ["activatedAt"] = activated.Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["name"] = Str(activated, "name"),
            ["version"] = Str(activated, "version"),
            ["label"] = Str(activated, "label"),
            ["manifestSha256"] = Str(activated, "manifest_sha256"),
        };
        var approvals = new JsonArray();
        (long Index, AuditEvent Event)? verified = null;
        var stop = Math.Max(0, activatedIndex - MaxScan);
        for (var i = activatedIndex - 1; i >= stop; i--)
        {
            var bytes = ledger.ReadEntry(i);
            if (bytes.AsSpan().IndexOf(needle) < 0)
            {
                continue;
            }

            var e = AuditEvent.Parse(bytes);
            if (e.Subject != subject)
            {
                continue;
            }

            if (e.Type == "import.approved")
            {
                hops.Add(("import.approved", i));
                approvals.Insert(0, new JsonObject { ["index"] = i, ["approver"] = e.Actor, ["time"] = e.Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture) });
            }
            else if (e.Type == "import.verified")
            {
                verified = (i, e);
                break;
            }
        }

        chain["approvals"] = approvals;
        if (verified is { } v)
        {
            hops.Add(("import.verified", v.Index));
            chain["verifiedIndex"] = v.Index;
            var details = v.Event.Details!.Value;
            JsonNode? Node(string name) => details.TryGetProperty(name, out var p) ? JsonNode.Parse(p.GetRawText()) : null;
            var tuf = Node("tuf_versions");
            chain["tufVersions"] = tuf;
            chain["rootVersion"] = tuf?["root"]?.DeepClone();
            chain["signerKeyIds"] = Node("signer_key_ids");
            chain["sbomSha256"] = Node("sbom_sha256");
            chain["provenanceSha256"] = Node("provenance_sha256");
            chain["importedBy"] = v.Event.Actor;
        }

        return chain;
    }

    private JsonObject Hop(string hop, long index, long treeSize)
    {
        var bytes = ledger.ReadEntry(index);
        return new JsonObject
        {
            ["hop"] = hop,
            ["index"] = index,
            ["entry"] = Convert.ToBase64String(bytes),
            ["event"] = JsonNode.Parse(bytes),
            ["inclusionProof"] = new JsonArray([.. ledger.ProveInclusion(index, treeSize).Select(h => (JsonNode)h.ToBase64())]),
        };
    }

    private (long Index, AuditEvent Event)? Find(long from, Func<AuditEvent, bool> match, byte[] needle)
    {
        var stop = Math.Max(0, from - MaxScan + 1);
        for (var i = from; i >= stop; i--)
        {
            var bytes = ledger.ReadEntry(i);
            if (bytes.AsSpan().IndexOf(needle) < 0)
            {
                continue;
            }

            var e = AuditEvent.Parse(bytes);
            if (match(e))
            {
                return (i, e);
            }
        }

        return null;
    }

    private (long Index, AuditEvent Event)? FindForward(long from, Func<AuditEvent, bool> match, byte[] needle)
    {
        var end = Math.Min(ledger.Size, from + MaxScan);
        for (var i = from; i < end; i++)
        {
            var bytes = ledger.ReadEntry(i);
            if (bytes.AsSpan().IndexOf(needle) >= 0 && AuditEvent.Parse(bytes) is var e && match(e))
            {
                return (i, e);
            }
        }

        return null;
    }

    private static string? Str(AuditEvent e, string name) =>
        e.Details is { } d && d.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static long? Num(AuditEvent e, string name) =>
        e.Details is { } d && d.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out var n) ? n : null;
}
