using System.Text.Json;
using Enclave.Core;

namespace Enclave.Airlock.Import;

/// <summary>
/// The unsigned selector <c>metadata/bundle.json</c>: which artifact (kind, name, version) the bundle carries. It
/// only chooses among TUF-verified targets; it grants nothing by itself.
/// </summary>
internal sealed record BundleSelector(string Kind, string Name, string Version)
{
    public const string EntryName = "metadata/bundle.json";
    public const string Format = "enclave-bundle/v1";
    public static readonly IReadOnlyList<string> Kinds = ["model", "update", "intel", "dataset"];
    private const int MaxBytes = 64 * 1024;

    public string Prefix => $"{Kind}/{Name}/{Version}/";

    public static BundleSelector Parse(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> metadata)
    {
        if (!metadata.TryGetValue(EntryName, out var bytes))
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"the bundle has no {EntryName} saying which artifact it carries");
        }

        if (bytes.Length > MaxBytes)
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"{EntryName} is {bytes.Length} bytes; the limit is {MaxBytes}");
        }

        JsonDocument document;
        try
        {
            document = CanonicalJson.Parse(bytes.Span, maxDepth: 4);
        }
        catch (EnclaveFormatException e)
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"{EntryName} is not valid JSON ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ImportRejectedException(ImportRejection.Selector, $"{EntryName} must be a JSON object");
            }

            string[] fields = ["format", "kind", "name", "version"];
            var problems = new List<string>();
            foreach (var property in root.EnumerateObject())
            {
                if (!fields.Contains(property.Name, StringComparer.Ordinal))
                {
                    problems.Add($"unknown field '{ArtifactNames.Printable(property.Name)}'");
                }
                else if (property.Value.ValueKind != JsonValueKind.String)
                {
                    problems.Add($"'{property.Name}' must be a string");
                }
            }

            string? Field(string name) =>
                root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

            var format = Field("format");
            var kind = Field("kind");
            var name = Field("name");
            var version = Field("version");
            if (format != Format)
            {
                problems.Add($"format must be \"{Format}\", not {(format is null ? "missing" : $"\"{ArtifactNames.Printable(format)}\"")}");
            }

            if (kind is null || !Kinds.Contains(kind, StringComparer.Ordinal))
            {
                problems.Add($"kind must be one of {string.Join(", ", Kinds)}, not {(kind is null ? "missing" : $"\"{ArtifactNames.Printable(kind)}\"")}");
            }

            if (ArtifactNames.Problem(name, "name") is { } nameProblem)
            {
                problems.Add(nameProblem);
            }

            if (ArtifactNames.Problem(version, "version") is { } versionProblem)
            {
                problems.Add(versionProblem);
            }

            if (problems.Count > 0)
            {
                throw new ImportRejectedException(ImportRejection.Selector, $"{EntryName} is invalid: {string.Join("; ", problems)}");
            }

            return new BundleSelector(kind!, name!, version!);
        }
    }
}

/// <summary>Rules for artifact names, versions, labels and file paths.</summary>
internal static class ArtifactNames
{
    public const int MaxSegment = 128;
    public const int MaxLabel = 256;
    public const int MaxFileSegments = 3;

    public static string? Problem(string? value, string what)
    {
        if (value is null)
        {
            return $"{what} is missing";
        }

        if (value.Length is 0 or > MaxSegment)
        {
            return $"{what} must be 1 to {MaxSegment} characters";
        }

        if (value is "." or ".." || value.Any(c => c is '/' or '\\' or '%' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return $"{what} \"{Printable(value)}\" must be one path segment without spaces, slashes, '%' or control characters";
        }

        return null;
    }

    public static string? LabelProblem(string? label)
    {
        if (string.IsNullOrEmpty(label) || label.Length > MaxLabel || label.Any(char.IsControl) || label.Trim() != label)
        {
            return $"label \"{Printable(label ?? "")}\" must be 1 to {MaxLabel} characters without control characters or surrounding spaces";
        }

        return null;
    }

    /// <summary>Checks the file part of a target path (after <c>KIND/NAME/VERSION/</c>).</summary>
    public static string? FileProblem(string relative)
    {
        var segments = relative.Split('/');
        if (segments.Length > MaxFileSegments)
        {
            return $"file \"{Printable(relative)}\" is nested {segments.Length - 1} folders deep; at most {MaxFileSegments - 1} are allowed";
        }

        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || System.Text.Encoding.UTF8.GetByteCount(segment) > 255
                || segment.Any(c => c is '\\' || char.IsControl(c)))
            {
                return $"file \"{Printable(relative)}\" has an empty, '.', '..', over-long or control-character segment";
            }
        }

        return null;
    }

    /// <summary>Untrusted text made safe and short for messages and the ledger.</summary>
    public static string Printable(string value, int max = 200)
    {
        var text = string.Concat(value.Take(max).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return value.Length > max ? text + "…" : text;
    }
}
