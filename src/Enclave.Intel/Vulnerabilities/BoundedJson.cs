using System.Text.Json;
using System.Text.Unicode;

namespace Enclave.Intel.Vulnerabilities;

/// <summary>Strict, bounded JSON for untrusted vulnerability data: size, depth, duplicate keys, UTF-8, and typed member access.</summary>
internal static class BoundedJson
{
    /// <summary>Reads a whole stream, refusing more than <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAll(Stream stream, long maxBytes, string where)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new VulnerabilityDataException(VulnerabilityDataRejection.TooLarge, $"{where}: larger than the limit of {maxBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Parses UTF-8 JSON strictly: valid UTF-8, no comments, no trailing commas, no duplicate names, bounded depth.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, int maxDepth, long maxBytes, string where)
    {
        if (utf8.Length > maxBytes)
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.TooLarge, $"{where}: {utf8.Length} bytes, larger than the limit of {maxBytes}");
        }

        if (!Utf8.IsValid(utf8.Span))
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.InvalidUtf8, $"{where}: not valid UTF-8");
        }

        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions
            {
                MaxDepth = maxDepth,
                AllowTrailingCommas = false,
                CommentHandling = JsonCommentHandling.Disallow,
                AllowDuplicateProperties = false,
            });

            // JsonDocument checks no surrogate escapes: a lone one (\ud800) would throw InvalidOperationException
            // wherever the string is first read (found by fuzz/, harnesses osv, sbom, vex, kev).
            Enclave.Core.StrictJson.ValidateStrings(document.RootElement);
            return document;
        }
        catch (InvalidOperationException ex)
        {
            // The duplicate-member check decodes every member name and throws this for a lone surrogate escape.
            document?.Dispose();
            throw new VulnerabilityDataException(VulnerabilityDataRejection.InvalidJson, $"{where}: invalid JSON: a member name is not valid Unicode ({ex.Message})", ex);
        }
        catch (JsonException ex)
        {
            document?.Dispose();
            var reason = ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? VulnerabilityDataRejection.TooDeep
                : ex.Message.Contains("uplicate", StringComparison.Ordinal)
                    ? VulnerabilityDataRejection.DuplicateKey
                    : VulnerabilityDataRejection.InvalidJson;
            var line = ex.LineNumber is { } l ? $" at line {l + 1}" : "";
            throw new VulnerabilityDataException(reason, $"{where}: {Describe(reason)}{line}: {ex.Message}", ex);
        }
    }

    private static string Describe(VulnerabilityDataRejection reason) => reason switch
    {
        VulnerabilityDataRejection.TooDeep => "JSON nested too deeply",
        VulnerabilityDataRejection.DuplicateKey => "duplicate JSON member",
        _ => "invalid JSON",
    };

    public static VulnerabilityDataException Invalid(string where, string what) =>
        new(VulnerabilityDataRejection.InvalidField, $"{where}: {what}");

    public static JsonElement RequireObject(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(where, $"expected an object, found {element.ValueKind}");
        }

        return element;
    }

    public static string RequireString(JsonElement parent, string name, string where)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            throw Invalid(where, $"\"{name}\" is missing");
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Invalid(where, $"\"{name}\" must be a string, found {value.ValueKind}");
    }

    public static string? OptionalString(JsonElement parent, string name, string where)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Invalid(where, $"\"{name}\" must be a string, found {value.ValueKind}");
    }

    /// <summary>An optional array (absent or null: empty), bounded to <paramref name="maxItems"/>.</summary>
    public static IEnumerable<JsonElement> OptionalArray(JsonElement parent, string name, int maxItems, string where)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(where, $"\"{name}\" must be an array, found {value.ValueKind}");
        }

        var count = value.GetArrayLength();
        if (count > maxItems)
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.TooManyItems, $"{where}: \"{name}\" has {count} items, more than the limit of {maxItems}");
        }

        return value.EnumerateArray();
    }

    public static IReadOnlyList<string> OptionalStringArray(JsonElement parent, string name, int maxItems, string where)
    {
        var list = new List<string>();
        var i = 0;
        foreach (var item in OptionalArray(parent, name, maxItems, where))
        {
            list.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw Invalid(where, $"\"{name}[{i}]\" must be a string, found {item.ValueKind}"));
            i++;
        }

        return list;
    }
}
