using System.Text.Json;
using Enclave.Core;

namespace Enclave.Airlock.Import;

/// <summary>
/// Checks the attestation targets of an artifact: the SBOM is CycloneDX JSON or SPDX JSON, and the provenance is
/// an in-toto Statement with a SLSA provenance v1 predicate whose subjects are the artifact's content files.
/// Their signatures are the TUF signatures over the targets metadata that lists their digests.
/// </summary>
internal static class AttestationValidator
{
    private static readonly string[] StatementTypes = ["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"];
    private const string SlsaProvenanceV1 = "https://slsa.dev/provenance/v1";

    public static void CheckSbom(string path, string targetPath, long maxBytes)
    {
        using var document = ParseFile(path, targetPath, maxBytes);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(targetPath, "is not a JSON object");
        }

        var isCycloneDx = targetPath.EndsWith(".cdx.json", StringComparison.Ordinal);
        if (isCycloneDx)
        {
            if (String(root, "bomFormat") != "CycloneDX" || String(root, "specVersion") is null)
            {
                throw Invalid(targetPath, "is not a CycloneDX JSON BOM (bomFormat \"CycloneDX\" and specVersion required)");
            }
        }
        else if (String(root, "spdxVersion") is not { } version || !version.StartsWith("SPDX-", StringComparison.Ordinal))
        {
            throw Invalid(targetPath, "is not an SPDX JSON document (spdxVersion \"SPDX-2.x\" required)");
        }
    }

    public static void CheckProvenance(string path, string targetPath, long maxBytes, IReadOnlyCollection<Sha256Digest> contentDigests)
    {
        using var document = ParseFile(path, targetPath, maxBytes);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || String(root, "_type") is not { } type || !StatementTypes.Contains(type, StringComparer.Ordinal))
        {
            throw Invalid(targetPath, $"is not an in-toto Statement (_type must be {StatementTypes[0]})");
        }

        if (String(root, "predicateType") != SlsaProvenanceV1)
        {
            throw Invalid(targetPath, $"has predicateType other than {SlsaProvenanceV1}");
        }

        if (!root.TryGetProperty("subject", out var subjects) || subjects.ValueKind != JsonValueKind.Array || subjects.GetArrayLength() == 0)
        {
            throw Invalid(targetPath, "has no subjects");
        }

        var index = 0;
        foreach (var subject in subjects.EnumerateArray())
        {
            if (subject.ValueKind != JsonValueKind.Object || !subject.TryGetProperty("digest", out var digests)
                || digests.ValueKind != JsonValueKind.Object || String(digests, "sha256") is not { } hex
                || !Sha256Digest.TryParseHex(hex, out var digest))
            {
                throw Invalid(targetPath, $"subject {index} has no sha256 digest");
            }

            if (!contentDigests.Contains(digest))
            {
                throw Invalid(targetPath, $"subject {index} (sha256 {digest.ToHex()}) is not a content file of this artifact");
            }

            index++;
        }
    }

    private static JsonDocument ParseFile(string path, string targetPath, long maxBytes)
    {
        var length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw Invalid(targetPath, $"is {length} bytes; the limit is {maxBytes}");
        }

        try
        {
            return CanonicalJson.Parse(File.ReadAllBytes(path));
        }
        catch (EnclaveFormatException e)
        {
            throw Invalid(targetPath, $"is not valid JSON ({e.Message})");
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static ImportRejectedException Invalid(string targetPath, string what) =>
        new(ImportRejection.Attestation, $"attestation {ArtifactNames.Printable(targetPath)} {what}");
}
