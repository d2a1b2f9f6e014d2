using System.Text;
using System.Text.Json;
using Enclave.Inference.Text.Jinja;
using Enclave.Inference.Text.Pipeline;

namespace Enclave.Inference.Text;

/// <summary>
/// Loads a model's tokenizer and chat template from the files Hugging Face puts beside the weights:
/// <c>tokenizer.json</c> (required), <c>tokenizer_config.json</c>, <c>chat_template.jinja</c> and <c>generation_config.json</c>.
/// Every size and count is bounded by <see cref="TokenizerLimits"/>; anything malformed or unsupported is rejected with
/// a <see cref="TokenizerException"/> that names the file and the field.
/// </summary>
public static class TokenizerLoader
{
    private const int MaxProblemsListed = 10;

    // End-of-turn tokens of the chat templates this engine targets; one counts as end of sequence when the
    // tokenizer has it as a special token and the chat template writes it.
    private static readonly string[] EndOfTurnTokens =
        ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>"];

    private static readonly string[] SpecialTokenAttributes =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    /// <summary>
    /// Loads the tokenizer and chat template of the model in <paramref name="modelDirectory"/>, within <paramref name="limits"/>
    /// (<see cref="TokenizerLimits.Default"/> when null). <paramref name="timeProvider"/> is the clock a template's
    /// <c>strftime_now</c> reads (the system clock when null).
    /// </summary>
    public static LoadedTokenizer Load(string modelDirectory, TokenizerLimits? limits = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        limits ??= TokenizerLimits.Default;
        string tokenizerPath = Path.Combine(modelDirectory, "tokenizer.json");
        if (!File.Exists(tokenizerPath))
        {
            throw new TokenizerException(TokenizerError.FileMissing, $"tokenizer rejected: {tokenizerPath} does not exist; a model directory needs the tokenizer.json Hugging Face exports with the model");
        }

        byte[] tokenizerJson = ReadBounded(tokenizerPath, limits.MaxTokenizerJsonBytes, nameof(TokenizerLimits.MaxTokenizerJsonBytes));
        byte[]? config = ReadOptional(Path.Combine(modelDirectory, "tokenizer_config.json"), limits);
        byte[]? template = ReadOptional(Path.Combine(modelDirectory, "chat_template.jinja"), limits);
        byte[]? generation = ReadOptional(Path.Combine(modelDirectory, "generation_config.json"), limits);
        return Load(
            tokenizerJson,
            config is null ? (ReadOnlyMemory<byte>?)null : config,
            template is null ? null : Utf8(template, "chat_template.jinja"),
            generation is null ? (ReadOnlyMemory<byte>?)null : generation,
            limits,
            timeProvider);
    }

    /// <summary>
    /// Loads a tokenizer from file contents already in memory: <paramref name="tokenizerJson"/> is <c>tokenizer.json</c>,
    /// <paramref name="tokenizerConfigJson"/> <c>tokenizer_config.json</c>, <paramref name="chatTemplate"/> the text of
    /// <c>chat_template.jinja</c> (which wins over the config's <c>chat_template</c>), <paramref name="generationConfigJson"/>
    /// <c>generation_config.json</c> (its <c>eos_token_id</c> joins <see cref="ITextTokenizer.EndOfSequenceIds"/>).
    /// </summary>
    public static LoadedTokenizer Load(
        ReadOnlyMemory<byte> tokenizerJson,
        ReadOnlyMemory<byte>? tokenizerConfigJson = null,
        string? chatTemplate = null,
        ReadOnlyMemory<byte>? generationConfigJson = null,
        TokenizerLimits? limits = null,
        TimeProvider? timeProvider = null)
    {
        limits ??= TokenizerLimits.Default;
        if (tokenizerJson.Length > limits.MaxTokenizerJsonBytes)
        {
            throw TooLarge("tokenizer.json", tokenizerJson.Length, limits.MaxTokenizerJsonBytes, nameof(TokenizerLimits.MaxTokenizerJsonBytes));
        }

        using JsonDocument tokenizerDoc = Parse(tokenizerJson, "tokenizer.json", limits);
        using JsonDocument? configDoc = tokenizerConfigJson is { } c ? Parse(c, "tokenizer_config.json", limits) : null;
        using JsonDocument? generationDoc = generationConfigJson is { } g ? Parse(g, "generation_config.json", limits) : null;

        JsonElement configRoot = configDoc?.RootElement ?? default;
        var configFields = new JsonFields("tokenizer_config.json");
        if (configDoc is not null && configRoot.ValueKind != JsonValueKind.Object)
        {
            throw configFields.Invalid("the top level", "is not an object");
        }

        Dictionary<string, string> specialTokenMap = configDoc is null ? [] : SpecialTokenMap(configRoot, configFields);
        (HuggingFaceTokenizer tokenizer, Dictionary<string, int> tokenIds, HashSet<string> specialTokens) =
            BuildTokenizer(tokenizerDoc.RootElement, configDoc is null ? null : configRoot, configFields, limits);

        string? templateText = chatTemplate ?? (configDoc is null ? null : ConfigChatTemplate(configRoot, configFields));
        JinjaChatTemplate? template = templateText is null
            ? null
            : JinjaChatTemplate.Parse(templateText, specialTokenMap, limits.ChatTemplate, timeProvider);

        var eos = new HashSet<int>();
        if (specialTokenMap.TryGetValue("eos_token", out string? eosToken) && tokenIds.TryGetValue(eosToken, out int eosId))
        {
            eos.Add(eosId);
        }

        if (generationDoc is not null)
        {
            AddGenerationEos(generationDoc.RootElement, eos, tokenizer.VocabularySize);
        }

        if (templateText is not null)
        {
            foreach (string token in EndOfTurnTokens)
            {
                if (specialTokens.Contains(token) && templateText.Contains(token, StringComparison.Ordinal) && tokenIds.TryGetValue(token, out int id))
                {
                    eos.Add(id);
                }
            }
        }

        tokenizer.SetEndOfSequenceIds(eos);
        return new LoadedTokenizer { Tokenizer = tokenizer, ChatTemplate = template };
    }

    private static (HuggingFaceTokenizer Tokenizer, Dictionary<string, int> TokenIds, HashSet<string> SpecialTokens) BuildTokenizer(
        JsonElement root, JsonElement? config, JsonFields configFields, TokenizerLimits limits)
    {
        var fields = new JsonFields("tokenizer.json");
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw fields.Invalid("the top level", "is not an object");
        }

        JsonElement model = fields.Object(root, "model", "$");
        string modelType = fields.OptionalString(model, "type", "model") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "(none)");
        if (modelType is not ("BPE" or "WordPiece"))
        {
            throw fields.Unsupported("model.type", $"'{modelType}' (BPE and WordPiece are)");
        }

        Dictionary<string, int> vocabulary = ReadVocabulary(fields.Object(model, "vocab", "model"), fields, limits);
        List<AddedToken> addedTokens = ReadAddedTokens(root, fields, limits);

        int size = 0;
        foreach (int id in vocabulary.Values)
        {
            size = Math.Max(size, id + 1);
        }

        foreach (AddedToken t in addedTokens)
        {
            size = Math.Max(size, t.Id + 1);
        }

        var idToToken = new string?[size];
        var tokenIds = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        foreach ((string token, int id) in vocabulary)
        {
            idToToken[id] = token;
        }

        var specialTokens = new HashSet<string>(StringComparer.Ordinal);
        foreach (AddedToken t in addedTokens)
        {
            idToToken[t.Id] = t.Content;
            tokenIds[t.Content] = t.Id;
            if (t.Special)
            {
                specialTokens.Add(t.Content);
            }
        }

        string? unknownToken = fields.OptionalString(model, "unk_token", "model");
        if (modelType == "WordPiece")
        {
            unknownToken ??= "[UNK]"; // Hugging Face tokenizers' default
        }

        int? unknownId = null;
        if (unknownToken is not null)
        {
            unknownId = vocabulary.TryGetValue(unknownToken, out int u)
                ? u
                : throw fields.Invalid("model.unk_token", $"is '{unknownToken}', which is not in model.vocab");
        }

        ITokenModel tokenModel = modelType == "BPE"
            ? BuildBpe(model, vocabulary, tokenIds, unknownId, fields, limits)
            : BuildWordPiece(model, vocabulary, unknownId!.Value, fields, limits);

        var addedContents = new HashSet<string>(addedTokens.Select(t => t.Content), StringComparer.Ordinal);
        TextNormalizer? normalizer = TextNormalizer.FromJson(Optional(root, "normalizer"), fields, "normalizer", limits);
        TextPreTokenizer? preTokenizer = TextPreTokenizer.FromJson(Optional(root, "pre_tokenizer"), fields, "pre_tokenizer", limits);
        PostProcessor postProcessor = PostProcessor.FromJson(Optional(root, "post_processor"), fields, "post_processor", t => tokenIds.TryGetValue(t, out int id) ? id : null);
        TokenDecoder? decoder = TokenDecoder.FromJson(Optional(root, "decoder"), fields, "decoder", addedContents, limits);

        bool cleanUp = true;
        bool removeSpace = false;
        if (config is { } cfg)
        {
            cleanUp = configFields.Bool(cfg, "clean_up_tokenization_spaces", "$", true);
            removeSpace = configFields.Bool(cfg, "remove_space", "$", false);
            if (cfg.TryGetProperty("additional_special_tokens", out JsonElement extra) && extra.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in extra.EnumerateArray())
                {
                    string? content = item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString(),
                        JsonValueKind.Object when item.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                        _ => throw configFields.Invalid("additional_special_tokens", "holds an entry that is neither a string nor an object with content"),
                    };
                    specialTokens.Add(content!);
                }
            }
        }

        var tokenizer = new HuggingFaceTokenizer(
            new AddedTokenSplitter(addedTokens),
            normalizer,
            preTokenizer,
            tokenModel,
            postProcessor,
            decoder,
            idToToken,
            tokenIds,
            unknownToken,
            specialTokens,
            cleanUp,
            removeSpace,
            limits.MaxEncodeChars);
        return (tokenizer, tokenIds, specialTokens);
    }

    private static BpeModel BuildBpe(
        JsonElement model, Dictionary<string, int> vocabulary, Dictionary<string, int> tokenIds, int? unknownId, JsonFields fields, TokenizerLimits limits)
    {
        if (model.TryGetProperty("dropout", out JsonElement dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() != 0)
        {
            throw fields.Unsupported("model.dropout", "a BPE dropout (non-deterministic encoding)");
        }

        foreach (string affix in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (!string.IsNullOrEmpty(fields.OptionalString(model, affix, "model")))
            {
                throw fields.Unsupported($"model.{affix}", "set (a word-piece style BPE)");
            }
        }

        List<(string, string)> merges = ReadMerges(fields.Array(model, "merges", "model"), vocabulary, fields, limits);
        try
        {
            return new BpeModel(
                vocabulary,
                merges,
                tokenIds,
                unknownId,
                fields.Bool(model, "fuse_unk", "model", false),
                fields.Bool(model, "byte_fallback", "model", false),
                fields.Bool(model, "ignore_merges", "model", false));
        }
        catch (InvalidOperationException e)
        {
            throw fields.Invalid("model", $"was refused by the BPE engine ({e.Message})");
        }
    }

    private static WordPieceModel BuildWordPiece(JsonElement model, Dictionary<string, int> vocabulary, int unknownId, JsonFields fields, TokenizerLimits limits)
    {
        string prefix = fields.OptionalString(model, "continuing_subword_prefix", "model") ?? "##";
        if (prefix.Length > limits.MaxTokenLength)
        {
            throw fields.Invalid("model.continuing_subword_prefix", $"has length {prefix.Length} (at most {limits.MaxTokenLength})");
        }

        int maxChars = fields.Int(model, "max_input_chars_per_word", "model", 100);
        if (maxChars < 1 || maxChars > limits.MaxWordPieceInputChars)
        {
            // The greedy longest-match search costs the square of a word's length: the bound keeps it small.
            throw fields.Invalid("model.max_input_chars_per_word", $"is {maxChars}, not from 1 to {limits.MaxWordPieceInputChars} (TokenizerLimits.MaxWordPieceInputChars)");
        }

        return new WordPieceModel(vocabulary, prefix, maxChars, unknownId);
    }

    private static Dictionary<string, int> ReadVocabulary(JsonElement vocab, JsonFields fields, TokenizerLimits limits)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var owners = new Dictionary<int, string>();
        var problems = new List<string>();
        int problemCount = 0;
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            if (vocabulary.Count >= limits.MaxVocabularySize)
            {
                throw new TokenizerException(TokenizerError.LimitExceeded, $"tokenizer.json rejected: model.vocab has more than {limits.MaxVocabularySize} entries (TokenizerLimits.MaxVocabularySize)");
            }

            string token = entry.Name;
            string? problem = null;
            if (token.Length == 0 || token.Length > limits.MaxTokenLength)
            {
                problem = $"token of length {token.Length} (must be 1 to {limits.MaxTokenLength})";
            }
            else if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0 || id >= limits.MaxVocabularySize)
            {
                problem = $"'{Shorten(token)}' has ID {entry.Value.GetRawText()}, not an integer from 0 to {limits.MaxVocabularySize - 1}";
            }
            else if (!owners.TryAdd(id, token))
            {
                problem = $"'{Shorten(token)}' has ID {id}, which '{Shorten(owners[id])}' already has";
            }
            else
            {
                vocabulary.Add(token, id);
            }

            if (problem is not null && ++problemCount <= MaxProblemsListed)
            {
                problems.Add(problem);
            }
        }

        if (problemCount > 0)
        {
            throw fields.Invalid("model.vocab", Problems(problemCount, problems));
        }

        return vocabulary;
    }

    private static List<(string, string)> ReadMerges(JsonElement mergesJson, Dictionary<string, int> vocabulary, JsonFields fields, TokenizerLimits limits)
    {
        int count = mergesJson.GetArrayLength();
        if (count > limits.MaxMerges)
        {
            throw new TokenizerException(TokenizerError.LimitExceeded, $"tokenizer.json rejected: model.merges has {count} entries, more than {limits.MaxMerges} (TokenizerLimits.MaxMerges)");
        }

        var merges = new List<(string, string)>(count);
        var problems = new List<string>();
        int problemCount = 0;
        int index = 0;
        foreach (JsonElement merge in mergesJson.EnumerateArray())
        {
            string? left = null;
            string? right = null;
            if (merge.ValueKind == JsonValueKind.String)
            {
                // The old "a b" form; like transformers.js, split at spaces and take the first two parts.
                string[] parts = merge.GetString()!.Split(' ');
                if (parts.Length >= 2)
                {
                    (left, right) = (parts[0], parts[1]);
                }
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2 &&
                     merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                (left, right) = (merge[0].GetString(), merge[1].GetString());
            }

            string? problem = null;
            if (left is null || right is null || left.Length == 0 || right.Length == 0)
            {
                problem = $"[{index}] is not a pair of tokens";
            }
            else if (left.Contains(' ', StringComparison.Ordinal) || right.Contains(' ', StringComparison.Ordinal))
            {
                throw fields.Unsupported($"model.merges[{index}]", "a merge of tokens that contain spaces");
            }
            else if (!vocabulary.ContainsKey(left) || !vocabulary.ContainsKey(right) || !vocabulary.ContainsKey(left + right))
            {
                string missing = !vocabulary.ContainsKey(left) ? left : !vocabulary.ContainsKey(right) ? right : left + right;
                problem = $"[{index}] ('{Shorten(left)}', '{Shorten(right)}') needs '{Shorten(missing)}', which is not in model.vocab";
            }
            else
            {
                merges.Add((left, right));
            }

            if (problem is not null && ++problemCount <= MaxProblemsListed)
            {
                problems.Add(problem);
            }

            index++;
        }

        if (problemCount > 0)
        {
            throw fields.Invalid("model.merges", Problems(problemCount, problems));
        }

        return merges;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, JsonFields fields, TokenizerLimits limits)
    {
        var tokens = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out JsonElement array) || array.ValueKind == JsonValueKind.Null)
        {
            return tokens;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw fields.Invalid("added_tokens", "is not an array");
        }

        if (array.GetArrayLength() > limits.MaxAddedTokens)
        {
            throw new TokenizerException(TokenizerError.LimitExceeded, $"tokenizer.json rejected: added_tokens has {array.GetArrayLength()} entries, more than {limits.MaxAddedTokens} (TokenizerLimits.MaxAddedTokens)");
        }

        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            string path = $"added_tokens[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw fields.Invalid(path, "is not an object");
            }

            int id = fields.Int(item, "id", path);
            string content = fields.String(item, "content", path);
            if (id < 0 || id >= limits.MaxVocabularySize)
            {
                throw fields.Invalid(path + ".id", $"is {id}, not from 0 to {limits.MaxVocabularySize - 1} (TokenizerLimits.MaxVocabularySize)");
            }

            if (content.Length == 0 || content.Length > limits.MaxTokenLength)
            {
                throw fields.Invalid(path + ".content", $"has length {content.Length} (must be 1 to {limits.MaxTokenLength})");
            }

            tokens.Add(new AddedToken(
                id,
                content,
                fields.Bool(item, "special", path, false),
                fields.Bool(item, "lstrip", path, false),
                fields.Bool(item, "rstrip", path, false)));
        }

        return tokens;
    }

    private static Dictionary<string, string> SpecialTokenMap(JsonElement config, JsonFields fields)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string key in SpecialTokenAttributes)
        {
            if (!config.TryGetProperty(key, out JsonElement value))
            {
                continue;
            }

            string? content = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Object when value.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                JsonValueKind.Null => null,
                _ => throw fields.Invalid(key, "is neither a string nor an object with content"),
            };
            if (!string.IsNullOrEmpty(content))
            {
                map[key] = content;
            }
        }

        return map;
    }

    private static string? ConfigChatTemplate(JsonElement config, JsonFields fields)
    {
        if (!config.TryGetProperty("chat_template", out JsonElement template) || template.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (template.ValueKind == JsonValueKind.String)
        {
            return template.GetString();
        }

        if (template.ValueKind == JsonValueKind.Array)
        {
            // A list of named templates: use the one named "default", as transformers does without tools.
            int i = 0;
            foreach (JsonElement entry in template.EnumerateArray())
            {
                string path = $"chat_template[{i++}]";
                if (fields.String(entry, "name", path) == "default")
                {
                    return fields.String(entry, "template", path);
                }
            }

            throw fields.Invalid("chat_template", "lists named templates but none named 'default'");
        }

        throw fields.Invalid("chat_template", "is neither a string nor a list of named templates");
    }

    private static void AddGenerationEos(JsonElement root, HashSet<int> eos, int vocabularySize)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("eos_token_id", out JsonElement value))
        {
            return;
        }

        IEnumerable<JsonElement> items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : [value];
        foreach (JsonElement item in items)
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id) || id < 0 || id >= vocabularySize)
            {
                throw new JsonFields("generation_config.json").Invalid("eos_token_id", $"holds {item.GetRawText()}, not a token ID below {vocabularySize}");
            }

            eos.Add(id);
        }
    }

    private static JsonElement? Optional(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static JsonDocument Parse(ReadOnlyMemory<byte> json, string file, TokenizerLimits limits)
    {
        try
        {
            var document = JsonDocument.Parse(json, new JsonDocumentOptions
            {
                MaxDepth = limits.MaxJsonDepth,
                AllowDuplicateProperties = false,
                CommentHandling = JsonCommentHandling.Disallow,
                AllowTrailingCommas = false,
            });
            try
            {
                // Invalid UTF-8 or a lone surrogate inside a string would otherwise throw InvalidOperationException
                // wherever the string is first read (found by fuzz/).
                Enclave.Core.StrictJson.ValidateStrings(document.RootElement);
            }
            catch (JsonException)
            {
                document.Dispose();
                throw;
            }

            return document;
        }
        catch (JsonException e)
        {
            throw new TokenizerException(TokenizerError.MalformedJson, $"{file} rejected: not well-formed JSON ({e.Message}); the file is truncated or damaged, copy it from the model again", e);
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-member check throws this for a member name with a lone surrogate escape.
            throw new TokenizerException(TokenizerError.MalformedJson, $"{file} rejected: a member name is not valid Unicode ({e.Message}); the file is damaged, copy it from the model again", e);
        }
    }

    private static byte[]? ReadOptional(string path, TokenizerLimits limits) =>
        File.Exists(path) ? ReadBounded(path, limits.MaxConfigJsonBytes, nameof(TokenizerLimits.MaxConfigJsonBytes)) : null;

    private static byte[] ReadBounded(string path, long max, string limitName)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (stream.Length > max)
        {
            throw TooLarge(path, stream.Length, max, limitName);
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static string Utf8(byte[] bytes, string file)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new TokenizerException(TokenizerError.MalformedJson, $"{file} rejected: not valid UTF-8 ({e.Message})", e);
        }
    }

    private static TokenizerException TooLarge(string file, long size, long max, string limitName) =>
        new(TokenizerError.FileTooLarge, $"{file} rejected: {size} bytes is more than the {max} allowed (TokenizerLimits.{limitName}); nothing was loaded");

    private static string Problems(int count, List<string> listed) =>
        $"has {count} problem{(count == 1 ? string.Empty : "s")}: {string.Join("; ", listed)}{(count > listed.Count ? $"; and {count - listed.Count} more" : string.Empty)}";

    private static string Shorten(string token) => token.Length <= 40 ? token : token[..40] + "...";
}
