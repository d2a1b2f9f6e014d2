using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Enclave.Airlock.Import;
using Enclave.Airlock.Scanners;
using Enclave.Inference.Forge;
using Enclave.Inference.Onnx;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// The airlock's content scanners. A scanner reports a malformed file as a finding (not clean) and never throws:
/// any exception out of <see cref="IContentScanner.Scan"/> is a finding of the fuzzer. The ONNX harness drives the
/// one ONNX protobuf reader (<c>Enclave.Core.Onnx.OnnxProtobufReader</c>) through all three of its users over the same
/// bytes: the scanner, the import's task detector and the inference side's external-data validator (each reports a
/// malformed file as a finding, a null task or a problem; none throws).
/// </summary>
internal static class ScannerTargets
{
    private static readonly ContentScanOptions Options = ContentScanOptions.Default;

    public static Harness Pickle { get; } = new()
    {
        Name = "pickle",
        Parser = "Enclave.Airlock.Scanners.PickleScanner",
        Run = input =>
        {
            // .pkl is scanned strictly; a zip (PyTorch .pt) is recognised by its magic whatever the extension.
            new PickleScanner(Options).Scan(Scratch.Write("fuzz.pkl", input));
        },
        Seeds = () =>
        [
            ("dict.pkl", [0x80, 0x02, (byte)'}', (byte)'q', 0x00, (byte)'(', (byte)'X', 1, 0, 0, 0, (byte)'a', (byte)'K', 1,
                (byte)'X', 1, 0, 0, 0, (byte)'b', (byte)']', (byte)'q', 1, (byte)'(', (byte)'K', 1, (byte)'K', 2, (byte)'e', (byte)'u', (byte)'.']),
            Seeds.Text("protocol0.pkl", "cos\nsystem\n(S'echo pwned'\ntR."),
            ("stackglobal.pkl", [0x80, 0x04, 0x8c, 2, (byte)'o', (byte)'s', 0x94, 0x8c, 6, .. "system"u8, 0x94, 0x93, 0x94,
                0x8c, 1, (byte)'x', 0x94, 0x85, 0x94, (byte)'R', 0x94, (byte)'.']),
            ("torch.pt", Zip(("archive/data.pkl", [0x80, 0x02, (byte)'}', (byte)'.']), ("archive/version", "3\n"u8.ToArray()))),
        ],
    };

    public static Harness Onnx { get; } = new()
    {
        Name = "onnx",
        Parser = "Enclave.Core.Onnx.OnnxProtobufReader through Enclave.Airlock.Scanners.OnnxScanner, Enclave.Airlock.Import.OnnxTaskDetector, Enclave.Inference.Onnx.OnnxExternalDataValidator",
        Run = input =>
        {
            var path = Scratch.Write("model.onnx", input);
            new OnnxScanner(Options).Scan(path);
            OnnxTaskDetector.Detect(path, Options.MaxProtobufFields);
            OnnxExternalDataValidator.Validate(path, Scratch.Folder);
        },
        Seeds = () =>
        [
            ("model.onnx", OnnxModel("w.bin")),
            ("traversal.onnx", OnnxModel("../../etc/passwd")),
            ("length-past-end.onnx", [.. Varint(1, 8), 0x3a, 0xff, 0xff, 0x03, 0x00]),
        ],
    };

    public static Harness Gguf { get; } = new()
    {
        Name = "gguf",
        Parser = "Enclave.Airlock.Scanners.GgufScanner",
        Run = input => new GgufScanner(Options).Scan(Scratch.Write("model.gguf", input)),
        Seeds = () => [("model.gguf", GgufModel(3)), ("v2.gguf", GgufModel(2)), ("forged.gguf", ForgedGguf())],
    };

    public static Harness Safetensors { get; } = new()
    {
        Name = "safetensors",
        Parser = "Enclave.Airlock.Scanners.SafetensorsScanner",
        Run = input => new SafetensorsScanner(Options).Scan(Scratch.Write("model.safetensors", input)),
        Seeds = () =>
        [
            ("model.safetensors", SafetensorsFile("""{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]}}""", 24)),
            ("empty.safetensors", SafetensorsFile("{}", 0)),
        ],
    };

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(content);
            }
        }

        return stream.ToArray();
    }

    private static byte[] OnnxModel(string location)
    {
        var node = Concat(Str(1, "x"), Str(2, "y"), Str(4, "Relu"), Str(7, string.Empty));
        var raw = Concat(Str(8, "b"), Message(9, new byte[16]));
        var tensor = Concat(Str(8, "w"), Message(13, Concat(Str(1, "location"), Str(2, location))), Message(13, Concat(Str(1, "offset"), Str(2, "0"))), Varint(14, 1));
        var graph = Concat(Message(1, node), Str(2, "g"), Message(5, tensor), Message(5, raw));
        return Concat(Varint(1, 8), Str(2, "fuzz"), Message(7, graph), Message(8, Concat(Str(1, string.Empty), Varint(2, 17))));
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static byte[] Str(int field, string value) => Message(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Message(int field, byte[] body) => Concat(VarintBytes((ulong)((field << 3) | 2)), VarintBytes((ulong)body.Length), body);

    private static byte[] Varint(int field, ulong value) => Concat(VarintBytes((ulong)(field << 3)), VarintBytes(value));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }

    /// <summary>The smallest model the forge writes as GGUF (what <c>enclave models forge --format gguf</c> makes), in Q4_0.</summary>
    private static byte[] ForgedGguf()
    {
        var dir = Directory.CreateTempSubdirectory("enclave-fuzz-gguf-").FullName;
        try
        {
            var options = new ForgeOptions { Layers = 1, Hidden = 32, Heads = 2, Vocab = 259 };
            ModelForge.ForgeGguf(dir, options, GgufWeightType.Q4_0);
            return File.ReadAllBytes(Path.Combine(dir, ModelForge.GgufFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static byte[] GgufModel(uint version)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write("GGUF"u8);
        w.Write(version);
        w.Write(1UL);
        w.Write(3UL);
        GgufString(w, "general.architecture");
        w.Write(8u);
        GgufString(w, "llama");
        GgufString(w, "tokenizer.ggml.tokens");
        w.Write(9u);
        w.Write(8u);
        w.Write(2UL);
        GgufString(w, "a");
        GgufString(w, "b");
        GgufString(w, "general.alignment");
        w.Write(4u);
        w.Write(32u);
        GgufString(w, "token_embd.weight");
        w.Write(2u);
        w.Write(4UL);
        w.Write(4UL);
        w.Write(0u);
        w.Write(0UL);
        while (stream.Length % 32 != 0)
        {
            w.Write((byte)0);
        }

        w.Write(new byte[64]);
        w.Flush();
        return stream.ToArray();
    }

    private static void GgufString(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static byte[] SafetensorsFile(string header, int dataLength)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }
}
