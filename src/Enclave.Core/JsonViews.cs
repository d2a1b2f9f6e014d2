using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Core;

/// <summary>
/// The read-only <see cref="JsonElement"/> form of a <see cref="JsonNode"/> the server built itself (a translated
/// request, a body with retrieved excerpts), so that code that reads requests reads one form: the element a client's
/// body is parsed into (<see cref="StrictJson.ParseElement"/>) or this one.
/// </summary>
public static class JsonViews
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Read back at once, never into HTML: non-ASCII text stays UTF-8.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>
    /// An element with the members, values and order of <paramref name="node"/> (null is JSON null), owning its bytes:
    /// later changes to <paramref name="node"/> do not show in it.
    /// </summary>
    public static JsonElement ElementOf(JsonNode? node)
    {
        if (node is JsonValue value && value.TryGetValue<JsonElement>(out var element))
        {
            return element; // a value parsed from text: already an element, and immutable
        }

        var buffer = ScratchBuffer.Rent();
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                if (node is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    node.WriteTo(writer);
                }
            }

            return JsonElement.Parse(buffer.WrittenSpan, new JsonDocumentOptions { MaxDepth = 256 });
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }
}
