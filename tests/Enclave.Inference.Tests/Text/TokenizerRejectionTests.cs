using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>Malformed, tampered, unsupported and oversized tokenizer files are rejected with a reason and a message that says where.</summary>
public sealed class TokenizerRejectionTests : IDisposable
{
    private static readonly string MinimalDirectory = Path.Combine(
        Path.GetDirectoryName(ReferenceFixtures.Root)!, "..", "Enclave.Inference.Tests", "Text", "Fixtures", "minimal-bytelevel");

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "enclave-tokenizer-" + Guid.NewGuid().ToString("N"));

    public TokenizerRejectionTests()
    {
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string MinimalJson => File.ReadAllText(Path.Combine(MinimalDirectory, "tokenizer.json"));

    private static JsonObject Minimal() => JsonNode.Parse(MinimalJson)!.AsObject();

    private TokenizerException Reject(string tokenizerJson, string? config = null, TokenizerLimits? limits = null)
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), tokenizerJson);
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), config);
        }

        return Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(_dir, limits));
    }

    [Fact]
    public void Load_RejectsMissingTokenizerJson()
    {
        TokenizerException e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(_dir));

        Assert.Equal(TokenizerError.FileMissing, e.Reason);
        Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(1000)]
    [InlineData(4000)]
    public void Load_RejectsTruncatedJson(int length)
    {
        TokenizerException e = Reject(MinimalJson[..length]);

        Assert.Equal(TokenizerError.MalformedJson, e.Reason);
        Assert.Contains("tokenizer.json rejected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAFlippedByteThatBreaksTheSyntax()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(MinimalJson);
        int colon = Array.IndexOf(bytes, (byte)':');
        bytes[colon] ^= 0x01; // ':' becomes ';'
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.json"), bytes);

        Assert.Equal(TokenizerError.MalformedJson, Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(_dir)).Reason);
    }

    [Fact]
    public void Load_RejectsDuplicateKeys()
    {
        string json = MinimalJson.Replace("\"version\": \"1.0\",", "\"version\": \"1.0\", \"version\": \"2.0\",", StringComparison.Ordinal);

        Assert.Equal(TokenizerError.MalformedJson, Reject(json).Reason);
    }

    // The cause the canonical-json fuzz harness (fuzz/) found: the duplicate-member check threw InvalidOperationException.
    [Fact]
    public void Load_RejectsAMemberNameWithALoneSurrogate()
    {
        string json = MinimalJson.Replace("\"version\": \"1.0\",", "\"version\": \"1.0\", \"\\ud800\": 1,", StringComparison.Ordinal);

        Assert.Equal(TokenizerError.MalformedJson, Reject(json).Reason);
    }

    // Found by the tokenizer fuzz harness (fuzz/): a string's bytes that are not UTF-8, or a lone surrogate escape,
    // threw InvalidOperationException where the string was first read.
    [Theory]
    [InlineData("\"1.0\"", "\"1.\\ud800\"")]
    [InlineData("\"he\": 257", "\"h\\udc00e\": 257")]
    public void Load_RejectsAStringThatIsNotValidUnicode(string original, string replacement)
    {
        string json = MinimalJson.Replace(original, replacement, StringComparison.Ordinal);
        Assert.NotEqual(MinimalJson, json);

        Assert.Equal(TokenizerError.MalformedJson, Reject(json).Reason);
    }

    [Fact]
    public void Load_RejectsInvalidUtf8InAString()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(MinimalJson);
        int version = IndexOf(bytes, "\"1.0\""u8);
        bytes[version + 1] = 0xC3; // "\xC3.0": a lead byte without its continuation

        TokenizerException e = Assert.Throws<TokenizerException>(() => TokenizerLoader.Load(bytes));

        Assert.Equal(TokenizerError.MalformedJson, e.Reason);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    [Fact]
    public void Load_RejectsDuplicateVocabularyEntries()
    {
        string json = MinimalJson.Replace("\"he\": 257", "\"he\": 257, \"he\": 258", StringComparison.Ordinal);

        Assert.Equal(TokenizerError.MalformedJson, Reject(json).Reason);
    }

    [Fact]
    public void Load_RejectsTwoTokensWithOneId()
    {
        JsonObject tokenizer = Minimal();
        tokenizer["model"]!["vocab"]!["he"] = 258;

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("model.vocab", e.Message, StringComparison.Ordinal);
        Assert.Contains("258", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WordLevel")]
    [InlineData("Unigram")]
    [InlineData("Tiktoken")]
    public void Load_RejectsUnknownModelType(string type)
    {
        JsonObject tokenizer = Minimal();
        tokenizer["model"]!["type"] = type;

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Equal(TokenizerError.Unsupported, e.Reason);
        Assert.Contains("model.type", e.Message, StringComparison.Ordinal);
        Assert.Contains(type, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsMergesReferencingUnknownTokens_AndListsEveryProblem()
    {
        JsonObject tokenizer = Minimal();
        JsonArray merges = tokenizer["model"]!["merges"]!.AsArray();
        merges.Add(new JsonArray("zz", "q"));
        merges.Add(new JsonArray("h", "ello"));
        merges.Add("not-a-pair");

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("model.merges has 3 problems", e.Message, StringComparison.Ordinal);
        Assert.Contains("'zz'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'ello'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[7] is not a pair", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAMergeWhoseResultIsNotInTheVocabulary()
    {
        JsonObject tokenizer = Minimal();
        tokenizer["model"]!["merges"]!.AsArray().Add(new JsonArray("w", "o"));

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Contains("needs 'wo'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normalizer", """{"type": "Precompiled", "precompiled_charsmap": null}""")]
    [InlineData("pre_tokenizer", """{"type": "UnicodeScripts"}""")]
    [InlineData("decoder", """{"type": "CTC"}""")]
    [InlineData("post_processor", """{"type": "Mystery"}""")]
    public void Load_RejectsComponentsItDoesNotImplement(string component, string json)
    {
        JsonObject tokenizer = Minimal();
        tokenizer[component] = JsonNode.Parse(json);

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Equal(TokenizerError.Unsupported, e.Reason);
        Assert.Contains(component, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAnUnknownUnkToken()
    {
        JsonObject tokenizer = Minimal();
        tokenizer["model"]!["unk_token"] = "<unk>";

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("model.unk_token", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsNegativeAndHugeIds()
    {
        JsonObject tokenizer = Minimal();
        tokenizer["added_tokens"]!.AsArray()[0]!["id"] = int.MaxValue;

        TokenizerException e = Reject(tokenizer.ToJsonString());

        Assert.Equal(TokenizerError.InvalidDefinition, e.Reason);
        Assert.Contains("added_tokens[0].id", e.Message, StringComparison.Ordinal);

        tokenizer = Minimal();
        tokenizer["model"]!["vocab"]!["he"] = -5;
        Assert.Contains("-5", Reject(tokenizer.ToJsonString()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAFileLargerThanTheLimit_BeforeParsingIt()
    {
        TokenizerException e = Reject(MinimalJson, limits: new TokenizerLimits { MaxTokenizerJsonBytes = 1000 });

        Assert.Equal(TokenizerError.FileTooLarge, e.Reason);
        Assert.Contains("MaxTokenizerJsonBytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsMoreVocabularyOrMergesThanTheLimits()
    {
        Assert.Equal(TokenizerError.LimitExceeded, Reject(MinimalJson, limits: new TokenizerLimits { MaxVocabularySize = 100 }).Reason);
        Assert.Equal(TokenizerError.LimitExceeded, Reject(MinimalJson, limits: new TokenizerLimits { MaxMerges = 2 }).Reason);
    }

    [Fact]
    public void Load_RejectsJsonNestedDeeperThanTheLimit()
    {
        string json = "{\"extra\": " + new string('[', 100) + new string(']', 100) + "," + MinimalJson.TrimStart()[1..];

        TokenizerException e = Reject(json);

        Assert.Equal(TokenizerError.MalformedJson, e.Reason);
        Assert.Contains("depth", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAChatTemplateThatDoesNotParse_NamingTheProblem()
    {
        TokenizerException e = Reject(MinimalJson, """{"chat_template": "{% for m in messages %}{{ m.content }}"}""");

        Assert.Equal(TokenizerError.TemplateSyntax, e.Reason);
        Assert.Contains("chat template rejected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RejectsAConfigThatIsNotJson()
    {
        TokenizerException e = Reject(MinimalJson, "{\"eos_token\": ");

        Assert.Equal(TokenizerError.MalformedJson, e.Reason);
        Assert.Contains("tokenizer_config.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_RejectsTextLongerThanTheLimit()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), MinimalJson);
        ITextTokenizer tokenizer = TokenizerLoader.Load(_dir, new TokenizerLimits { MaxEncodeChars = 10 }).Tokenizer;

        TokenizerException e = Assert.Throws<TokenizerException>(() => tokenizer.Encode(new string('a', 11), addSpecialTokens: false));

        Assert.Equal(TokenizerError.UnencodableText, e.Reason);
    }

    [Fact]
    public void Encode_RejectsACharacterTheVocabularyCannotExpress_WhenThereIsNoUnkOrByteFallback()
    {
        JsonObject tokenizer = Minimal();
        tokenizer["pre_tokenizer"] = null; // not byte-level: characters go to the model as they are
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), tokenizer.ToJsonString());
        ITextTokenizer loaded = TokenizerLoader.Load(_dir).Tokenizer;

        TokenizerException e = Assert.Throws<TokenizerException>(() => loaded.Encode("hi😀", addSpecialTokens: false));

        Assert.Equal(TokenizerError.UnencodableText, e.Reason);
        Assert.Contains("U+1F600", e.Message, StringComparison.Ordinal);
    }
}
