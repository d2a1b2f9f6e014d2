using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Core;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme (JCS): object members sorted by their UTF-16 code units,
/// no insignificant whitespace, numbers in ECMAScript shortest form, strings with minimal escaping.
/// One value has exactly one byte representation, so its digest identifies it.
/// </summary>
public static class CanonicalJson
{
    /// <summary>Deepest nesting accepted from untrusted input.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>Canonicalizes UTF-8 JSON text. Throws <see cref="EnclaveFormatException"/> on invalid input.</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json, int maxDepth = DefaultMaxDepth)
    {
        using var document = Parse(utf8Json, maxDepth);
        return Canonicalize(document.RootElement);
    }

    /// <summary>Parses JSON strictly: no comments, no trailing commas, no duplicate member names.</summary>
    public static JsonDocument Parse(ReadOnlySpan<byte> utf8Json, int maxDepth = DefaultMaxDepth)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions
            {
                MaxDepth = maxDepth,
                AllowTrailingCommas = false,
                CommentHandling = JsonCommentHandling.Disallow,
                AllowDuplicateProperties = false,
            });
        }
        catch (JsonException ex)
        {
            throw new EnclaveFormatException($"invalid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // The duplicate-member check decodes every member name and throws this for a lone surrogate escape
            // (found by fuzz/: {"\ud800":1}).
            throw new EnclaveFormatException($"invalid JSON: a member name is not valid Unicode ({ex.Message})", ex);
        }

        return document;
    }

    /// <summary>Canonical bytes of an already parsed element.</summary>
    public static byte[] Canonicalize(JsonElement element)
    {
        try
        {
            return ScratchBuffer.Build(element, static (e, buffer) => Write(e, buffer));
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json refuses to decode strings holding unpaired surrogate escapes.
            throw new EnclaveFormatException($"invalid JSON string: {ex.Message}", ex);
        }
    }

    /// <summary>Writes the canonical form of <paramref name="element"/>.</summary>
    public static void Write(JsonElement element, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                // Names decoded once into a pooled array and sorted there (JsonProperty.Name decodes on every read: a
                // request's prompt digest walks a dozen objects).
                var count = element.GetPropertyCount();
                var members = ArrayPool<KeyValuePair<string, JsonElement>>.Shared.Rent(count);
                try
                {
                    var n = 0;
                    foreach (var property in element.EnumerateObject())
                    {
                        members[n++] = new KeyValuePair<string, JsonElement>(property.Name, property.Value);
                    }

                    members.AsSpan(0, n).Sort(static (x, y) => string.CompareOrdinal(x.Key, y.Key));
                    WriteAscii(output, "{");
                    for (var i = 0; i < n; i++)
                    {
                        if (i > 0)
                        {
                            WriteAscii(output, ",");
                        }

                        WriteString(members[i].Key, output);
                        WriteAscii(output, ":");
                        Write(members[i].Value, output);
                    }

                    WriteAscii(output, "}");
                }
                finally
                {
                    members.AsSpan(0, count).Clear();
                    ArrayPool<KeyValuePair<string, JsonElement>>.Shared.Return(members);
                }

                break;
            case JsonValueKind.Array:
                WriteAscii(output, "[");
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        WriteAscii(output, ",");
                    }

                    first = false;
                    Write(item, output);
                }

                WriteAscii(output, "]");
                break;
            case JsonValueKind.String:
                if (!TryWriteRawString(element, output))
                {
                    WriteString(element.GetString()!, output);
                }

                break;
            case JsonValueKind.Number:
                WriteNumber(element.GetDouble(), output);
                break;
            case JsonValueKind.True:
                WriteAscii(output, "true");
                break;
            case JsonValueKind.False:
                WriteAscii(output, "false");
                break;
            case JsonValueKind.Null:
                WriteAscii(output, "null");
                break;
            default:
                throw new EnclaveFormatException($"unsupported JSON value kind {element.ValueKind}");
        }
    }

    /// <summary>
    /// Writes the canonical form of a <see cref="JsonNode"/> tree directly (null is JSON null), without serializing it
    /// and parsing it back: the same bytes as <see cref="Canonicalize(ReadOnlySpan{byte}, int)"/> of its JSON text.
    /// </summary>
    /// <exception cref="EnclaveFormatException">A number is not finite, or a string holds an unpaired surrogate.</exception>
    public static void Write(JsonNode? node, IBufferWriter<byte> output, int maxDepth = DefaultMaxDepth)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteNode(node, output, maxDepth);
    }

    /// <summary>Canonical bytes of a <see cref="JsonNode"/> tree (see <see cref="Write(JsonNode?, IBufferWriter{byte}, int)"/>).</summary>
    public static byte[] Canonicalize(JsonNode? node, int maxDepth = DefaultMaxDepth) =>
        ScratchBuffer.Build((node, maxDepth), static (state, buffer) => Write(state.node, buffer, state.maxDepth));

    /// <summary>
    /// SHA-256 (lower-case hex) of the canonical bytes of <paramref name="node"/>, without keeping a copy of them (a
    /// request's prompt and answer digests).
    /// </summary>
    public static string Sha256Hex(JsonNode? node, int maxDepth = DefaultMaxDepth)
    {
        var buffer = ScratchBuffer.Rent();
        try
        {
            Write(node, buffer, maxDepth);
            return Sha256Hex(buffer.WrittenSpan);
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }

    /// <summary>
    /// SHA-256 (lower-case hex) of the canonical bytes of <paramref name="element"/> (the same bytes as the
    /// <see cref="JsonNode"/> built from it gives <see cref="Sha256Hex(JsonNode?, int)"/>), without keeping a copy.
    /// </summary>
    /// <exception cref="EnclaveFormatException">A string holds an unpaired surrogate, or a number is not finite.</exception>
    public static string Sha256Hex(JsonElement element)
    {
        var buffer = ScratchBuffer.Rent();
        try
        {
            Write(element, buffer);
            return Sha256Hex(buffer.WrittenSpan);
        }
        catch (InvalidOperationException ex)
        {
            throw new EnclaveFormatException($"invalid JSON string: {ex.Message}", ex);
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }

    /// <summary>SHA-256 (lower-case hex) of <paramref name="bytes"/>.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        System.Security.Cryptography.SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static void WriteNode(JsonNode? node, IBufferWriter<byte> output, int depth)
    {
        if (depth <= 0)
        {
            throw new EnclaveFormatException($"JSON nested deeper than {DefaultMaxDepth} levels");
        }

        switch (node)
        {
            case null:
                WriteAscii(output, "null");
                break;
            case JsonObject obj:
                // Members sorted in a pooled array, read by position (no enumerator, no array per object: a request's
                // prompt and answer digests walk a dozen objects each).
                var count = obj.Count;
                var members = ArrayPool<KeyValuePair<string, JsonNode?>>.Shared.Rent(count);
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        members[i] = obj.GetAt(i);
                    }

                    members.AsSpan(0, count).Sort(static (x, y) => string.CompareOrdinal(x.Key, y.Key));
                    WriteAscii(output, "{");
                    for (var i = 0; i < count; i++)
                    {
                        if (i > 0)
                        {
                            WriteAscii(output, ",");
                        }

                        WriteString(members[i].Key, output);
                        WriteAscii(output, ":");
                        WriteNode(members[i].Value, output, depth - 1);
                    }

                    WriteAscii(output, "}");
                }
                finally
                {
                    members.AsSpan(0, count).Clear();
                    ArrayPool<KeyValuePair<string, JsonNode?>>.Shared.Return(members);
                }

                break;
            case JsonArray array:
                WriteAscii(output, "[");
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteAscii(output, ",");
                    }

                    WriteNode(array[i], output, depth - 1);
                }

                WriteAscii(output, "]");
                break;
            case JsonValue value:
                WriteValue(value, output);
                break;
            default:
                throw new EnclaveFormatException($"unsupported JSON node {node.GetType().Name}");
        }
    }

    private static void WriteValue(JsonValue value, IBufferWriter<byte> output)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            if (element.ValueKind == JsonValueKind.String && TryWriteRawString(element, output))
            {
                return;
            }

            Write(element, output);
            return;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.String when value.TryGetValue<string>(out var text):
                WriteString(text, output);
                break;
            case JsonValueKind.Number:
                // An int, long, decimal... held by the node: its JSON text read as the IEEE double RFC 8785 numbers are.
                var number = value.TryGetValue<double>(out var d) ? d : double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                if (!double.IsFinite(number))
                {
                    throw new EnclaveFormatException("JSON numbers must be finite");
                }

                WriteNumber(number, output);
                break;
            case JsonValueKind.True:
                WriteAscii(output, "true");
                break;
            case JsonValueKind.False:
                WriteAscii(output, "false");
                break;
            case JsonValueKind.Null:
                WriteAscii(output, "null");
                break;
            default:
                // Any other CLR value (a DateTimeOffset, a Guid): its JSON form, canonicalized.
                using (var document = JsonDocument.Parse(value.ToJsonString()))
                {
                    Write(document.RootElement, output);
                }

                break;
        }
    }

    /// <summary>ECMAScript Number.prototype.toString for finite doubles (RFC 8785 §3.2.2.3).</summary>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new EnclaveFormatException("JSON numbers must be finite");
        }

        if (value == 0)
        {
            return "0"; // also for -0
        }

        if (IsSafeInteger(value))
        {
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        }

        // Shortest round-trip digits and exponent from .NET's "E" form of the "R" value.
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = r[0] == '-';
        if (negative)
        {
            r = r[1..];
        }

        string mantissa;
        int exponent;
        var e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            mantissa = r[..e];
            exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        else
        {
            mantissa = r;
            exponent = 0;
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        digits = digits.TrimEnd('0');
        // n: position of the decimal point relative to the start of the significant digits.
        var n = intPart.Length - leadingZeros + exponent;
        var k = digits.Length;

        var sb = new StringBuilder(32);
        if (negative)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            var exp = n - 1;
            sb.Append('e').Append(exp < 0 ? '-' : '+').Append(Math.Abs(exp).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Writes <paramref name="value"/> as an RFC 8785 number (see <see cref="FormatNumber"/>).</summary>
    /// <exception cref="EnclaveFormatException">The number is not finite.</exception>
    public static void WriteNumber(double value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (IsSafeInteger(value))
        {
            // Token counts, indexes, timestamps: written as their digits, no string in between.
            var span = output.GetSpan(20);
            if (((long)value).TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
            {
                output.Advance(written);
                return;
            }
        }

        WriteAscii(output, FormatNumber(value));
    }

    // An integer a double holds exactly (|value| < 2^53): ECMAScript writes it as its digits, as long.ToString does.
    // -0 is "0" in both. Larger integers are not: ECMAScript writes 2^60 as 1152921504606847000.
    private static bool IsSafeInteger(double value) => Math.Abs(value) < 9007199254740992d && Math.Floor(value) == value;

    // A string the parser holds as UTF-8 with no escape in it: its bytes are its text, written with RFC 8785's escapes
    // straight from them (no string decoded). False (nothing written) for a string with escapes or bytes that are not
    // valid UTF-8: the caller decodes it, which refuses what must be refused.
    private static bool TryWriteRawString(JsonElement element, IBufferWriter<byte> output)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        if (raw.Length >= 2 && raw[0] == (byte)'"' && raw[^1] == (byte)'"')
        {
            raw = raw[1..^1];
        }

        if (raw.Contains((byte)'\\') || !System.Text.Unicode.Utf8.IsValid(raw))
        {
            return false;
        }

        WriteAscii(output, "\"");
        var start = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b >= 0x20 && b != (byte)'"')
            {
                continue;
            }

            output.Write(raw[start..i]);
            switch (b)
            {
                case (byte)'"': WriteAscii(output, "\\\""); break;
                case (byte)'\b': WriteAscii(output, "\\b"); break;
                case (byte)'\f': WriteAscii(output, "\\f"); break;
                case (byte)'\n': WriteAscii(output, "\\n"); break;
                case (byte)'\r': WriteAscii(output, "\\r"); break;
                case (byte)'\t': WriteAscii(output, "\\t"); break;
                default: WriteAscii(output, ControlEscapes[b]); break;
            }

            start = i + 1;
        }

        output.Write(raw[start..]);
        WriteAscii(output, "\"");
        return true;
    }

    /// <summary>Writes <paramref name="value"/> as an RFC 8785 JSON string.</summary>
    public static void WriteString(string value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(output);

        // Straight into the output, without a StringBuilder, a string and a byte array per call (every audit event
        // writes a dozen strings): runs of characters that need no escape are transcoded as they are, each escape is
        // written between them. Escapes are ASCII, so a run never splits a surrogate pair.
        WriteAscii(output, "\"");
        var text = value.AsSpan();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= 0x20 && c != '"' && c != '\\')
            {
                continue;
            }

            WriteUtf8(text[start..i], output);
            switch (c)
            {
                case '"': WriteAscii(output, "\\\""); break;
                case '\\': WriteAscii(output, "\\\\"); break;
                case '\b': WriteAscii(output, "\\b"); break;
                case '\f': WriteAscii(output, "\\f"); break;
                case '\n': WriteAscii(output, "\\n"); break;
                case '\r': WriteAscii(output, "\\r"); break;
                case '\t': WriteAscii(output, "\\t"); break;
                default: WriteAscii(output, ControlEscapes[c]); break;
            }

            start = i + 1;
        }

        WriteUtf8(text[start..], output);
        WriteAscii(output, "\"");
    }

    // \u0000 to \u001f, lower-case hex as RFC 8785 writes them.
    private static readonly string[] ControlEscapes = [.. Enumerable.Range(0, 0x20).Select(c => "\\u" + c.ToString("x4", CultureInfo.InvariantCulture))];

    // Transcodes a run of UTF-16 into the output in bounded pieces; a lone surrogate cannot be encoded as UTF-8 and is
    // refused rather than silently replaced.
    private static void WriteUtf8(ReadOnlySpan<char> text, IBufferWriter<byte> output)
    {
        const int piece = 4096;
        while (!text.IsEmpty)
        {
            var length = Math.Min(piece, text.Length);
            if (length < text.Length && char.IsHighSurrogate(text[length - 1]))
            {
                length--; // keep a surrogate pair in one piece
            }

            var span = output.GetSpan(length * 3);
            if (System.Text.Unicode.Utf8.FromUtf16(text[..length], span, out _, out var written, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
            {
                throw new EnclaveFormatException("JSON string holds an unpaired surrogate");
            }

            output.Advance(written);
            text = text[length..];
        }
    }

    private static void WriteAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }

        output.Advance(text.Length);
    }
}
