using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Core;

/// <summary>
/// Parses untrusted JSON (request bodies) into a <see cref="JsonNode"/> tree that can then be read without surprises.
/// <see cref="JsonNode.Parse(ReadOnlySpan{byte}, JsonNodeOptions?, JsonDocumentOptions)"/> alone accepts duplicate
/// member names, strings whose bytes are not UTF-8 and lone surrogate escapes (<c>"\ud800"</c>), and only throws
/// (<see cref="ArgumentException"/>, <see cref="InvalidOperationException"/>) when such a member or string is first
/// read, deep inside whatever reads it: a request answered 500. Here each is a <see cref="JsonException"/> at parse
/// time that names where it is, and so is a number too large for a double (which canonical JSON cannot write).
/// </summary>
public static class StrictJson
{
    /// <summary>
    /// Parses <paramref name="utf8Json"/> (at most <paramref name="maxDepth"/> levels deep) and reads every member
    /// name and string once.
    /// </summary>
    /// <exception cref="JsonException">Not valid JSON, too deep, a duplicate member name, a string or member name
    /// that is not valid Unicode, or a number out of the range of a double; the message names the JSON path.</exception>
    /// <summary>
    /// Parses <paramref name="utf8Json"/> strictly: first every token is read once, so that a string or member name
    /// that is not valid text is reported with its byte offset; then <see cref="ParseNode"/> (duplicate member names,
    /// numbers out of the range of a double). No comments, no trailing commas.
    /// </summary>
    /// <exception cref="JsonException">The input is not strictly valid JSON; the message names the problem and where.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json, int maxDepth = CanonicalJson.DefaultMaxDepth)
    {
        CheckTokens(utf8Json, maxDepth);
        return ParseChecked(utf8Json, maxDepth, stringsChecked: true);
    }

    /// <summary>
    /// Parses <paramref name="utf8Json"/> exactly as strictly as <see cref="Parse"/> (the same checks, refused with
    /// the same <see cref="JsonException"/> and message) into a read-only <see cref="JsonElement"/> that owns a copy of
    /// the bytes (nothing to dispose), without building a <see cref="JsonNode"/> tree: a request body is read once
    /// for its few fields, its text and its digest, and most bodies are never turned into nodes at all.
    /// </summary>
    /// <remarks>
    /// Valid input is checked here on the element (tokens, then duplicate member names by the document, then numbers);
    /// input that fails any check is handed to <see cref="Parse"/>, which refuses it with its own message, so that a
    /// client sees one wording whichever form the server reads. Should <see cref="Parse"/> ever accept what failed
    /// here, the input is still refused (fail closed).
    /// </remarks>
    /// <exception cref="JsonException">The input is not strictly valid JSON; the message is <see cref="Parse"/>'s.</exception>
    public static JsonElement ParseElement(ReadOnlySpan<byte> utf8Json, int maxDepth = CanonicalJson.DefaultMaxDepth)
    {
        string? problem;
        try
        {
            CheckTokens(utf8Json, maxDepth);
            var root = JsonElement.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
            if (NumbersFit(root))
            {
                return root;
            }

            problem = "a number is out of the range of a double";
        }
        catch (JsonException e)
        {
            problem = e.Message;
        }
        catch (InvalidOperationException e)
        {
            problem = e.Message;
        }

        _ = Parse(utf8Json, maxDepth); // throws the problem in Parse's words
        throw new JsonException($"the request body is not strictly valid JSON ({problem})");
    }

    // Every number of the document fits a finite double (RFC 8785, the ledger's canonical form): Check's rule, on the
    // element (no node per value, no enumerator allocated).
    private static bool NumbersFit(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    if (!NumbersFit(member.Value))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!NumbersFit(item))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Number:
                return element.TryGetDouble(out var number) && double.IsFinite(number);
            default:
                return true;
        }
    }

    private static void CheckTokens(ReadOnlySpan<byte> utf8Json, int maxDepth)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Disallow });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
            {
                continue;
            }

            // A string without escapes is its own UTF-8 bytes: validated in place, nothing decoded (every request body
            // passes here). One with escapes is decoded, which also refuses an unpaired surrogate escape.
            string? problem = null;
            if (!reader.ValueIsEscaped && !reader.HasValueSequence)
            {
                if (!System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
                {
                    problem = "invalid UTF-8";
                }
            }
            else
            {
                try
                {
                    _ = reader.GetString();
                }
                catch (InvalidOperationException ex)
                {
                    problem = ex.Message;
                }
            }

            if (problem is not null)
            {
                var what = reader.TokenType == JsonTokenType.PropertyName ? "member name" : "string";
                throw new JsonException(
                    $"the {what} at byte {reader.TokenStartIndex} is not valid text (invalid UTF-8 or an unpaired surrogate escape such as \\ud800): {problem}",
                    path: null,
                    lineNumber: null,
                    bytePositionInLine: reader.TokenStartIndex);
            }
        }
    }

    public static JsonNode? ParseNode(ReadOnlySpan<byte> utf8Json, int maxDepth) => ParseChecked(utf8Json, maxDepth, stringsChecked: false);

    // stringsChecked: every string and member name was already read as valid text (CheckTokens), so strings are not
    // decoded again here; they stay undecoded in the node until someone reads them.
    private static JsonNode? ParseChecked(ReadOnlySpan<byte> utf8Json, int maxDepth, bool stringsChecked)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-member check decodes every member name and throws this for a lone surrogate escape.
            throw new JsonException($"a member name is not valid Unicode ({e.Message})", e);
        }

        Check(node, stringsChecked);
        return node;
    }

    /// <summary>
    /// Reads every member name and string of an already parsed document once. <see cref="JsonDocument"/> checks
    /// neither UTF-8 inside strings nor surrogate escapes; <see cref="JsonElement.GetString"/> later throws
    /// <see cref="InvalidOperationException"/> for them. Call it right after parsing untrusted JSON that is then read
    /// field by field (found by fuzz/ in tokenizer.json and JWKS files).
    /// </summary>
    /// <exception cref="JsonException">A member name or string that is not valid Unicode; the message names the path.</exception>
    public static void ValidateStrings(JsonElement element) => Validate(element, "$");

    private static void Validate(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = member.Name;
                    }
                    catch (InvalidOperationException e)
                    {
                        throw new JsonException($"a member name in the object at {path} is not valid Unicode (invalid UTF-8 or a lone surrogate escape)", path, null, null, e);
                    }

                    Validate(member.Value, path + "." + name);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Validate(item, $"{path}[{i++}]");
                }

                break;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                }
                catch (InvalidOperationException e)
                {
                    throw new JsonException($"the string at {path} is not valid Unicode (invalid UTF-8 or a lone surrogate escape)", path, null, null, e);
                }

                break;
        }
    }

    // Walks the parsed tree once. The JSON path of a node is computed only for the error message (JsonNode.GetPath),
    // never per node: building "$.a.b[0]" strings for every member was a twentieth of what a request allocated.
    private static void Check(JsonNode? node, bool stringsChecked)
    {
        switch (node)
        {
            case JsonObject obj:
                try
                {
                    // Count builds the member dictionary: names are decoded and duplicates detected here. A member's own
                    // problems are JsonExceptions, which this catch does not take. Read by position: no enumerator.
                    var count = obj.Count;
                    for (var i = 0; i < count; i++)
                    {
                        Check(obj.GetAt(i).Value, stringsChecked);
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException)
                {
                    var path = obj.GetPath();
                    throw new JsonException($"the object at {path} has a duplicate member name or a name that is not valid UTF-8 ({e.Message})", path, null, null, e);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Check(array[i], stringsChecked);
                }

                break;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String when !stringsChecked:
                        try
                        {
                            _ = value.GetValue<string>();
                        }
                        catch (InvalidOperationException e)
                        {
                            var path = value.GetPath();
                            throw new JsonException($"the string at {path} is not valid Unicode (invalid UTF-8 or a lone surrogate escape)", path, null, null, e);
                        }

                        break;
                    case JsonValueKind.Number:
                        // RFC 8785 (the ledger's canonical form of the request) holds IEEE 754 doubles: 1e400 is valid
                        // JSON text that no double holds (found by fuzz/: CanonicalJson refused it after the request
                        // was admitted).
                        if (!value.TryGetValue<double>(out var number) || !double.IsFinite(number))
                        {
                            var path = value.GetPath();
                            throw new JsonException($"the number at {path} is out of the range of a double", path, null, null);
                        }

                        break;
                }

                break;
        }
    }
}
