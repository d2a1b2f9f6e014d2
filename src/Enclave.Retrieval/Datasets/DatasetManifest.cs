using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Retrieval.Extraction;

namespace Enclave.Retrieval.Datasets;

/// <summary>
/// The optional <c>manifest.json</c> at the root of a <c>dataset</c> bundle's corpus (a signed target like the
/// documents): where the documents go and the label of each document below the bundle's own.
/// <code>
/// {"vector_store_name": "field manuals", "labels": {"handbook.md": "UNCLASSIFIED", "notes/visits.txt": "CUI"}}
/// </code>
/// <c>vector_store_id</c> (an existing vector store, <c>vs_…</c>) or <c>vector_store_name</c> (a new store; default
/// <c>NAME VERSION</c> of the bundle), not both; <c>labels</c>: document path → marking. Any other member, a duplicate
/// member, text that is not UTF-8 or a manifest over <see cref="MaxBytes"/> is refused.
/// </summary>
public sealed record DatasetManifest
{
    /// <summary>The manifest's path inside the dataset.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The largest manifest read.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>The most entries of <c>labels</c>.</summary>
    public const int MaxLabels = 100_000;

    /// <summary>An existing vector store the documents are added to.</summary>
    public string? VectorStoreId { get; init; }

    /// <summary>The name of the new vector store the documents go into.</summary>
    public string? VectorStoreName { get; init; }

    /// <summary>Document path ('/'-separated, as in the bundle) → its label as a marking.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Reads a manifest.</summary>
    /// <exception cref="DocumentRejectedException">Not a manifest (reason <see cref="DocumentRejection.Malformed"/>,
    /// <see cref="DocumentRejection.InvalidUtf8"/> or <see cref="DocumentRejection.TooLarge"/>); the message lists every problem.</exception>
    public static DatasetManifest Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, $"{FileName} is {utf8.Length} bytes; at most {MaxBytes} are read");
        }

        JsonNode? root;
        try
        {
            root = StrictJson.Parse(utf8, maxDepth: 4);
        }
        catch (JsonException ex)
        {
            // StrictJson names text that is not UTF-8 (or a lone surrogate) in its message; a duplicate member is malformed.
            var reason = !ex.Message.Contains("duplicate", StringComparison.Ordinal)
                && (ex.Message.Contains("UTF-8", StringComparison.Ordinal) || ex.Message.Contains("Unicode", StringComparison.Ordinal))
                ? DocumentRejection.InvalidUtf8
                : DocumentRejection.Malformed;
            throw new DocumentRejectedException(reason, $"{FileName} is not valid JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject obj)
        {
            throw new DocumentRejectedException(DocumentRejection.Malformed, $"{FileName} must be a JSON object");
        }

        var problems = new List<string>();
        string? id = null, name = null;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            switch (key)
            {
                case "vector_store_id":
                    id = Text(value, key, problems);
                    if (id is not null && (!id.StartsWith("vs_", StringComparison.Ordinal) || id.Length > 64 || id.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_')))
                    {
                        problems.Add($"vector_store_id '{Printable(id)}' is not a vector store ID (vs_ and letters or digits)");
                        id = null;
                    }

                    break;
                case "vector_store_name":
                    name = Text(value, key, problems);
                    if (name is not null && (name.Length is 0 or > 256 || name.Any(char.IsControl)))
                    {
                        problems.Add("vector_store_name must be 1 to 256 characters without control characters");
                        name = null;
                    }

                    break;
                case "labels":
                    if (value is not JsonObject map)
                    {
                        problems.Add("labels must be an object of document path to marking");
                        break;
                    }

                    if (map.Count > MaxLabels)
                    {
                        problems.Add($"labels has {map.Count} entries; at most {MaxLabels}");
                        break;
                    }

                    foreach (var (path, marking) in map)
                    {
                        if (Text(marking, $"labels[\"{Printable(path)}\"]", problems) is { } m)
                        {
                            labels[path] = m;
                        }
                    }

                    break;
                default:
                    problems.Add($"unknown member '{Printable(key)}' (known: vector_store_id, vector_store_name, labels)");
                    break;
            }
        }

        if (obj.ContainsKey("vector_store_id") && obj.ContainsKey("vector_store_name"))
        {
            problems.Add("give vector_store_id (an existing store) or vector_store_name (a new one), not both");
        }

        return problems.Count > 0
            ? throw new DocumentRejectedException(DocumentRejection.Malformed, $"{FileName} is refused: {string.Join("; ", problems)}")
            : new DatasetManifest { VectorStoreId = id, VectorStoreName = name, Labels = labels };
    }

    private static string? Text(JsonNode? value, string name, List<string> problems)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var s))
        {
            return s;
        }

        problems.Add($"{name} must be a string");
        return null;
    }

    private static string Printable(string text) =>
        new string(text.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
