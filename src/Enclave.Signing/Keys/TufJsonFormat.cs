using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Enclave.Signing.Keys;

/// <summary>
/// TUF's JSON: strict, bounded parsing; the OLPC canonical form that securesystemslib signs (object keys sorted by
/// code point, no whitespace, integers only, strings escaping only <c>"</c> and <c>\</c>), over which key IDs and
/// signatures are computed; and the file form metadata and public key files are written in (<see cref="Serialize"/>).
/// Values are <see cref="Dictionary{TKey,TValue}"/> (objects), <see cref="List{T}"/> (arrays),
/// <see cref="string"/>, <see cref="long"/>, <see cref="bool"/> and null. Refusals are <see cref="SigningException"/>
/// with reason <see cref="SigningFailure.Malformed"/> or <see cref="SigningFailure.NonCanonical"/>; the airlock's
/// TUF reader turns them into its own rejections with the same message.
/// </summary>
public static class TufJsonFormat
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses a whole document. <paramref name="memberSpan"/> receives the byte range of the named top-level member's value.</summary>
    public static object? Parse(ReadOnlySpan<byte> utf8, int maxDepth, string? member, out Range memberSpan)
    {
        memberSpan = default;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            AllowTrailingCommas = false,
            CommentHandling = JsonCommentHandling.Disallow,
            MaxDepth = maxDepth,
        });
        try
        {
            if (!reader.Read())
            {
                throw Malformed("empty document");
            }

            var value = ReadValue(ref reader, 0, maxDepth, member, ref memberSpan);
            if (reader.Read())
            {
                throw Malformed("content after the top-level value");
            }

            return value;
        }
        catch (JsonException e)
        {
            throw new SigningException(SigningFailure.Malformed, $"malformed metadata: invalid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            throw new SigningException(SigningFailure.Malformed, $"malformed metadata: invalid JSON string ({e.Message})", e);
        }
    }

    /// <summary>Parses a whole document.</summary>
    public static object? Parse(ReadOnlySpan<byte> utf8, int maxDepth) => Parse(utf8, maxDepth, null, out _);

    private static object? ReadValue(ref Utf8JsonReader reader, int depth, int maxDepth, string? member, ref Range memberSpan)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    if (depth >= maxDepth)
                    {
                        throw Malformed($"nesting deeper than {maxDepth}");
                    }

                    var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var name = reader.GetString()!;
                        if (!reader.Read())
                        {
                            throw Malformed("truncated object");
                        }

                        var start = (int)reader.TokenStartIndex;
                        var value = ReadValue(ref reader, depth + 1, maxDepth, null, ref memberSpan);
                        if (!result.TryAdd(name, value))
                        {
                            throw Malformed($"duplicate key \"{name}\"");
                        }

                        if (depth == 0 && member is not null && name == member)
                        {
                            memberSpan = start..(int)reader.BytesConsumed;
                        }
                    }

                    return result;
                }

            case JsonTokenType.StartArray:
                {
                    if (depth >= maxDepth)
                    {
                        throw Malformed($"nesting deeper than {maxDepth}");
                    }

                    var result = new List<object?>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        result.Add(ReadValue(ref reader, depth + 1, maxDepth, null, ref memberSpan));
                    }

                    return result;
                }

            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                {
                    var raw = reader.ValueSpan.ToArray();
                    if (raw.AsSpan().IndexOfAny("eE."u8) >= 0)
                    {
                        throw new SigningException(SigningFailure.NonCanonical, $"non-canonical metadata: number {Encoding.ASCII.GetString(raw)} is not an integer; canonical JSON has integers only");
                    }

                    if (!reader.TryGetInt64(out var number))
                    {
                        throw Malformed($"integer {Encoding.ASCII.GetString(raw)} is out of range");
                    }

                    return number;
                }

            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Null:
                return null;
            default:
                throw Malformed($"unexpected token {reader.TokenType}");
        }
    }

    /// <summary>The canonical encoding of <paramref name="value"/>.</summary>
    public static byte[] Canonicalize(object? value)
    {
        var builder = new StringBuilder();
        Write(builder, value);
        try
        {
            return StrictUtf8.GetBytes(builder.ToString());
        }
        catch (EncoderFallbackException e)
        {
            throw new SigningException(SigningFailure.NonCanonical, "non-canonical metadata: a string holds an unpaired surrogate", e);
        }
    }

    private static void Write(StringBuilder builder, object? value)
    {
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case bool b:
                builder.Append(b ? "true" : "false");
                break;
            case long n:
                builder.Append(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case int n:
                builder.Append(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case string s:
                WriteString(builder, s);
                break;
            case IReadOnlyDictionary<string, object?> map:
                {
                    var keys = map.Keys.ToArray();
                    Array.Sort(keys, CodePointComparer.Instance);
                    builder.Append('{');
                    for (var i = 0; i < keys.Length; i++)
                    {
                        if (i > 0)
                        {
                            builder.Append(',');
                        }

                        WriteString(builder, keys[i]);
                        builder.Append(':');
                        Write(builder, map[keys[i]]);
                    }

                    builder.Append('}');
                    break;
                }

            case IReadOnlyList<object?> list:
                builder.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    Write(builder, list[i]);
                }

                builder.Append(']');
                break;
            default:
                throw new SigningException(SigningFailure.NonCanonical, $"non-canonical metadata: a {value.GetType().Name} has no canonical JSON form");
        }
    }

    private static void WriteString(StringBuilder builder, string s)
    {
        builder.Append('"');
        foreach (var c in s)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        builder.Append('"');
    }

    /// <summary>
    /// The file form of <paramref name="value"/>: ordinary JSON (escaped, indented, keys in code-point order) and a
    /// final newline. Signatures are over the canonical form (<see cref="Canonicalize"/>), which is not itself valid
    /// JSON when a string holds a newline (PEM public keys do), so files are never written in the canonical form.
    /// </summary>
    public static byte[] Serialize(object? value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteFileForm(writer, value);
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private static void WriteFileForm(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long n:
                writer.WriteNumberValue(n);
                break;
            case int n:
                writer.WriteNumberValue(n);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var key in map.Keys.Order(CodePointComparer.Instance))
                {
                    writer.WritePropertyName(key);
                    WriteFileForm(writer, map[key]);
                }

                writer.WriteEndObject();
                break;
            case IReadOnlyList<object?> list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteFileForm(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"a {value.GetType().Name} has no JSON form here", nameof(value));
        }
    }

    private static SigningException Malformed(string what) =>
        new(SigningFailure.Malformed, $"malformed metadata: {what}");

    /// <summary>Orders strings by Unicode code point, as Python sorts <c>str</c>.</summary>
    public sealed class CodePointComparer : IComparer<string>
    {
        /// <summary>The one instance.</summary>
        public static readonly CodePointComparer Instance = new();

        /// <inheritdoc />
        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }

            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                System.Text.Rune.DecodeFromUtf16(x.AsSpan(i), out var a, out var na);
                System.Text.Rune.DecodeFromUtf16(y.AsSpan(j), out var b, out var nb);
                var c = a.Value.CompareTo(b.Value);
                if (c != 0)
                {
                    return c;
                }

                i += na;
                j += nb;
            }

            return (i < x.Length).CompareTo(j < y.Length);
        }
    }
}
