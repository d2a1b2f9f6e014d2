using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Enclave.Airlock.Scanners;

namespace Enclave.Airlock.Tests.Scanners;

/// <summary>
/// Every scanner, fed every single-byte flip and every truncation of a valid input, returns a result
/// (never throws) — a parser that crashes on hostile input is a parser that can be bypassed.
/// </summary>
public sealed class ScannerTamperTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    public static TheoryData<string> Inputs => ["model.pkl", "model.pt", "m/model.onnx", "m.safetensors", "m.gguf"];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Scan_NeverThrows_OnFlippedBytesOrTruncation(string name)
    {
        var original = Valid(name);
        IContentScanner scanner = name switch
        {
            "model.pkl" or "model.pt" => new PickleScanner(),
            "m/model.onnx" => new OnnxScanner(),
            "m.safetensors" => new SafetensorsScanner(),
            _ => new GgufScanner(),
        };
        Assert.True(scanner.Scan(_files.Write(name, original)).IsClean);

        for (var i = 0; i < original.Length; i++)
        {
            foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                var tampered = (byte[])original.Clone();
                tampered[i] ^= mask;
                scanner.Scan(_files.Write(name, tampered));
            }

            var truncated = scanner.Scan(_files.Write(name, original[..i]));
            if (name != "model.pt")
            {
                Assert.False(truncated.IsClean, $"truncation to {i} bytes passed");
            }
        }
    }

    private static byte[] Valid(string name)
    {
        switch (name)
        {
            case "model.pkl":
                return [0x80, 0x04, 0x8c, 11, .. "collections"u8, 0x94, 0x8c, 11, .. "OrderedDict"u8, 0x94, 0x93, (byte)')', (byte)'R', (byte)'}', (byte)'(', 0x8c, 1, (byte)'a', (byte)'K', 1, (byte)'u', (byte)'b', (byte)'.'];
            case "model.pt":
                using (var stream = new MemoryStream())
                {
                    using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
                    {
                        using var entry = zip.CreateEntry("archive/data.pkl").Open();
                        entry.Write(Valid("model.pkl"));
                    }

                    return stream.ToArray();
                }

            case "m/model.onnx":
                byte[] opset = [0x0a, 0x00, 0x10, 17];
                byte[] entry1 = [0x0a, 8, .. "location"u8, 0x12, 5, .. "w.bin"u8];
                byte[] tensor = [0x42, 1, (byte)'w', 0x6a, (byte)entry1.Length, .. entry1, 0x70, 1];
                byte[] node = [0x22, 4, .. "Relu"u8, 0x3a, 0];
                byte[] graph = [0x0a, (byte)node.Length, .. node, 0x2a, (byte)tensor.Length, .. tensor];
                return [0x08, 8, 0x3a, (byte)graph.Length, .. graph, 0x42, (byte)opset.Length, .. opset];
            case "m.safetensors":
                var json = Encoding.UTF8.GetBytes("""{"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}""");
                var bytes = new byte[8 + json.Length + 11];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
                json.CopyTo(bytes, 8);
                return bytes;
            default:
                using (var stream = new MemoryStream())
                using (var w = new BinaryWriter(stream))
                {
                    w.Write("GGUF"u8);
                    w.Write(3u);
                    w.Write(1UL);
                    w.Write(1UL);
                    w.Write(4UL);
                    w.Write("name"u8);
                    w.Write(8u);
                    w.Write(2UL);
                    w.Write("ok"u8);
                    w.Write(1UL);
                    w.Write("t"u8);
                    w.Write(1u);
                    w.Write(8UL);
                    w.Write(0u);
                    w.Write(0UL);
                    while (stream.Length % 32 != 0)
                    {
                        w.Write((byte)0);
                    }

                    w.Write(new byte[32]);
                    w.Flush();
                    return stream.ToArray();
                }
        }
    }
}
