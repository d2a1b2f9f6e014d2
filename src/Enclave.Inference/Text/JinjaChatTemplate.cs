using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Text.Jinja;

namespace Enclave.Inference.Text;

/// <summary>
/// A chat template in the Jinja dialect Hugging Face models ship, rendered as @huggingface/jinja (the template engine
/// of transformers.js) renders it: the same whitespace control, value semantics, filters and tests. The template sees
/// <c>messages</c> (objects with <c>role</c> and <c>content</c>), <c>add_generation_prompt</c>, <c>tools</c> and
/// <c>documents</c> (none), the special tokens of <c>tokenizer_config.json</c> (<c>bos_token</c>, <c>eos_token</c>, ...),
/// and the globals <c>namespace</c>, <c>range</c>, <c>raise_exception</c> and <c>strftime_now</c>.
/// Rendering is bounded by <see cref="ChatTemplateLimits"/>. Instances are immutable and thread-safe.
/// </summary>
public sealed class JinjaChatTemplate : IChatTemplate
{
    private readonly ProgramNode _program;
    private readonly IReadOnlyDictionary<string, string> _specialTokens;
    private readonly ChatTemplateLimits _limits;
    private readonly TimeProvider _time;

    private JinjaChatTemplate(ProgramNode program, IReadOnlyDictionary<string, string> specialTokens, ChatTemplateLimits limits, TimeProvider time, ToolCallFormat? toolCallFormat)
    {
        _program = program;
        ToolCallFormat = toolCallFormat;
        _specialTokens = specialTokens;
        _limits = limits;
        _time = time;
    }

    /// <summary>
    /// Parses <paramref name="source"/>; throws <see cref="TokenizerException"/> (<see cref="TokenizerError.TemplateSyntax"/>)
    /// when it does not parse. <paramref name="specialTokens"/> are template variables such as <c>bos_token</c>;
    /// <paramref name="timeProvider"/> is the clock <c>strftime_now</c> reads (the system clock when null).
    /// </summary>
    public static JinjaChatTemplate Parse(
        string source,
        IReadOnlyDictionary<string, string>? specialTokens = null,
        ChatTemplateLimits? limits = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        limits ??= ChatTemplateLimits.Default;
        if (source.Length > limits.MaxTemplateChars)
        {
            throw new TokenizerException(
                TokenizerError.TemplateLimitExceeded,
                $"chat template rejected: {source.Length} characters is more than the {limits.MaxTemplateChars} allowed (ChatTemplateLimits.MaxTemplateChars)");
        }

        try
        {
            ProgramNode program = JinjaParser.Parse(JinjaLexer.Tokenize(source), limits.MaxDepth);
            return new JinjaChatTemplate(program, specialTokens ?? new Dictionary<string, string>(), limits, timeProvider ?? TimeProvider.System, DetectToolCallFormat(source));
        }
        catch (JinjaSyntaxException e)
        {
            throw new TokenizerException(TokenizerError.TemplateSyntax, $"chat template rejected: syntax error: {e.Message}; fix chat_template in tokenizer_config.json (or chat_template.jinja)", e);
        }
        catch (ChatTemplateLimitException e)
        {
            throw new TokenizerException(TokenizerError.TemplateLimitExceeded, $"chat template rejected: {e.Message}", e);
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new TokenizerException(TokenizerError.TemplateLimitExceeded, "chat template rejected: it nests too deeply for the stack", e);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new TokenizerException(TokenizerError.TemplateLimitExceeded, "chat template rejected: pre-processing its whitespace control took too long", e);
        }
    }

    /// <inheritdoc />
    public ToolCallFormat? ToolCallFormat { get; }

    /// <summary>
    /// The family's call format from what the template writes: <c>&lt;tool_call&gt;</c> (Qwen, Hermes),
    /// <c>[TOOL_CALLS]</c> / <c>[AVAILABLE_TOOLS]</c> (Mistral), the <c>ipython</c> role or <c>&lt;|python_tag|&gt;</c>
    /// (Llama 3.1+); null when it writes none of them (it takes no tools).
    /// </summary>
    public static ToolCallFormat? DetectToolCallFormat(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return Text.ToolCallFormat.Hermes;
        }

        if (source.Contains("[TOOL_CALLS]", StringComparison.Ordinal) || source.Contains("[AVAILABLE_TOOLS]", StringComparison.Ordinal))
        {
            return Text.ToolCallFormat.Mistral;
        }

        if (source.Contains("ipython", StringComparison.Ordinal) || source.Contains("<|python_tag|>", StringComparison.Ordinal))
        {
            return Text.ToolCallFormat.Llama3Json;
        }

        return null;
    }

    /// <inheritdoc />
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) => Render(messages, addGenerationPrompt, null);

    /// <inheritdoc />
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, JsonArray? tools)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var interpreter = new JinjaInterpreter(_limits, _time);
        JinjaEnvironment env = interpreter.CreateGlobals();
        var list = new List<JinjaValue>(messages.Count);
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);
            var entries = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
            {
                ["role"] = new JinjaString(message.Role),
                ["content"] = new JinjaString(message.Content),
            };
            if (message.ToolCalls.Count > 0)
            {
                // OpenAI's shape, with the arguments parsed (templates write them with tojson): the key is present only
                // on messages that made calls, as templates test 'tool_calls' in message.
                entries["tool_calls"] = new JinjaArray([.. message.ToolCalls.Select(call => (JinjaValue)new JinjaObject(new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
                {
                    ["id"] = new JinjaString(call.Id),
                    ["type"] = new JinjaString("function"),
                    ["function"] = new JinjaObject(new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
                    {
                        ["name"] = new JinjaString(call.Name),
                        ["arguments"] = FromJson(call.Arguments),
                    }),
                }))]);
            }

            if (message.ToolCallId is { } toolCallId)
            {
                entries["tool_call_id"] = new JinjaString(toolCallId);
            }

            list.Add(new JinjaObject(entries));
        }

        env.Set("messages", new JinjaArray(list));
        env.Set("add_generation_prompt", JinjaBool.Of(addGenerationPrompt));
        env.Set("tools", tools is null ? JinjaNull.Instance : FromJson(tools));
        env.Set("documents", JinjaNull.Instance);
        foreach ((string name, string value) in _specialTokens)
        {
            env.Set(name, new JinjaString(value));
        }

        try
        {
            return interpreter.Run(_program, env);
        }
        catch (ChatTemplateRaisedException e)
        {
            throw new TokenizerException(TokenizerError.TemplateRaised, $"chat template rejected the conversation: {e.Message}", e);
        }
        catch (ChatTemplateLimitException e)
        {
            throw new TokenizerException(TokenizerError.TemplateLimitExceeded, $"chat template stopped: {e.Message}; nothing was rendered", e);
        }
        catch (JinjaRuntimeException e)
        {
            throw new TokenizerException(TokenizerError.TemplateRuntime, $"chat template failed while rendering: {e.Message}", e);
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new TokenizerException(TokenizerError.TemplateLimitExceeded, "chat template stopped: it nests too deeply for the stack; nothing was rendered", e);
        }
    }

    /// <summary>A JSON value as the template sees it (objects keep their key order).</summary>
    private static JinjaValue FromJson(JsonNode? node) => node switch
    {
        null => JinjaNull.Instance,
        JsonObject obj => new JinjaObject(new OrderedDictionary<string, JinjaValue>(obj.Select(p => KeyValuePair.Create(p.Key, FromJson(p.Value))), StringComparer.Ordinal)),
        JsonArray array => new JinjaArray([.. array.Select(FromJson)]),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => new JinjaString(value.GetValue<string>()),
            JsonValueKind.True => JinjaBool.True,
            JsonValueKind.False => JinjaBool.False,
            JsonValueKind.Number => Number(value),
            _ => JinjaNull.Instance,
        },
        _ => JinjaNull.Instance,
    };

    private static JinjaNumber Number(JsonValue value)
    {
        var text = value.ToJsonString();
        var number = double.Parse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        return new JinjaNumber(number, !text.Contains('.', StringComparison.Ordinal) && !text.Contains('e', StringComparison.OrdinalIgnoreCase));
    }
}
