using Enclave.Airlock.Scanners;

namespace Enclave.Airlock.Import;

/// <summary>
/// Tells a chat model from an embedding model by a GGUF file's metadata, read by the GGUF scanner's own header walk
/// (<see cref="GgufScanner.ReadTaskHints"/>), for a bundle that does not say its task. An architecture's
/// <c>pooling_type</c> of mean, cls or last (llama.cpp's 1, 2, 3), or an encoder architecture (BERT and its kin),
/// means embedding; a chat template means chat. Anything else (a reranker's rank pooling, a base model without a
/// template) says neither, and the import is refused until the bundle states its task.
/// </summary>
internal static class GgufTaskDetector
{
    // llama.cpp's architectures whose models embed rather than generate.
    private static readonly HashSet<string> Encoders = new(StringComparer.Ordinal)
    {
        "bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "modern-bert", "neo-bert", "t5encoder",
    };

    /// <summary>Returns <c>chat</c>, <c>embedding</c>, or null when the metadata shows neither (or the header is malformed).</summary>
    public static string? Detect(string path, ContentScanOptions options)
    {
        var hints = GgufScanner.ReadTaskHints(path, options);
        if (hints?.Architecture is not { } architecture)
        {
            return null;
        }

        if (hints.Pooling.TryGetValue(architecture, out var pooling))
        {
            return pooling is 1 or 2 or 3 ? "embedding" : pooling == 0 && hints.HasChatTemplate ? "chat" : null;
        }

        if (Encoders.Contains(architecture))
        {
            return "embedding";
        }

        return hints.HasChatTemplate ? "chat" : null;
    }
}
