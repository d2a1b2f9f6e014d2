using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Core;

/// <summary>
/// Parses request bodies and other untrusted JSON into a <see cref="JsonNode"/> completely and strictly, so that
/// nothing malformed surfaces later as an exception far from the parser: no duplicate member names at any depth
/// (inside fields the caller never reads too), every string and member name valid UTF-8 without unpaired surrogate
/// escapes (<c>"\ud800x"</c>), no comments, no trailing commas, bounded nesting. <see cref="JsonNode.Parse(ReadOnlySpan{byte}, JsonNodeOptions?, JsonDocumentOptions)"/>
/// alone accepts the last two kinds and fails only when the value is read (an <see cref="InvalidOperationException"/>
/// or <see cref="ArgumentException"/> deep inside a handler: a 500).
/// </summary>
public static class StrictJson
{
    /// <summary>Parses <paramref name="utf8Json"/>; throws <see cref="JsonException"/> naming the problem and its byte offset.</summary>
    /// <exception cref="JsonException">The input is not strictly valid JSON.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json, int maxDepth = CanonicalJson.DefaultMaxDepth)
    {
        ValidateStrings(utf8Json, maxDepth);
        return JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions
        {
            MaxDepth = maxDepth,
            AllowTrailingCommas = false,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowDuplicateProperties = false,
        });
    }

    /// <summary>Checks that every string and member name decodes (valid UTF-8, no lone surrogate escapes); also checks the syntax.</summary>
    private static void ValidateStrings(ReadOnlySpan<byte> utf8Json, int maxDepth)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Disallow });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
            {
                continue;
            }

            try
            {
                _ = reader.GetString();
            }
            catch (InvalidOperationException ex)
            {
                var what = reader.TokenType == JsonTokenType.PropertyName ? "member name" : "string";
                throw new JsonException(
                    $"the {what} at byte {reader.TokenStartIndex} is not valid text (invalid UTF-8 or an unpaired surrogate escape such as \\ud800): {ex.Message}",
                    path: null,
                    lineNumber: null,
                    bytePositionInLine: reader.TokenStartIndex,
                    ex);
            }
        }
    }
}
