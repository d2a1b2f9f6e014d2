using System.Runtime.CompilerServices;
using System.Text;
using Enclave.Inference.Text;

namespace Enclave.Inference.Structured;

/// <summary>
/// A model's vocabulary as a byte trie: each token's bytes (what it adds to a decoded text) are a path from the root,
/// so tokens that share a prefix are checked against a grammar state once for that prefix. Built once per tokenizer
/// and logits width and shared by every constrained sequence of the model. Tokens that write no text (special tokens,
/// logits rows past the tokenizer's table) are never part of a constrained document.
/// </summary>
public sealed class TokenVocabulary
{
    private static readonly ConditionalWeakTable<ITextTokenizer, Dictionary<int, TokenVocabulary>> Cache = [];

    private readonly byte[]?[] _bytes;

    private TokenVocabulary(byte[]?[] bytes)
    {
        _bytes = bytes;
        var children = new List<Dictionary<byte, int>> { new() };
        var tokens = new List<List<int>?> { null };
        for (var id = 0; id < bytes.Length; id++)
        {
            if (bytes[id] is not { Length: > 0 } b)
            {
                continue;
            }

            var node = 0;
            foreach (var value in b)
            {
                if (!children[node].TryGetValue(value, out var child))
                {
                    child = children.Count;
                    children[node][value] = child;
                    children.Add([]);
                    tokens.Add(null);
                }

                node = child;
            }

            (tokens[node] ??= []).Add(id);
            TextTokens++;
        }

        NodeCount = children.Count;
        Children = [.. children.Select(c => c.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)).ToArray())];
        Tokens = [.. tokens.Select(t => t?.ToArray() ?? [])];
        var single = new bool[256];
        foreach (var (value, child) in Children[0])
        {
            single[value] = Tokens[child].Length > 0;
        }

        HasEveryByte = single.All(s => s);
    }

    /// <summary>Logits width: token IDs are 0..Size-1.</summary>
    public int Size => _bytes.Length;

    /// <summary>Tokens that write text.</summary>
    public int TextTokens { get; }

    /// <summary>Trie nodes.</summary>
    public int NodeCount { get; }

    /// <summary>Whether every byte value is a token on its own (byte-level BPE, byte fallback), so any document can be spelled.</summary>
    public bool HasEveryByte { get; }

    internal (byte Value, int Child)[][] Children { get; }

    internal int[][] Tokens { get; }

    /// <summary>The vocabulary of <paramref name="tokenizer"/> for a model with <paramref name="logitsWidth"/> logits (cached).</summary>
    public static TokenVocabulary For(ITextTokenizer tokenizer, int logitsWidth)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var perWidth = Cache.GetOrCreateValue(tokenizer);
        lock (perWidth)
        {
            if (!perWidth.TryGetValue(logitsWidth, out var vocabulary))
            {
                vocabulary = Build(tokenizer, logitsWidth);
                perWidth[logitsWidth] = vocabulary;
            }

            return vocabulary;
        }
    }

    /// <summary>The bytes of token <paramref name="id"/>, or null when it writes no text.</summary>
    public byte[]? BytesOf(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : null;

    private static TokenVocabulary Build(ITextTokenizer tokenizer, int logitsWidth)
    {
        var bytes = new byte[]?[logitsWidth];
        var direct = tokenizer as ITokenBytes;
        var limit = Math.Min(logitsWidth, tokenizer.VocabularySize);
        for (var id = 0; id < limit; id++)
        {
            if (direct is not null)
            {
                bytes[id] = direct.TokenBytes(id);
                continue;
            }

            // A tokenizer that cannot say its bytes: a token decoded alone, unless it is part of a character (U+FFFD).
            var text = tokenizer.Decode([id], skipSpecialTokens: true);
            bytes[id] = text.Length == 0 || text.Contains('\uFFFD', StringComparison.Ordinal) ? null : Encoding.UTF8.GetBytes(text);
        }

        return new TokenVocabulary(bytes);
    }
}
