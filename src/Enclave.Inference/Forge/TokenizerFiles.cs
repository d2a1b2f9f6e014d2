using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Enclave.Inference.Forge;

/// <summary>
/// Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> as a Qwen2.5 export has them: byte-level BPE with
/// NFC normalization, the Qwen2 split pattern, the ByteLevel decoder, and the ChatML special tokens after the BPE
/// vocabulary (<c>&lt;|endoftext|&gt;</c>, <c>&lt;|im_start|&gt;</c>, <c>&lt;|im_end|&gt;</c>).
/// </summary>
internal static class TokenizerFiles
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    /// <summary>
    /// The Qwen2.5 chat template (ChatML turns, tools in the system turn, <c>&lt;tool_call&gt;</c> blocks and
    /// <c>&lt;tool_response&gt;</c> results) with a shorter default system prompt.
    /// </summary>
    public const string ChatTemplate =
        """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0]['role'] == 'system' %}
                {{- messages[0]['content'] }}
            {%- else %}
                {{- 'You are a helpful assistant.' }}
            {%- endif %}
            {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
            {%- for tool in tools %}
                {{- "\n" }}
                {{- tool | tojson }}
            {%- endfor %}
            {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
        {%- else %}
            {%- if messages[0]['role'] == 'system' %}
                {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
            {%- else %}
                {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
            {%- endif %}
        {%- endif %}
        {%- for message in messages %}
            {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
            {%- elif message.role == "assistant" %}
                {{- '<|im_start|>' + message.role }}
                {%- if message.content %}
                    {{- '\n' + message.content }}
                {%- endif %}
                {%- for tool_call in message.tool_calls %}
                    {%- if tool_call.function is defined %}
                        {%- set tool_call = tool_call.function %}
                    {%- endif %}
                    {{- '\n<tool_call>\n{"name": "' }}
                    {{- tool_call.name }}
                    {{- '", "arguments": ' }}
                    {{- tool_call.arguments | tojson }}
                    {{- '}\n</tool_call>' }}
                {%- endfor %}
                {{- '<|im_end|>\n' }}
            {%- elif message.role == "tool" %}
                {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
                    {{- '<|im_start|>user' }}
                {%- endif %}
                {{- '\n<tool_response>\n' }}
                {{- message.content }}
                {{- '\n</tool_response>' }}
                {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
                    {{- '<|im_end|>\n' }}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}

        """;

    /// <summary>Plain ChatML turns: a template that takes no tools (a request with tools is refused on it).</summary>
    public const string ChatMlTemplate =
        """
        {%- for message in messages %}
            {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}

        """;

    /// <summary>The source of <paramref name="template"/>.</summary>
    public static string Source(ForgedChatTemplate template) => template == ForgedChatTemplate.ChatMl ? ChatMlTemplate : ChatTemplate;

    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>IDs of the three special tokens for a BPE vocabulary of <paramref name="bpeTokens"/> tokens.</summary>
    public static (int EndOfText, int ImStart, int ImEnd) SpecialIds(int bpeTokens) => (bpeTokens, bpeTokens + 1, bpeTokens + 2);

    /// <summary>
    /// The first members of a <c>tokenizer.json</c>: version, no truncation or padding (left to the engine), and
    /// <paramref name="specialTokens"/> as added tokens that are special and matched verbatim.
    /// </summary>
    public static void WriteHeader(Utf8JsonWriter json, IEnumerable<(int Id, string Content)> specialTokens)
    {
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        json.WriteStartArray("added_tokens");
        foreach (var (id, content) in specialTokens)
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("content", content);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    public static void WriteTokenizerJson(string path, BpeVocabulary vocabulary)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, WriterOptions);
        var specials = SpecialIds(vocabulary.Tokens.Count);
        json.WriteStartObject();
        WriteHeader(json, [(specials.EndOfText, EndOfText), (specials.ImStart, ImStart), (specials.ImEnd, ImEnd)]);

        json.WriteStartObject("normalizer");
        json.WriteString("type", "NFC");
        json.WriteEndObject();

        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("pretokenizers");
        json.WriteStartObject();
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("Regex", ByteLevelBpeTrainer.SplitPattern);
        json.WriteEndObject();
        json.WriteString("behavior", "Isolated");
        json.WriteBoolean("invert", false);
        json.WriteEndObject();
        WriteByteLevel(json, null);
        json.WriteEndArray();
        json.WriteEndObject();

        WriteByteLevel(json, "post_processor");
        WriteByteLevel(json, "decoder");

        json.WriteStartObject("model");
        json.WriteString("type", "BPE");
        json.WriteNull("dropout");
        json.WriteNull("unk_token");
        json.WriteString("continuing_subword_prefix", string.Empty);
        json.WriteString("end_of_word_suffix", string.Empty);
        json.WriteBoolean("fuse_unk", false);
        json.WriteBoolean("byte_fallback", false);
        json.WriteBoolean("ignore_merges", false);
        json.WriteStartObject("vocab");
        for (var id = 0; id < vocabulary.Tokens.Count; id++)
        {
            json.WriteNumber(vocabulary.Tokens[id], id);
        }

        json.WriteEndObject();
        json.WriteStartArray("merges");
        foreach (var (left, right) in vocabulary.Merges)
        {
            json.WriteStringValue(left + " " + right);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void WriteTokenizerConfig(string path, BpeVocabulary vocabulary, bool withChatTemplate, int maxLength)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, WriterOptions);
        var specials = SpecialIds(vocabulary.Tokens.Count);
        json.WriteStartObject();
        json.WriteBoolean("add_bos_token", false);
        json.WriteBoolean("add_prefix_space", false);
        json.WriteStartObject("added_tokens_decoder");
        foreach (var (id, content) in new[] { (specials.EndOfText, EndOfText), (specials.ImStart, ImStart), (specials.ImEnd, ImEnd) })
        {
            json.WriteStartObject(id.ToString(CultureInfo.InvariantCulture));
            json.WriteString("content", content);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteStartArray("additional_special_tokens");
        json.WriteStringValue(ImStart);
        json.WriteStringValue(ImEnd);
        json.WriteEndArray();
        json.WriteNull("bos_token");
        if (withChatTemplate)
        {
            json.WriteString("chat_template", ChatTemplate);
        }

        json.WriteBoolean("clean_up_tokenization_spaces", false);
        json.WriteString("eos_token", withChatTemplate ? ImEnd : EndOfText);
        json.WriteString("errors", "replace");
        json.WriteNumber("model_max_length", maxLength);
        json.WriteString("pad_token", EndOfText);
        json.WriteBoolean("split_special_tokens", false);
        json.WriteString("tokenizer_class", "Qwen2Tokenizer");
        json.WriteNull("unk_token");
        json.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string? property)
    {
        if (property is null)
        {
            json.WriteStartObject();
        }
        else
        {
            json.WriteStartObject(property);
        }

        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", false);
        json.WriteBoolean("trim_offsets", false);
        json.WriteBoolean("use_regex", false);
        json.WriteEndObject();
    }
}
