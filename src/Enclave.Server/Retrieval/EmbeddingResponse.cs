using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Server.Retrieval;

/// <summary>The vectors of an OpenAI embeddings answer, checked: one finite vector per input, all of one length, in order.</summary>
internal sealed record EmbeddingResponse(IReadOnlyList<float[]> Vectors)
{
    public static EmbeddingResponse Read(JsonObject body, int expected)
    {
        if (body["data"] is not JsonArray data || data.Count != expected)
        {
            throw Bad($"expected {expected} embeddings");
        }

        var vectors = new float[expected][];
        foreach (var item in data)
        {
            var index = item?["index"] is JsonValue i && i.TryGetValue<int>(out var n) ? n : -1;
            if (index < 0 || index >= expected || vectors[index] is not null)
            {
                throw Bad("an embedding has a missing, duplicate or out-of-range index");
            }

            vectors[index] = item!["embedding"] switch
            {
                JsonArray values => [.. values.Select(v => v is JsonValue x && x.GetValueKind() == JsonValueKind.Number ? x.GetValue<float>() : throw Bad("an embedding holds something that is not a number"))],
                JsonValue text when text.TryGetValue<string>(out var base64) => FromBase64(base64),
                _ => throw Bad("an embedding is neither an array nor base64"),
            };
        }

        if (vectors.Any(v => v.Length == 0 || v.Length != vectors[0].Length || v.Any(x => !float.IsFinite(x))))
        {
            throw Bad("the embeddings are empty, of different lengths or not finite");
        }

        return new EmbeddingResponse(vectors);
    }

    private static float[] FromBase64(string base64)
    {
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, bytes, out var written) && written % sizeof(float) == 0
            ? MemoryMarshal.Cast<byte, float>(bytes.AsSpan(0, written)).ToArray()
            : throw Bad("an embedding is not base64 of float32 values");
    }

    private static RetrievalException Bad(string why) => new(RetrievalError.EmbeddingFailed, $"the embedding model's answer is unusable: {why}");
}
