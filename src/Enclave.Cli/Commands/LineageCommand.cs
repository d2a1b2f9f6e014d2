using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Core;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave lineage REQUEST-ID | --index N [--json]</c>: what stands behind an answer, asked of the running enclave
/// (<c>GET /admin/v1/lineage/...</c>, roles admin and auditor). Every hop's inclusion proof is checked here against the
/// checkpoint the server named: a hop that does not verify makes the command fail.
/// </summary>
public static class LineageCommand
{
    internal static Command Create(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var requestId = new Argument<string>("REQUEST-ID") { Description = "The request's ID (its answer's X-Request-Id header, req_...).", Arity = ArgumentArity.ZeroOrOne };
        var index = new Option<long?>("--index") { Description = "The ledger index of the request's request.completed or request.admitted entry (its answer's Enclave-Ledger-Index header) instead of an ID." };
        var json = new Option<bool>("--json") { Description = "Print the server's JSON answer (every hop with its entry and proof) for scripts." };
        var command = new Command("lineage", "Show what stands behind an answer: model and digest, the import that activated it, the bundle's TUF versions and signing keys, approvers, SBOM and provenance, the documents retrieved; each hop with its ledger index and a verified inclusion proof (roles admin, auditor).")
        {
            requestId, index, json,
        };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var id = result.GetValue(requestId);
            var at = result.GetValue(index);
            if ((id is null) == (at is null))
            {
                throw new ArgumentException("give either a request ID or --index N (not both)");
            }

            if (at is < 0)
            {
                throw new ArgumentException($"--index must be a ledger index (0 or more), not {at}");
            }

            using var client = connection.CreateClient(result);
            var path = id is not null
                ? "lineage/requests/" + Uri.EscapeDataString(id)
                : "lineage/entries/" + at!.Value.ToString(CultureInfo.InvariantCulture);
            var answer = await client.GetAsync(path, ct).ConfigureAwait(false) as JsonObject
                ?? throw new AdminApiException(502, "Bad answer", "the server's lineage is not a JSON object");
            var failures = Verify(answer);
            if (result.GetValue(json))
            {
                answer["verified"] = failures.Count == 0;
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync(Render(answer)).ConfigureAwait(false);
            }

            foreach (var failure in failures)
            {
                await context.Error.WriteLineAsync("lineage: " + failure).ConfigureAwait(false);
            }

            return failures.Count == 0 ? ExitCode.Success : ExitCode.VerificationFailed;
        }));
        return command;
    }

    /// <summary>Checks every hop's entry bytes against its inclusion proof and the checkpoint's root; returns what failed.</summary>
    public static IReadOnlyList<string> Verify(JsonObject answer)
    {
        var failures = new List<string>();
        var note = answer["checkpoint"]?["note"]?.GetValue<string>();
        var end = note?.IndexOf("\n\n", StringComparison.Ordinal) ?? -1;
        Checkpoint checkpoint;
        try
        {
            checkpoint = end < 0 ? throw new EnclaveFormatException("no checkpoint body") : Checkpoint.Parse(note![..(end + 1)]);
        }
        catch (EnclaveFormatException ex)
        {
            failures.Add($"the answer's checkpoint cannot be read ({ex.Message}); no hop is verified");
            return failures;
        }

        foreach (var hop in answer["hops"]?.AsArray() ?? [])
        {
            var i = hop?["index"]?.GetValue<long>() ?? -1;
            var name = hop?["hop"]?.GetValue<string>() ?? "?";
            try
            {
                var entry = Convert.FromBase64String(hop?["entry"]?.GetValue<string>() ?? string.Empty);
                var proof = (hop?["inclusionProof"]?.AsArray() ?? []).Take(MerkleVerifier.MaxInclusionProofLength + 1)
                    .Select(h => Sha256Digest.TryParseBase64(h?.GetValue<string>() ?? string.Empty, out var d) ? d : throw new FormatException("a proof hash is not 32 bytes of base64"))
                    .ToList();
                if (!MerkleVerifier.VerifyInclusion(MerkleHash.Leaf(entry), i, checkpoint.Size, proof, checkpoint.RootHash))
                {
                    failures.Add($"hop {name} at index {i}: its inclusion proof does not lead to the checkpoint's root (size {checkpoint.Size})");
                }
            }
            catch (FormatException ex)
            {
                failures.Add($"hop {name} at index {i}: {ex.Message}");
            }
        }

        return failures;
    }

    private static string Render(JsonObject a)
    {
        static string S(JsonNode? n) => n is JsonValue v ? v.ToString() : n is null ? "-" : n.ToJsonString();
        var lines = new List<string>
        {
            $"request   {S(a["requestId"])} by {S(a["actor"])} at {S(a["time"])} ({S(a["endpoint"])}, outcome {S(a["outcome"])})",
            $"model     {S(a["model"])} digest {S(a["modelDigest"])} via backend {S(a["backend"])}",
        };
        void AddImport(JsonObject import, string indent)
        {
            lines.Add($"{indent}import    {S(import["importId"])}: {S(import["name"])} {S(import["version"])} ({S(import["label"])}) activated at {S(import["activatedAt"])}, imported by {S(import["importedBy"])}");
            lines.Add($"{indent}bundle    manifest {S(import["manifestSha256"])}; TUF versions {S(import["tufVersions"])}, root version {S(import["rootVersion"])}");
            lines.Add($"{indent}signed by {S(import["signerKeyIds"])}");
            foreach (var approval in import["approvals"]?.AsArray() ?? [])
            {
                lines.Add($"{indent}approved  by {S(approval?["approver"])} at {S(approval?["time"])} (entry {S(approval?["index"])})");
            }

            lines.Add($"{indent}sbom      {S(import["sbomSha256"])}; provenance {S(import["provenanceSha256"])}");
        }

        if (a["import"] is JsonObject modelImport)
        {
            AddImport(modelImport, string.Empty);
        }
        else
        {
            lines.Add("import    none: the model is configured (an upstream or a development model), not imported through the airlock");
        }

        foreach (var d in a["documents"]?.AsArray() ?? [])
        {
            lines.Add($"document  {S(d?["fileId"])} {S(d?["filename"])} ({S(d?["label"])}) sha256 {S(d?["sha256"])}, uploaded by {S(d?["uploadedBy"])} at {S(d?["uploadedAt"])} (entry {S(d?["uploadIndex"])})");
            if (d?["import"] is JsonObject datasetImport)
            {
                // A document of a dataset bundle: the bundle's import, indented under the document.
                AddImport(datasetImport, "  ");
            }
        }

        lines.Add($"hops (inclusion proofs verified against the checkpoint of size {S(a["checkpoint"]?["size"])}):");
        foreach (var hop in a["hops"]?.AsArray() ?? [])
        {
            lines.Add($"  {S(hop?["index"]),8}  {S(hop?["hop"])}");
        }

        return string.Join(Environment.NewLine, lines);
    }
}
