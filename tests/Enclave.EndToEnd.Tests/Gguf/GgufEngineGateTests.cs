using System.Text;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Server.Hosting;

namespace Enclave.EndToEnd.Tests.Gguf;

/// <summary>
/// The GGUF scanner is the gate before llama.cpp on the engine's side too (<c>LocalModelRegistry.LoadGguf</c>): a
/// dev-registered folder whose <c>model.gguf</c> the scanner refuses is not loaded, even where llama.cpp itself would
/// have read the file.
/// </summary>
public sealed class GgufEngineGateTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-gguf-gate-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void LoadFolder_RefusesAGgufTheScannerRefuses_ThatLlamaCppWouldLoad()
    {
        var dir = ModelForge.ForgeGguf(Path.Combine(_root, "chat"), new ForgeOptions { Seed = 2, Hidden = 32, Heads = 2 }, GgufWeightType.Q4_0).Directory;
        var file = Path.Combine(dir, ModelForge.GgufFileName);
        using (var clean = LocalModelRegistry.LoadFolder(dir, "chat"))
        {
            Assert.Equal("chat", clean.Route.Kind);
        }

        // One byte of the chat template (a string value) made invalid UTF-8: llama.cpp reads strings as bytes and loads it.
        var bytes = File.ReadAllBytes(file);
        var at = bytes.AsSpan().IndexOf("You are a helpful assistant."u8);
        Assert.True(at > 0);
        bytes[at] = 0xFF;
        File.WriteAllBytes(file, bytes);
        using (var llama = GgufDecoderModel.Load(file, new GgufEngineOptions { ContextLength = 64 }))
        {
            Assert.NotNull(llama.ChatTemplate);
        }

        var refused = Assert.Throws<InvalidModelException>(() => LocalModelRegistry.LoadFolder(dir, "chat"));
        var problem = Assert.Single(refused.Problems);
        Assert.Contains("bad GGUF header", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("the value of 'tokenizer.chat_template' is not valid UTF-8", problem.Detail, StringComparison.Ordinal);

        // A header llama.cpp would not read either: refused by the scanner, with the scanner's words.
        var tensorCount = File.ReadAllBytes(file);
        BitConverter.GetBytes(1UL << 40).CopyTo(tensorCount, 8);
        File.WriteAllBytes(file, tensorCount);
        var header = Assert.Throws<InvalidModelException>(() => LocalModelRegistry.LoadFolder(dir, "embedding"));
        Assert.Contains("tensor count", Assert.Single(header.Problems).Detail, StringComparison.Ordinal);
    }
}
