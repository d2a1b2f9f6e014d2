using Enclave.Core;
using Enclave.Core.Onnx;

namespace Enclave.Airlock.Import;

/// <summary>
/// Tells a chat (decoder) model from an embedding (encoder) model by the names of its ONNX graph outputs:
/// <c>logits</c> means chat, <c>last_hidden_state</c> (or <c>sentence_embedding</c>, <c>token_embeddings</c>)
/// means embedding. Reads only the graph's output declarations; initializers and nodes are skipped by seeking.
/// The fields are read with the enclave's one ONNX protobuf reader (<see cref="OnnxProtobufReader"/>).
/// </summary>
internal static class OnnxTaskDetector
{
    private const int ModelGraphField = 7;
    private const int GraphOutputField = 12;
    private const int ValueInfoNameField = 1;
    private const int MaxNameBytes = 4096;

    /// <summary>Returns <c>chat</c>, <c>embedding</c>, or null when the file does not show either (or is not ONNX).</summary>
    public static string? Detect(string path, long maxFields)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
            var reader = new OnnxProtobufReader(stream, maxFields);
            var outputs = new List<string>();
            Walk(reader, reader.Length, (field, graphEnd) => field == ModelGraphField && Walk(reader, graphEnd, (graphField, infoEnd) =>
                graphField == GraphOutputField && Walk(reader, infoEnd, (infoField, nameEnd) =>
                {
                    if (infoField != ValueInfoNameField || nameEnd - reader.Position > MaxNameBytes)
                    {
                        return false;
                    }

                    outputs.Add(reader.ReadString(nameEnd, MaxNameBytes, strictUtf8: false));
                    return true;
                })));

            if (outputs.Contains("logits", StringComparer.Ordinal))
            {
                return "chat";
            }

            return outputs.Any(o => o is "last_hidden_state" or "sentence_embedding" or "token_embeddings") ? "embedding" : null;
        }
        catch (EnclaveFormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Walks the fields of one message up to <paramref name="end"/> with the shared <see cref="OnnxProtobufReader"/>.
    /// For each length-delimited field, <paramref name="onField"/> (given the field number and where its payload ends)
    /// either consumes exactly its bytes and returns true, or returns false and the field is skipped by seeking.
    /// Always returns true (so walks nest in expressions).
    /// </summary>
    private static bool Walk(OnnxProtobufReader reader, long end, Func<int, long, bool> onField)
    {
        while (reader.Position < end)
        {
            var (field, wire) = reader.ReadTag(end);
            if (wire != ProtobufWireType.LengthDelimited)
            {
                reader.Skip(wire, end);
                continue;
            }

            var payloadEnd = reader.ReadLength(end);
            if (!onField(field, payloadEnd))
            {
                reader.SkipTo(payloadEnd);
            }
            else
            {
                reader.ExpectEnd(payloadEnd);
            }
        }

        reader.ExpectEnd(end);
        return true;
    }
}
