using System.Buffers.Binary;
using System.Text;

namespace Enclave.Inference.Forge;

/// <summary>How the forge stores the matrices of a GGUF model (norms are always F32, as llama.cpp's converter keeps them).</summary>
public enum GgufWeightType
{
    /// <summary>32-bit floats (<c>general.file_type</c> 0).</summary>
    F32,

    /// <summary>IEEE half floats (<c>general.file_type</c> 1).</summary>
    F16,

    /// <summary>
    /// ggml's Q4_0 (<c>general.file_type</c> 2): blocks of 32 weights, an fp16 scale and 16 bytes of 4-bit values. A matrix
    /// whose rows are not a whole number of blocks stays F16, as llama.cpp's quantiser does.
    /// </summary>
    Q4_0,
}

/// <summary>
/// Writes a GGUF v3 file: the header with its key-value metadata and tensor table first (every size is known up front),
/// then each tensor's data in table order, aligned to <see cref="Alignment"/>, so a model of any size is streamed to
/// disk one tensor at a time. The layout is ggml's (<c>gguf.h</c>, <c>docs/gguf.md</c> of ggml).
/// </summary>
internal sealed class GgufWriter
{
    public const int Alignment = 32;
    public const uint TypeF32 = 0;
    public const uint TypeF16 = 1;
    public const uint TypeQ4_0 = 2;
    public const int Q4BlockWeights = 32;
    public const int Q4BlockBytes = 18;

    private readonly List<(string Key, uint Type, Action<BinaryWriter> Value)> _metadata = [];
    private readonly List<GgufTensor> _tensors = [];

    public void String(string key, string value) => _metadata.Add((key, 8, w => WriteString(w, value)));

    public void UInt32(string key, uint value) => _metadata.Add((key, 4, w => w.Write(value)));

    public void Int32(string key, int value) => _metadata.Add((key, 5, w => w.Write(value)));

    public void Float32(string key, float value) => _metadata.Add((key, 6, w => w.Write(value)));

    public void Bool(string key, bool value) => _metadata.Add((key, 7, w => w.Write(value ? (byte)1 : (byte)0)));

    public void Strings(string key, IReadOnlyList<string> values) => _metadata.Add((key, 9, w =>
    {
        w.Write(8u);
        w.Write((ulong)values.Count);
        foreach (var value in values)
        {
            WriteString(w, value);
        }
    }));

    public void Int32s(string key, IReadOnlyList<int> values) => _metadata.Add((key, 9, w =>
    {
        w.Write(5u);
        w.Write((ulong)values.Count);
        foreach (var value in values)
        {
            w.Write(value);
        }
    }));

    /// <summary>
    /// A tensor of ggml shape <paramref name="dimensions"/> (innermost first: a PyTorch <c>[out, in]</c> matrix is
    /// <c>[in, out]</c>), stored as <paramref name="type"/>; <paramref name="values"/> makes its weights when written.
    /// </summary>
    public void Tensor(string name, long[] dimensions, uint type, Func<float[]> values) => _tensors.Add(new GgufTensor(name, dimensions, type, values));

    /// <summary>Writes the file; returns the number of weights.</summary>
    public long Save(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(w, key);
            w.Write(type);
            value(w);
        }

        ulong offset = 0;
        foreach (var tensor in _tensors)
        {
            WriteString(w, tensor.Name);
            w.Write((uint)tensor.Dimensions.Length);
            foreach (var d in tensor.Dimensions)
            {
                w.Write((ulong)d);
            }

            w.Write(tensor.Type);
            w.Write(offset);
            offset += Padded(tensor.Bytes);
        }

        Pad(w);
        long parameters = 0;
        foreach (var tensor in _tensors)
        {
            var values = tensor.Values();
            if (values.LongLength != tensor.Elements)
            {
                throw new InvalidOperationException($"tensor {tensor.Name} has {values.LongLength} values for {tensor.Elements} elements");
            }

            w.Write(Encode(values, tensor.Type, tensor.Dimensions[0]));
            Pad(w);
            parameters += tensor.Elements;
        }

        return parameters;
    }

    /// <summary>The bytes of <paramref name="values"/> as ggml type <paramref name="type"/>.</summary>
    internal static byte[] Encode(float[] values, uint type, long rowLength)
    {
        switch (type)
        {
            case TypeF32:
                var f32 = new byte[values.Length * 4];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), values[i]);
                }

                return f32;
            case TypeF16:
                var f16 = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(i * 2), (Half)values[i]);
                }

                return f16;
            case TypeQ4_0:
                if (rowLength % Q4BlockWeights != 0)
                {
                    throw new ArgumentException($"a Q4_0 row of {rowLength} weights is not a whole number of {Q4BlockWeights}-weight blocks");
                }

                var q4 = new byte[values.Length / Q4BlockWeights * Q4BlockBytes];
                for (var block = 0; block < values.Length / Q4BlockWeights; block++)
                {
                    QuantizeQ4_0(values.AsSpan(block * Q4BlockWeights, Q4BlockWeights), q4.AsSpan(block * Q4BlockBytes, Q4BlockBytes));
                }

                return q4;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "the forge writes F32, F16 and Q4_0 only");
        }
    }

    /// <summary>
    /// One Q4_0 block as ggml's <c>quantize_row_q4_0_ref</c> makes it: the scale is the weight of largest magnitude
    /// divided by -8, and weight <c>j</c> and <c>j + 16</c> share byte <c>j</c> (low and high nibble), offset by 8.
    /// </summary>
    internal static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        var amax = 0f;
        var max = 0f;
        foreach (var v in x)
        {
            if (MathF.Abs(v) > amax)
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }

        var d = max / -8f;
        var id = d != 0f ? 1f / d : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
        for (var j = 0; j < Q4BlockWeights / 2; j++)
        {
            var x0 = x[j] * id;
            var x1 = x[(Q4BlockWeights / 2) + j] * id;
            var q0 = Math.Min(15, (int)(sbyte)(x0 + 8.5f));
            var q1 = Math.Min(15, (int)(sbyte)(x1 + 8.5f));
            block[2 + j] = (byte)(q0 | (q1 << 4));
        }
    }

    /// <summary>Inverse of <see cref="QuantizeQ4_0"/> (ggml's <c>dequantize_row_q4_0</c>).</summary>
    internal static void DequantizeQ4_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        for (var j = 0; j < Q4BlockWeights / 2; j++)
        {
            y[j] = ((block[2 + j] & 0x0F) - 8) * d;
            y[(Q4BlockWeights / 2) + j] = ((block[2 + j] >> 4) - 8) * d;
        }
    }

    private static ulong Padded(ulong bytes) => (bytes + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        var position = w.BaseStream.Position;
        var padding = (int)(Padded((ulong)position) - (ulong)position);
        for (var i = 0; i < padding; i++)
        {
            w.Write((byte)0);
        }
    }

    private static void WriteString(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>One entry of the tensor table.</summary>
    private sealed record GgufTensor(string Name, long[] Dimensions, uint Type, Func<float[]> Values)
    {
        public long Elements => Dimensions.Aggregate(1L, (a, b) => a * b);

        public ulong Bytes => Type switch
        {
            GgufWriter.TypeF32 => (ulong)Elements * 4,
            GgufWriter.TypeF16 => (ulong)Elements * 2,
            GgufWriter.TypeQ4_0 => (ulong)(Elements / GgufWriter.Q4BlockWeights * GgufWriter.Q4BlockBytes),
            _ => throw new InvalidOperationException($"type {Type}"),
        };
    }
}
