using System.Formats.Tar;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Core;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// The bundle (tar) reader, forward-only as the server reads an upload: rejection is
/// <see cref="BundleRejectedException"/>. The expected targets are fixed (two small files), so that a mutated
/// archive can still reach the copy and digest checks.
/// </summary>
internal static class BundleTarget
{
    private static readonly byte[] Model = Encoding.UTF8.GetBytes("model bytes for the fuzzer\n");
    private static readonly byte[] Readme = Encoding.UTF8.GetBytes("readme\n");

    private static readonly Dictionary<string, ExpectedEntry> Expected = new(StringComparer.Ordinal)
    {
        ["models/demo/model.onnx"] = new() { Length = Model.Length, Sha256 = Sha256Digest.Compute(Model) },
        ["README.md"] = new() { Length = Readme.Length, Sha256 = Sha256Digest.Compute(Readme) },
    };

    private static readonly BundleReader Reader = new(new BundleReaderOptions
    {
        MaxEntries = 64,
        MaxMetadataBytes = 64 * 1024,
        MaxTotalMetadataBytes = 256 * 1024,
        MaxPaxHeaderBytes = 8 * 1024,
        MaxTrailingBytes = 64 * 1024,
        FlushToDisk = false,
        DirectWrites = false,
    });

    public static Harness Harness { get; } = new()
    {
        Name = "bundle",
        Parser = "Enclave.Airlock.Bundles.BundleReader (tar headers, PAX, GNU long names)",
        Run = Run,
        Seeds = () =>
        [
            ("pax.tar", Archive(TarEntryFormat.Pax, "models/demo/model.onnx")),
            ("ustar.tar", Archive(TarEntryFormat.Ustar, "models/demo/model.onnx")),
            ("gnu-longname.tar", Archive(TarEntryFormat.Gnu, "models/demo/model.onnx")),
            ("pax-longname.tar", Archive(TarEntryFormat.Pax, "models/" + new string('d', 120) + "/model.onnx")),
        ],
    };

    private static void Run(byte[] input)
    {
        using var stream = new MemoryStream(input, writable: false);
        BundleContents contents;
        try
        {
            contents = Reader.Read(stream, _ => Expected, Scratch.Folder);
        }
        catch (BundleRejectedException)
        {
            return;
        }

        Directory.Delete(contents.QuarantineDirectory, recursive: true);
    }

    private static byte[] Archive(TarEntryFormat format, string modelName)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, format, leaveOpen: true))
        {
            Write(writer, format, "metadata/root.json", Encoding.UTF8.GetBytes("""{"signed":{"_type":"root"},"signatures":[]}"""));
            Write(writer, format, "metadata/bundle.json", Encoding.UTF8.GetBytes("""{"targets":["models/demo/model.onnx","README.md"]}"""));
            Write(writer, format, modelName, Model);
            Write(writer, format, "README.md", Readme);
        }

        return buffer.ToArray();
    }

    private static void Write(TarWriter writer, TarEntryFormat format, string name, byte[] content)
    {
        TarEntry entry = format switch
        {
            TarEntryFormat.Ustar => new UstarTarEntry(TarEntryType.RegularFile, name),
            TarEntryFormat.Gnu => new GnuTarEntry(TarEntryType.RegularFile, name),
            _ => new PaxTarEntry(TarEntryType.RegularFile, name),
        };
        entry.DataStream = new MemoryStream(content);
        writer.WriteEntry(entry);
    }
}
