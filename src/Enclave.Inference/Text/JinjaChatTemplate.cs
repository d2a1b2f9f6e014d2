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

    private JinjaChatTemplate(ProgramNode program, IReadOnlyDictionary<string, string> specialTokens, ChatTemplateLimits limits, TimeProvider time)
    {
        _program = program;
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
            return new JinjaChatTemplate(program, specialTokens ?? new Dictionary<string, string>(), limits, timeProvider ?? TimeProvider.System);
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
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var interpreter = new JinjaInterpreter(_limits, _time);
        JinjaEnvironment env = interpreter.CreateGlobals();
        var list = new List<JinjaValue>(messages.Count);
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);
            list.Add(new JinjaObject(new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
            {
                ["role"] = new JinjaString(message.Role),
                ["content"] = new JinjaString(message.Content),
            }));
        }

        env.Set("messages", new JinjaArray(list));
        env.Set("add_generation_prompt", JinjaBool.Of(addGenerationPrompt));
        env.Set("tools", JinjaNull.Instance);
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
}
