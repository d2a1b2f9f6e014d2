using System.Security.Cryptography;
using System.Text.Json;
using Enclave.Inference.Tests.Packaged;
using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// The WordPiece tokenizer of all-MiniLM-L6-v2 against transformers.js (tests/reference/tokenizers/expected/wordpiece.json,
/// written by generate-wordpiece.mjs): token IDs with and without [CLS]/[SEP] and decoded text, for the reference corpus
/// and WordPiece cases (accents, CJK, Hangul, punctuation, symbols, underscores, control and format characters, [UNK]).
/// One departure of transformers.js from Hugging Face tokenizers is known: it looks for CJK ideographs one UTF-16 code
/// unit at a time, so it never pads those outside the BMP (CJK Extension B and later, U+20000...) and keeps them in the
/// word around them, where Hugging Face tokenizers (Rust, per Unicode scalar) and Enclave split them one by one. The
/// texts with such characters are listed here and checked by <see cref="Encode_SplitsCjkIdeographsOutsideTheBmpOneByOne"/>.
/// </summary>
public sealed class WordPieceReferenceTests
{
    private static readonly JsonElement Expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ReferenceFixtures.Root, "expected", "wordpiece.json"))).RootElement;

    [Fact]
    public void Reference_WasGeneratedFromTheTokenizerJsonEnclaveWrites()
    {
        using FileStream file = File.OpenRead(Path.Combine(MiniLm.Directory, "tokenizer.json"));

        Assert.Equal(Expected.GetProperty("tokenizer_json_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(file)));
    }

    [Fact]
    public void Encode_And_Decode_MatchTransformersJs()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        var mismatches = new List<string>();
        int count = 0;
        var departing = new List<string>();
        foreach (JsonElement entry in Expected.GetProperty("encode").EnumerateArray())
        {
            count++;
            string text = entry.GetProperty("text").GetString()!;
            if (text.EnumerateRunes().Any(r => r.Value >= 0x20000 && Enclave.Inference.Text.Pipeline.BertText.IsChinese(r.Value)))
            {
                departing.Add(text);
                continue;
            }

            int[] ids = [.. entry.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            int[] noSpecial = [.. entry.GetProperty("ids_no_special").EnumerateArray().Select(e => e.GetInt32())];
            IReadOnlyList<int> actual = tokenizer.Encode(text, addSpecialTokens: true);
            if (!actual.SequenceEqual(ids) || !tokenizer.Encode(text, addSpecialTokens: false).SequenceEqual(noSpecial))
            {
                mismatches.Add($"{JsonSerializer.Serialize(text)}: transformers.js [{string.Join(",", ids)}], ours [{string.Join(",", actual)}]");
                continue;
            }

            string decoded = tokenizer.Decode(ids, skipSpecialTokens: true);
            if (decoded != entry.GetProperty("decoded").GetString())
            {
                mismatches.Add($"{JsonSerializer.Serialize(text)}: decoded {JsonSerializer.Serialize(entry.GetProperty("decoded").GetString())} by transformers.js, {JsonSerializer.Serialize(decoded)} by us");
            }
        }

        Assert.True(count >= 60, $"only {count} reference texts");
        Assert.Equal(2, departing.Count); // the corpus line with 𠀀𠀁𠀂 and the WordPiece case with 𠀀𠀁
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {count} differ:\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Fact]
    public void Encode_SplitsCjkIdeographsOutsideTheBmpOneByOne()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;

        // None of U+20000..U+20002 is in the vocabulary: each is its own word, so one [UNK] each.
        Assert.Equal([100, 100, 100], tokenizer.Encode("\U00020000\U00020001\U00020002", addSpecialTokens: false));
        Assert.Equal([1037, 100, 1038], tokenizer.Encode("a\U00020000b", addSpecialTokens: false)); // a [UNK] b, not one [UNK] for "a𠀀b"
    }
}
