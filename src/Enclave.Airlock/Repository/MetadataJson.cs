using System.Text.Encodings.Web;
using System.Text.Json;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Repository;

/// <summary>
/// Writes metadata files as ordinary JSON (escaped, indented, keys in code-point order). Signatures are over the
/// canonical form (<see cref="TufJson.Canonicalize"/>), which is not itself valid JSON when a string holds a newline
/// (PEM public keys do), so files are never written in the canonical form.
/// </summary>
internal static class MetadataJson
{
    public static byte[] Serialize(object? value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, value);
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, object? value)
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
                foreach (var key in map.Keys.Order(TufJson.CodePointComparer.Instance))
                {
                    writer.WritePropertyName(key);
                    Write(writer, map[key]);
                }

                writer.WriteEndObject();
                break;
            case IReadOnlyList<object?> list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"a {value.GetType().Name} has no JSON form here", nameof(value));
        }
    }
}
