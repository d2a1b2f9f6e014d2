using System.Buffers.Binary;
using System.Text;
using Enclave.Airlock.Import;
using Enclave.Airlock.Scanners;
using Enclave.Airlock.Tests.Scanners;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// A GGUF model bundle that does not state its task gets one from the file's metadata (pooling type, encoder
/// architecture, chat template) or none, and a malformed header gives none (the scanner refuses it anyway).
/// </summary>
public sealed class GgufTaskDetectorTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void ADecoderWithAChatTemplate_IsChat() =>
        Assert.Equal("chat", Detect(("general.architecture", "llama"), ("llama.context_length", 2048u), ("tokenizer.chat_template", "{{ messages }}")));

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(3u)]
    public void AMeanClsOrLastPoolingType_IsEmbedding(uint pooling) =>
        Assert.Equal("embedding", Detect(("general.architecture", "llama"), ("llama.pooling_type", pooling), ("tokenizer.chat_template", "{{ messages }}")));

    [Fact]
    public void AnEncoderArchitecture_IsEmbedding_WithoutAPoolingType() =>
        Assert.Equal("embedding", Detect(("general.architecture", "bert"), ("bert.context_length", 512u)));

    [Fact]
    public void ARerankersRankPooling_SaysNeither() =>
        Assert.Null(Detect(("general.architecture", "bert"), ("bert.pooling_type", 4u)));

    [Fact]
    public void ABaseDecoderWithoutATemplate_SaysNeither() =>
        Assert.Null(Detect(("general.architecture", "llama"), ("llama.context_length", 2048u)));

    [Fact]
    public void APoolingTypeOfAnotherArchitecture_DoesNotCount() =>
        Assert.Null(Detect(("general.architecture", "llama"), ("bert.pooling_type", 1u)));

    [Fact]
    public void NoArchitecture_SaysNeither() =>
        Assert.Null(Detect(("tokenizer.chat_template", "{{ messages }}")));

    [Fact]
    public void ATruncatedOrForeignFile_SaysNeither()
    {
        var bytes = Gguf(("general.architecture", "llama"), ("tokenizer.chat_template", "{{ messages }}"));
        Assert.Null(GgufTaskDetector.Detect(_files.Write("cut.gguf", bytes[..(bytes.Length / 2)]), ContentScanOptions.Default));
        Assert.Null(GgufTaskDetector.Detect(_files.Write("not.gguf", Encoding.ASCII.GetBytes("not a gguf file at all")), ContentScanOptions.Default));
        var duplicate = Gguf(("general.architecture", "llama"), ("general.architecture", "bert"));
        Assert.Null(GgufTaskDetector.Detect(_files.Write("dup.gguf", duplicate), ContentScanOptions.Default));
    }

    private string? Detect(params (string Key, object Value)[] metadata) =>
        GgufTaskDetector.Detect(_files.Write($"{Guid.NewGuid():N}.gguf", Gguf(metadata)), ContentScanOptions.Default);

    // A GGUF v3 file with the given metadata (strings and uint32s) and no tensors.
    private static byte[] Gguf(params (string Key, object Value)[] metadata)
    {
        using var stream = new MemoryStream();
        void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); stream.Write(b); }
        void U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); stream.Write(b); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); U64((ulong)b.Length); stream.Write(b); }
        U32(0x46554747); // "GGUF"
        U32(3);
        U64(0);
        U64((ulong)metadata.Length);
        foreach (var (key, value) in metadata)
        {
            Str(key);
            switch (value)
            {
                case string text: U32(8); Str(text); break;
                case uint number: U32(4); U32(number); break;
                default: throw new ArgumentException("strings and uint32s only", nameof(metadata));
            }
        }

        while (stream.Length % 32 != 0)
        {
            stream.WriteByte(0); // the (empty) data section starts at the alignment
        }

        return stream.ToArray();
    }
}
