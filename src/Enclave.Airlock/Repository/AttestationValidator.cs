using System.Text.Json;

namespace Enclave.Airlock.Repository;

/// <summary>
/// Checks the basic shape of attestations before they are signed into a bundle: an SBOM must be CycloneDX JSON
/// (<c>bomFormat</c> "CycloneDX" with a <c>specVersion</c>) or SPDX JSON (<c>spdxVersion</c> "SPDX-..."); provenance
/// must be an in-toto Statement v1 whose predicate is SLSA provenance v1.
/// </summary>
internal static class AttestationValidator
{
    /// <summary>Largest attestation accepted (parsed in memory).</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string SlsaProvenance = "https://slsa.dev/provenance/v1";

    /// <summary>Validates an SBOM; returns its file name in the bundle, <c>sbom.cdx.json</c> or <c>sbom.spdx.json</c>.</summary>
    public static string CheckSbom(string path)
    {
        using var document = Parse(path, "--sbom");
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (root.TryGetProperty("bomFormat", out var format) && format.ValueKind == JsonValueKind.String && format.GetString() == "CycloneDX")
            {
                if (!root.TryGetProperty("specVersion", out var spec) || spec.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(spec.GetString()))
                {
                    throw Invalid($"--sbom {path} says bomFormat \"CycloneDX\" but has no specVersion string");
                }

                return "sbom.cdx.json";
            }

            if (root.TryGetProperty("spdxVersion", out var spdx) && spdx.ValueKind == JsonValueKind.String && spdx.GetString()!.StartsWith("SPDX-", StringComparison.Ordinal))
            {
                return "sbom.spdx.json";
            }
        }

        throw Invalid($"--sbom {path} is neither CycloneDX JSON (bomFormat \"CycloneDX\" with specVersion) nor SPDX JSON (spdxVersion \"SPDX-2.x\"); export the SBOM in one of those formats");
    }

    /// <summary>Validates an in-toto Statement v1 with a SLSA provenance v1 predicate.</summary>
    public static void CheckProvenance(string path)
    {
        using var document = Parse(path, "--provenance");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"--provenance {path} is not a JSON object");
        }

        if (root.TryGetProperty("payloadType", out _) && root.TryGetProperty("payload", out _))
        {
            throw Invalid($"--provenance {path} is a DSSE envelope; pass the in-toto Statement it carries (the base64-decoded payload)");
        }

        var type = StringProperty(root, "_type");
        if (type != StatementType)
        {
            throw Invalid($"--provenance {path} has _type {Quote(type)}; an in-toto Statement v1 has \"{StatementType}\"");
        }

        var predicateType = StringProperty(root, "predicateType");
        if (predicateType != SlsaProvenance)
        {
            throw Invalid($"--provenance {path} has predicateType {Quote(predicateType)}; SLSA provenance v1 is \"{SlsaProvenance}\"");
        }

        if (!root.TryGetProperty("subject", out var subject) || subject.ValueKind != JsonValueKind.Array || subject.GetArrayLength() == 0
            || subject.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.Object || !s.TryGetProperty("digest", out var d) || d.ValueKind != JsonValueKind.Object))
        {
            throw Invalid($"--provenance {path} has no subject list of objects with a digest");
        }

        if (!root.TryGetProperty("predicate", out var predicate) || predicate.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"--provenance {path} has no predicate object");
        }
    }

    private static JsonDocument Parse(string path, string option)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{option} file {path} not found", path);
        }

        if (info.Length > MaxBytes)
        {
            throw Invalid($"{option} {path} is {info.Length} bytes; at most {MaxBytes} are accepted");
        }

        using var stream = info.OpenRead();
        try
        {
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidAttestation, $"{option} {path} is not valid JSON ({e.Message})", e);
        }
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Quote(string? value) => value is null ? "(missing)" : $"\"{value}\"";

    private static TrustRepositoryException Invalid(string message) => new(TrustRepositoryError.InvalidAttestation, message);
}
