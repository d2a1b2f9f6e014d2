using System.Text;

namespace Enclave.Airlock.Import;

/// <summary>
/// Tells a chat (decoder) model from an embedding (encoder) model by the names of its ONNX graph outputs:
/// <c>logits</c> means chat, <c>last_hidden_state</c> (or <c>sentence_embedding</c>, <c>token_embeddings</c>)
/// means embedding. Reads only the graph's output declarations; initializers and nodes are skipped by seeking.
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
            var walker = new Walker(stream, maxFields);
            var outputs = new List<string>();
            walker.Walk(stream.Length, (field, length) => field == ModelGraphField && walker.Walk(stream.Position + length, (graphField, graphLength) =>
                graphField == GraphOutputField && walker.Walk(stream.Position + graphLength, (infoField, infoLength) =>
                {
                    if (infoField != ValueInfoNameField || infoLength > MaxNameBytes)
                    {
                        return false;
                    }

                    var name = new byte[infoLength];
                    stream.ReadExactly(name);
                    outputs.Add(Encoding.UTF8.GetString(name));
                    return true;
                })));

            if (outputs.Contains("logits", StringComparer.Ordinal))
            {
                return "chat";
            }

            return outputs.Any(o => o is "last_hidden_state" or "sentence_embedding" or "token_embeddings") ? "embedding" : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    private sealed class Walker(Stream stream, long budget)
    {
        /// <summary>
        /// Walks the fields of one message up to <paramref name="end"/>. For each length-delimited field,
        /// <paramref name="onField"/> either consumes exactly its bytes and returns true, or returns false and the
        /// field is skipped by seeking. Always returns true (so walks nest in expressions).
        /// </summary>
        public bool Walk(long end, Func<int, long, bool> onField)
        {
            if (end > stream.Length)
            {
                throw new InvalidDataException("a field runs past the end of the file");
            }

            while (stream.Position < end)
            {
                if (--budget < 0)
                {
                    throw new InvalidDataException("too many protobuf fields");
                }

                var key = ReadVarint();
                var field = (int)Math.Min(key >> 3, int.MaxValue);
                switch (key & 7)
                {
                    case 0:
                        ReadVarint();
                        break;
                    case 1:
                        Skip(8, end);
                        break;
                    case 5:
                        Skip(4, end);
                        break;
                    case 2:
                        var length = ReadVarint();
                        if (length > (ulong)(end - stream.Position))
                        {
                            throw new InvalidDataException("a field runs past its message");
                        }

                        var start = stream.Position;
                        if (!onField(field, (long)length))
                        {
                            stream.Position = start + (long)length;
                        }
                        else if (stream.Position != start + (long)length)
                        {
                            throw new InvalidDataException("a nested message did not end where its length says");
                        }

                        break;
                    default:
                        throw new InvalidDataException("unsupported protobuf wire type");
                }
            }

            if (stream.Position != end)
            {
                throw new InvalidDataException("a message ends inside a field");
            }

            return true;
        }

        private void Skip(long count, long end)
        {
            if (stream.Position + count > end)
            {
                throw new InvalidDataException("a field runs past its message");
            }

            stream.Position += count;
        }

        private ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0)
                {
                    throw new EndOfStreamException();
                }

                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            throw new InvalidDataException("varint longer than 10 bytes");
        }
    }
}
