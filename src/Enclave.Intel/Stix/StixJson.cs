using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Enclave.Intel.Stix;

/// <summary>
/// Bounded JSON intake for untrusted intel files: size, UTF-8, well-formedness, depth, string length and duplicate
/// keys are checked in one forward pass with <see cref="Utf8JsonReader"/> before a <see cref="JsonDocument"/> is built.
/// </summary>
internal static class StixJson
{
    public static byte[] ReadBounded(Stream stream, long maxBytes, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek && stream.Length - stream.Position > maxBytes)
        {
            throw new StixRejectedException(StixRejection.TooLarge, $"{source} is {stream.Length - stream.Position} bytes, more than the limit of {maxBytes}");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new StixRejectedException(StixRejection.TooLarge, $"{source} is more than the limit of {maxBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Checks <paramref name="utf8"/> and parses it; throws <see cref="StixRejectedException"/> naming what and where.</summary>
    public static JsonDocument Parse(ReadOnlySpan<byte> utf8, int maxDepth, int maxStringLength, string source)
    {
        if (!Utf8.IsValid(utf8))
        {
            // Linear: decode scalar by scalar to the first invalid sequence.
            var valid = 0;
            while (valid < utf8.Length && Rune.DecodeFromUtf8(utf8[valid..], out _, out var consumed) == OperationStatus.Done)
            {
                valid += consumed;
            }

            throw new StixRejectedException(StixRejection.InvalidUtf8, $"{source}: invalid UTF-8 at or near byte offset {valid}");
        }

        Validate(utf8, maxDepth, maxStringLength, source);
        try
        {
            return JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = maxDepth + 1, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw new StixRejectedException(StixRejection.MalformedJson, $"{source}: {ex.Message}", ex);
        }
    }

    private static void Validate(ReadOnlySpan<byte> utf8, int maxDepth, int maxStringLength, string source)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = maxDepth + 1, CommentHandling = JsonCommentHandling.Disallow });
        var keys = new Stack<HashSet<string>?>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (reader.CurrentDepth >= maxDepth)
                        {
                            throw new StixRejectedException(StixRejection.TooDeep, $"{source}: nesting deeper than {maxDepth} at byte offset {reader.TokenStartIndex}");
                        }

                        keys.Push(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        CheckLength(ref reader, maxStringLength, source);
                        var name = ReadText(ref reader, source);
                        if (!keys.Peek()!.Add(name))
                        {
                            throw new StixRejectedException(StixRejection.DuplicateKey, $"{source}: duplicate key \"{Truncate(name)}\" at byte offset {reader.TokenStartIndex}");
                        }

                        break;
                    case JsonTokenType.String:
                        CheckLength(ref reader, maxStringLength, source);
                        ReadText(ref reader, source); // every string is read later; refuse the unreadable ones now
                        break;
                    default:
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            var what = reader.BytesConsumed >= utf8.Length || ex.Message.Contains("end of", StringComparison.OrdinalIgnoreCase) ? "truncated or malformed JSON" : "malformed JSON";
            throw new StixRejectedException(StixRejection.MalformedJson, $"{source}: {what} at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}: {ex.Message}", ex);
        }

        if (keys.Count != 0 || reader.BytesConsumed == 0)
        {
            throw new StixRejectedException(StixRejection.MalformedJson, $"{source}: truncated JSON (document ends after {utf8.Length} bytes)");
        }
    }

    // Valid UTF-8 bytes can still escape a lone surrogate (\ud800), which GetString refuses with an
    // InvalidOperationException wherever the string is first read (found by fuzz/, harness stix-bundle).
    private static string ReadText(ref Utf8JsonReader reader, string source)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            throw new StixRejectedException(StixRejection.MalformedJson, $"{source}: the {(reader.TokenType == JsonTokenType.PropertyName ? "key" : "string")} at byte offset {reader.TokenStartIndex} is not valid Unicode (an unpaired surrogate escape such as \\ud800): {ex.Message}", ex);
        }
    }

    private static void CheckLength(ref Utf8JsonReader reader, int maxStringLength, string source)
    {
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > maxStringLength)
        {
            throw new StixRejectedException(StixRejection.StringTooLong, $"{source}: a string of {length} bytes at byte offset {reader.TokenStartIndex}, more than the limit of {maxStringLength}");
        }
    }

    public static string Truncate(string value) => value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 80), "...");

    public static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool TryGetTimestamp(JsonElement element, string name, out DateTimeOffset value)
    {
        value = default;
        var text = GetString(element, name);
        return text is not null && StixTimestamp.TryParse(text, out value);
    }
}
