using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Tests.Packaged;
using Enclave.Inference.Text;
using Microsoft.ML.Tokenizers;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// The WordPiece family (BERT): BertNormalizer, BertPreTokenizer, WordPiece with <c>##</c>, <c>[CLS] $A [SEP]</c> and the
/// WordPiece decoder, on a small vocabulary whose every answer is worked out by hand, and on the real BERT uncased
/// vocabulary of all-MiniLM-L6-v2 against Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>.
/// </summary>
public sealed class WordPieceTokenizerTests
{
    private static readonly string[] SmallVocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##aff", "##able", "cafe", "naive", ",", "!", ".", "'", "s",
        "中", "国", "##s", "it", "a", "##b", "##c",
    ];

    private static JsonObject SmallTokenizerJson(int maxInputCharsPerWord = 100, bool lowercase = true)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < SmallVocabulary.Length; i++)
        {
            vocab[SmallVocabulary[i]] = i;
        }

        var json = JsonNode.Parse("""
            {"version":"1.0","truncation":null,"padding":null,
             "added_tokens":[
               {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":4,"content":"[MASK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
             "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
             "pre_tokenizer":{"type":"BertPreTokenizer"},
             "post_processor":{"type":"TemplateProcessing",
               "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
               "pair":[],
               "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
             "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
             "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{}}}
            """)!.AsObject();
        json["model"]!["vocab"] = vocab;
        json["model"]!["max_input_chars_per_word"] = maxInputCharsPerWord;
        json["normalizer"]!["lowercase"] = lowercase;
        return json;
    }

    private static ITextTokenizer Small(int maxInputCharsPerWord = 100, bool lowercase = true) =>
        TokenizerLoader.Load(Encoding.UTF8.GetBytes(SmallTokenizerJson(maxInputCharsPerWord, lowercase).ToJsonString())).Tokenizer;

    private static string[] Tokens(IReadOnlyList<int> ids) => [.. ids.Select(id => SmallVocabulary[id])];

    [Fact]
    public void Encode_SplitsWordsIntoLongestPiecesWithContinuationPrefix()
    {
        Assert.Equal(["[CLS]", "un", "##aff", "##able", "[SEP]"], Tokens(Small().Encode("unaffable", addSpecialTokens: true)));
    }

    [Fact]
    public void Encode_LowerCasesAndStripsAccents()
    {
        Assert.Equal(["hello", "cafe", "naive"], Tokens(Small().Encode("HÉLLO Café NAÏVE", addSpecialTokens: false)));
        Assert.Equal(["cafe"], Tokens(Small().Encode("cafe\u0301", addSpecialTokens: false))); // a combining accent goes too
    }

    [Fact]
    public void Encode_WithoutLowercase_KeepsCaseAndAccents()
    {
        // strip_accents null follows lowercase: neither is done, so neither word is in the vocabulary.
        Assert.Equal(["[UNK]", "[UNK]"], Tokens(Small(lowercase: false).Encode("Hello café", addSpecialTokens: false)));
    }

    [Fact]
    public void Encode_SplitsChineseCharactersOneByOne()
    {
        Assert.Equal(["中", "国", "hello"], Tokens(Small().Encode("中国hello", addSpecialTokens: false)));
    }

    [Fact]
    public void Encode_IsolatesEveryPunctuationCharacter()
    {
        Assert.Equal(["hello", ",", "world", "!", "!", "it", "'", "s", "."], Tokens(Small().Encode("hello,world!! it's.", addSpecialTokens: false)));
    }

    [Fact]
    public void Encode_MakesAWordWithAnUncoveredPartOneUnknownToken()
    {
        // "unx": "un" matches, then nothing covers "x" nor "##x": the whole word is [UNK], not "un" + [UNK].
        Assert.Equal(["hello", "[UNK]", "world"], Tokens(Small().Encode("hello unx world", addSpecialTokens: false)));
    }

    [Fact]
    public void Encode_MakesAWordLongerThanMaxInputCharsPerWordUnknown()
    {
        Assert.Equal(["[UNK]"], Tokens(Small(maxInputCharsPerWord: 8).Encode("unaffable", addSpecialTokens: false)));
        Assert.Equal(["un", "##aff", "##able"], Tokens(Small(maxInputCharsPerWord: 9).Encode("unaffable", addSpecialTokens: false)));
    }

    [Fact]
    public void Encode_DropsControlCharactersAndTreatsOtherWhitespaceAsSpace()
    {
        Assert.Equal(["hello", "world"], Tokens(Small().Encode("hel\u0000lo\u200b\u00a0\u3000world\uFFFD", addSpecialTokens: false)));
    }

    [Fact]
    public void Encode_RecognisesSpecialTokensWrittenInTheText()
    {
        Assert.Equal(["hello", "[MASK]"], Tokens(Small().Encode("hello [MASK]", addSpecialTokens: false)));
        Assert.Equal(["[CLS]", "hello", "[MASK]", "[SEP]"], Tokens(Small().Encode("hello [MASK]", addSpecialTokens: true)));
    }

    [Fact]
    public void Decode_JoinsPiecesAndCleansUpPunctuationSpacing()
    {
        ITextTokenizer tokenizer = Small();
        IReadOnlyList<int> ids = tokenizer.Encode("Unaffable, hello world!", addSpecialTokens: true);

        Assert.Equal("unaffable, hello world!", tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("[CLS] unaffable, hello world! [SEP]", tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_000)]
    public void Load_RejectsAnOutOfRangeMaxInputCharsPerWord(int value)
    {
        TokenizerException e = Assert.Throws<TokenizerException>(() => Small(maxInputCharsPerWord: value));

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("max_input_chars_per_word", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAnUnknownTokenMissingFromTheVocabulary()
    {
        JsonObject json = SmallTokenizerJson();
        json["model"]!["unk_token"] = "<unk>";

        TokenizerException e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("model.unk_token", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.99)]
    public void Load_RejectsATruncatedWordPieceTokenizer(double fraction)
    {
        byte[] json = Encoding.UTF8.GetBytes(SmallTokenizerJson().ToJsonString());

        Assert.Equal(TokenizerError.MalformedJson, Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(json.AsMemory(0, (int)(json.Length * fraction)))).Reason);
    }

    [Fact]
    public void Load_RejectsADuplicateVocabularyKey()
    {
        string json = SmallTokenizerJson().ToJsonString().Replace("\"hello\":5", "\"hello\":5,\"hello\":6", StringComparison.Ordinal);

        Assert.Equal(TokenizerError.MalformedJson, Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(Encoding.UTF8.GetBytes(json))).Reason);
    }

    [Fact]
    public void Load_RejectsInvalidUtf8InAVocabularyEntry()
    {
        byte[] json = Encoding.UTF8.GetBytes(SmallTokenizerJson().ToJsonString());
        int at = Encoding.UTF8.GetString(json).IndexOf("\"world\"", StringComparison.Ordinal) + 1;
        json[at] = 0xFF;

        Assert.Equal(TokenizerError.MalformedJson, Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(json)).Reason);
    }

    [Fact]
    public void Load_RejectsAVocabularyIdTamperedIntoACollision()
    {
        string json = SmallTokenizerJson().ToJsonString().Replace("\"world\":6", "\"world\":5", StringComparison.Ordinal);

        TokenizerException e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("model.vocab", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAnOversizedTokenizerJson()
    {
        byte[] json = Encoding.UTF8.GetBytes(SmallTokenizerJson().ToJsonString());

        TokenizerException e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(json, limits: new TokenizerLimits { MaxTokenizerJsonBytes = json.Length - 1 }));

        Assert.Equal(TokenizerError.FileTooLarge, e.Reason);
    }

    [Fact]
    public void Load_RejectsAVocabularyLargerThanTheLimit()
    {
        byte[] json = Encoding.UTF8.GetBytes(SmallTokenizerJson().ToJsonString());

        TokenizerException e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(json, limits: new TokenizerLimits { MaxVocabularySize = 10 }));

        Assert.Equal(TokenizerError.LimitExceeded, e.Reason);
    }

    /// <summary>Real text: every line of the repository's Markdown documentation, the tokenizer reference corpus, and hand-picked cases.</summary>
    public static TheoryData<string> CorpusFiles() => new("docs", "reference", "cases");

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Encode_WithTheRealBertVocabulary_MatchesMicrosoftMLTokenizersBertTokenizer(string corpus)
    {
        ITextTokenizer ours = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        using var vocab = new MemoryStream(MiniLm.VocabTxt());
        BertTokenizer reference = BertTokenizer.Create(vocab, new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = true, // tokenizer.json: strip_accents null with lowercase true
            IndividuallyTokenizeCjk = true,
            ApplyBasicTokenization = true,
            SplitOnSpecialTokens = true,
        });

        // BertTokenizer (2.0.1) departs from BERT and Hugging Face tokenizers in four ways, so the cross-check runs on
        // texts made neutral to them, and the tests named after each case cover what Enclave does there:
        // - it keeps only word characters (\w: letters, Mn, Nd, '_') and punctuation and drops the rest: symbols (Sm,
        //   Sc, Sk, So: ASCII $ + < = > ^ ` | ~), Mc and Me marks (Devanagari vowel signs), No (superscripts), where BERT
        //   makes each ASCII symbol a token and keeps the others inside words; it drops every character outside the BMP
        //   (a surrogate pair is no \w to .NET's regular expressions), where BERT keeps them (as [UNK] if unknown);
        // - it keeps '_' inside words and takes U+FEFF (Cf) for a space, where BERT splits '_' off as punctuation and deletes Cf;
        // - it deletes tab, newline and carriage return, where BERT takes them for spaces;
        // - it strips combining marks without decomposing first, so 'é' stays and the word becomes [UNK], where BERT
        //   decomposes (NFD) and strips 'e\u0301' to 'e'. Texts are decomposed beforehand to make both agree.
        List<string> texts = [.. Corpus(corpus).Select(Comparable)];
        Assert.True(texts.Count > 10, $"corpus '{corpus}' has only {texts.Count} texts");
        var mismatches = new List<string>();
        foreach (string text in texts)
        {
            IReadOnlyList<int> expected = reference.EncodeToIds(text, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);
            IReadOnlyList<int> actual = ours.Encode(text, addSpecialTokens: true);
            if (!expected.SequenceEqual(actual))
            {
                mismatches.Add($"{JsonSerializer.Serialize(text)}: BertTokenizer [{string.Join(",", expected)}], ours [{string.Join(",", actual)}]");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {texts.Count} texts differ:\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Fact]
    public void Encode_KeepsAsciiSymbolsAsTokens_AsHuggingFaceTokenizersDo()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        string vocabulary = Encoding.UTF8.GetString(MiniLm.VocabTxt());
        string[] lines = vocabulary.Split("\r\n");

        IReadOnlyList<int> ids = tokenizer.Encode("a|b`c$d", addSpecialTokens: false);

        Assert.Equal(["a", "|", "b", "`", "c", "$", "d"], ids.Select(id => lines[id]));
    }

    [Fact]
    public void Encode_SplitsUnderscoresOffAndTakesTabsAndNewlinesForSpaces_AsHuggingFaceTokenizersDo()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        string[] lines = Encoding.UTF8.GetString(MiniLm.VocabTxt()).Split("\r\n");

        Assert.Equal(["root", "_", "version", "with", "the", "new", "line"], tokenizer.Encode("root_version with\tthe\nnew\r\nline", addSpecialTokens: false).Select(id => lines[id]));
    }

    [Fact]
    public void Encode_DecomposesBeforeStrippingAccents_AsHuggingFaceTokenizersDo()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;

        Assert.Equal(tokenizer.Encode("naive cafe deja vu", addSpecialTokens: true), tokenizer.Encode("naïve café déjà vu", addSpecialTokens: true));
        Assert.DoesNotContain(100, tokenizer.Encode("Grüße aus Köln, Ångström", addSpecialTokens: true)); // no [UNK]
    }

    private static string Comparable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (Rune r in Enclave.Inference.Text.Pipeline.UnicodeNormalization.Nfd(text).EnumerateRunes())
        {
            UnicodeCategory category = Rune.GetUnicodeCategory(r);
            bool kept = r.Value is not ('_' or '\t' or '\n' or '\r') && r.IsBmp && (Rune.IsLetter(r) || Rune.IsWhiteSpace(r) || category is UnicodeCategory.NonSpacingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation);
            builder.Append(kept ? r.ToString() : " ");
        }

        return builder.ToString();
    }

    private static List<string> Corpus(string name)
    {
        string root = Path.GetFullPath(Path.Combine(ReferenceFixtures.Root, "..", "..", ".."));
        return name switch
        {
            "docs" => [.. Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal)
                .SelectMany(File.ReadAllLines).Where(l => !string.IsNullOrWhiteSpace(l)).Distinct(StringComparer.Ordinal)],
            "reference" => [.. JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(ReferenceFixtures.Root, "corpus.json")))!
                .Where(t => !string.IsNullOrWhiteSpace(t))],
            _ =>
            [
                "Grüße aus Köln — naïve café, déjà vu, Ångström",
                "中文测试：你好，世界！ 日本語のテキストです。",
                "Hello, world! It's a test... (with brackets) [and more] {braces}",
                "e\u0301 combining vs é precomposed",
                "supercalifragilisticexpialidocious antidisestablishmentarianism",
                "Ελληνικά κείμενα και Русский текст",
                "emoji 👋🌍 and symbols © ® ™ § ¶",
                "numbers 3.14159 1,000,000 2025-01-31 0x1F",
                "tabs\tand\nnew lines\r\nand spaces   here",
                "UPPER lower MiXeD CaSe",
                "a-b_c/d\\e|f@g#h$i%j^k&l*m(n)o+p=q",
                new string('x', 150) + " too long for one word",
            ],
        };
    }
}
