using System.Text;
using System.Text.RegularExpressions;

namespace Enclave.Inference.Forge;

/// <summary>
/// Learns a byte-level BPE vocabulary the way the Hugging Face trainer does: pre-tokenize with the Qwen2 split
/// pattern, start from the 256 byte tokens, and repeatedly merge the most frequent adjacent pair (ties broken by
/// ordinal order, so the result is deterministic). Stops at the requested size or when no pair occurs twice.
/// </summary>
internal static partial class ByteLevelBpeTrainer
{
    /// <summary>The pre-tokenizer pattern of Qwen2 / Qwen2.5 <c>tokenizer.json</c>.</summary>
    public const string SplitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(SplitPattern)]
    private static partial Regex Split();

    /// <summary>The pieces the pre-tokenizer cuts <paramref name="text"/> into, each as byte-level characters.</summary>
    public static IEnumerable<string> PreTokenize(string text)
    {
        foreach (Match match in Split().Matches(text))
        {
            yield return ByteLevel.Encode(Encoding.UTF8.GetBytes(match.Value));
        }
    }

    public static BpeVocabulary Train(string corpus, int maxTokens)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var piece in PreTokenize(corpus))
        {
            counts[piece] = counts.GetValueOrDefault(piece) + 1;
        }

        var words = counts
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => (Symbols: pair.Key.Select(c => c.ToString()).ToList(), Count: pair.Value))
            .ToList();

        var tokens = ByteLevel.Order.Select(b => ByteLevel.ToChar(b).ToString()).ToList();
        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        var merges = new List<(string Left, string Right)>();
        var pairCounts = new Dictionary<(string, string), int>();
        while (tokens.Count < maxTokens)
        {
            pairCounts.Clear();
            foreach (var (symbols, count) in words)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + count;
                }
            }

            (string Left, string Right) best = default;
            var bestCount = 1;
            foreach (var (pair, count) in pairCounts)
            {
                if (count > bestCount || (count == bestCount && best.Left is not null && Compare(pair, best) < 0))
                {
                    best = pair;
                    bestCount = count;
                }
            }

            if (best.Left is null)
            {
                break;
            }

            var merged = best.Left + best.Right;
            merges.Add(best);
            if (known.Add(merged))
            {
                tokens.Add(merged);
            }

            foreach (var (symbols, _) in words)
            {
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Left && symbols[i + 1] == best.Right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }

        return new BpeVocabulary(tokens, merges);
    }

    private static int Compare((string Left, string Right) a, (string Left, string Right) b)
    {
        var left = string.CompareOrdinal(a.Left, b.Left);
        return left != 0 ? left : string.CompareOrdinal(a.Right, b.Right);
    }
}

/// <summary>BPE tokens in ID order and merges in rank order.</summary>
internal sealed record BpeVocabulary(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges);
