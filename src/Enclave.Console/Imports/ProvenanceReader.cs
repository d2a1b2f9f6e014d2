using System.Text.Json;
using Enclave.Airlock.Import;
using Enclave.Core;

namespace Enclave.OperatorConsole.Imports;

/// <summary>
/// Reads an import's provenance attestation (an in-toto Statement with a SLSA provenance v1 predicate) for the console's
/// import page: its builder, build type, materials and subjects, and whether it is verified: its bytes are the ones the
/// signed TUF metadata lists, it is an in-toto Statement of SLSA provenance v1, and every subject is a content file of the
/// artifact (what the airlock checked at import, checked again). The document is untrusted: parsed strictly (duplicate
/// members, invalid UTF-8 anywhere, trailing data refused), bounded in size, and each list and string shown is bounded too; a
/// document that cannot be read is "not verified" with the reason, never an error page.
/// </summary>
public static class ProvenanceReader
{
    /// <summary>At most this many subjects and materials are shown (the rest counted).</summary>
    public const int MaxItems = 200;

    /// <summary>A longer string (a URI, a name) is shown cut to this many characters.</summary>
    public const int MaxText = 512;

    private static readonly string[] StatementTypes = ["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"];
    private const string SlsaProvenanceV1 = "https://slsa.dev/provenance/v1";

    /// <summary>
    /// Reads <paramref name="document"/>, the provenance target <paramref name="target"/> of an import whose content files
    /// are <paramref name="content"/>; a document over <paramref name="maxBytes"/> is not read.
    /// </summary>
    public static ProvenanceEvidence Read(ReadOnlySpan<byte> document, ImportedTarget target, IReadOnlyList<ImportedTarget> content, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(content);
        var problems = new List<string>();
        if (document.Length > maxBytes)
        {
            return Unread(target, $"it is {document.Length} bytes; the limit is {maxBytes}");
        }

        if (Sha256Digest.Compute(document) != target.Sha256)
        {
            problems.Add("its bytes are not those the signed metadata lists (SHA-256 differs)");
        }

        if (!System.Text.Unicode.Utf8.IsValid(document))
        {
            // JSON text is UTF-8; a reader that never reads a member's value would let invalid bytes in it pass.
            return Unread(target, "it is not valid JSON (it is not valid UTF-8)");
        }

        JsonDocument json;
        try
        {
            json = CanonicalJson.Parse(document);
        }
        catch (EnclaveFormatException e)
        {
            return Unread(target, $"it is not valid JSON ({e.Message})");
        }

        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Unread(target, "it is not a JSON object");
            }

            if (String(root, "_type") is not { } type || !StatementTypes.Contains(type, StringComparer.Ordinal))
            {
                problems.Add($"it is not an in-toto Statement (_type must be {StatementTypes[0]})");
            }

            var predicateType = String(root, "predicateType");
            if (predicateType != SlsaProvenanceV1)
            {
                problems.Add($"its predicateType is not {SlsaProvenanceV1}");
            }

            var files = content.Where(t => t.Type == "content").GroupBy(t => t.Sha256).ToDictionary(g => g.Key, g => g.First().RelativePath);
            var subjects = new List<ProvenanceSubject>();
            var subjectCount = 0;
            if (root.TryGetProperty("subject", out var subjectArray) && subjectArray.ValueKind == JsonValueKind.Array)
            {
                foreach (var subject in subjectArray.EnumerateArray())
                {
                    subjectCount++;
                    var hex = subject.ValueKind == JsonValueKind.Object ? String(Object(subject, "digest"), "sha256") : null;
                    string? file = null;
                    if (hex is null || !Sha256Digest.TryParseHex(hex, out var digest))
                    {
                        problems.Add($"subject {subjectCount - 1} has no sha256 digest");
                    }
                    else if (!files.TryGetValue(digest, out file))
                    {
                        problems.Add($"subject {subjectCount - 1} (sha256 {Cut(hex)}) is not a content file of this artifact");
                    }

                    if (subjects.Count < MaxItems)
                    {
                        subjects.Add(new ProvenanceSubject { Name = Cut(subject.ValueKind == JsonValueKind.Object ? String(subject, "name") : null), Sha256 = Cut(hex), File = file });
                    }
                }
            }

            if (subjectCount == 0)
            {
                problems.Add("it has no subjects");
            }

            var predicate = Object(root, "predicate");
            var definition = Object(predicate, "buildDefinition");
            var run = Object(predicate, "runDetails");
            var materials = new List<ProvenanceMaterial>();
            var materialCount = 0;
            if (definition.ValueKind == JsonValueKind.Object && definition.TryGetProperty("resolvedDependencies", out var dependencies) && dependencies.ValueKind == JsonValueKind.Array)
            {
                foreach (var dependency in dependencies.EnumerateArray())
                {
                    materialCount++;
                    if (materials.Count < MaxItems && dependency.ValueKind == JsonValueKind.Object)
                    {
                        var digests = Object(dependency, "digest");
                        var digest = digests.ValueKind == JsonValueKind.Object
                            ? string.Join(", ", digests.EnumerateObject().Take(4).Select(d => $"{Cut(d.Name)}:{Cut(d.Value.ValueKind == JsonValueKind.String ? d.Value.GetString() : null)}"))
                            : null;
                        materials.Add(new ProvenanceMaterial { Uri = Cut(String(dependency, "uri") ?? String(dependency, "name")), Digest = string.IsNullOrEmpty(digest) ? "—" : digest });
                    }
                }
            }

            return new ProvenanceEvidence
            {
                File = target.RelativePath,
                Verified = problems.Count == 0,
                Problems = problems,
                PredicateType = predicateType is null ? null : Cut(predicateType),
                Builder = String(Object(run, "builder"), "id") is { } builder ? Cut(builder) : null,
                BuildType = String(definition, "buildType") is { } buildType ? Cut(buildType) : null,
                InvocationId = String(Object(run, "metadata"), "invocationId") is { } invocation ? Cut(invocation) : null,
                Subjects = subjects,
                SubjectCount = subjectCount,
                Materials = materials,
                MaterialCount = materialCount,
            };
        }
    }

    private static ProvenanceEvidence Unread(ImportedTarget target, string why) => new()
    {
        File = target.RelativePath,
        Verified = false,
        Problems = [why],
        Subjects = [],
        Materials = [],
    };

    private static JsonElement Object(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : default;

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Cut(string? text) => text is null ? "—" : text.Length <= MaxText ? text : text[..MaxText] + "…";
}

/// <summary>What the import page shows of an import's provenance attestation.</summary>
public sealed record ProvenanceEvidence
{
    /// <summary>The attestation's path in the artifact.</summary>
    public required string File { get; init; }

    /// <summary>Whether it is the signed one, an in-toto Statement of SLSA provenance v1, and every subject is a content file of the artifact.</summary>
    public required bool Verified { get; init; }

    /// <summary>Why it is not verified (empty when it is).</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    public string? PredicateType { get; init; }

    /// <summary>The builder's ID (<c>runDetails.builder.id</c>).</summary>
    public string? Builder { get; init; }

    /// <summary><c>buildDefinition.buildType</c>.</summary>
    public string? BuildType { get; init; }

    /// <summary><c>runDetails.metadata.invocationId</c>.</summary>
    public string? InvocationId { get; init; }

    /// <summary>The subjects (at most <see cref="ProvenanceReader.MaxItems"/>).</summary>
    public required IReadOnlyList<ProvenanceSubject> Subjects { get; init; }

    public int SubjectCount { get; init; }

    /// <summary>The materials (<c>buildDefinition.resolvedDependencies</c>, at most <see cref="ProvenanceReader.MaxItems"/>).</summary>
    public required IReadOnlyList<ProvenanceMaterial> Materials { get; init; }

    public int MaterialCount { get; init; }
}

/// <summary>One subject of a provenance statement.</summary>
public sealed record ProvenanceSubject
{
    public required string Name { get; init; }

    /// <summary>Its sha256 digest as the statement gives it.</summary>
    public required string Sha256 { get; init; }

    /// <summary>The artifact's content file with that digest; null when none has it.</summary>
    public string? File { get; init; }
}

/// <summary>One material (resolved dependency) of a build.</summary>
public sealed record ProvenanceMaterial
{
    public required string Uri { get; init; }

    /// <summary>Its digests, <c>ALGORITHM:HEX</c>.</summary>
    public required string Digest { get; init; }
}
