using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Inference.Backends;
using Enclave.Inference.Structured;
using Enclave.Inference.Text;
using Enclave.Inference.Tools;

namespace Enclave.Inference.Onnx;

/// <summary>A loaded causal LM with the tokenizer and chat template of its folder.</summary>
public sealed record LocalChatModel(ITextGenerator Model, ITextTokenizer Tokenizer, IChatTemplate? ChatTemplate);

/// <summary>A loaded embedding model with the tokenizer of its folder.</summary>
public sealed record LocalEmbeddingModel(ITextEmbedder Model, ITextTokenizer Tokenizer);

/// <summary>
/// The built-in engine behind the OpenAI-shaped backend contract: chat (rendered with the model's chat template),
/// text completions, embeddings, each with and without streaming; <c>response_format</c> json_object and json_schema by
/// constrained decoding (<see cref="Structured.ResponseFormat"/>); <c>tools</c> with the model's own chat template and
/// call format (<see cref="ToolCallFormats"/>), <c>required</c> and named <c>tool_choice</c> by constrained decoding
/// of the call; <c>n</c> choices from one prefill, logprobs, penalties and logit_bias. Fields it cannot honour (echo,
/// audio, non-text content, any parameter it does not know) are refused with 400 rather than ignored. Overload is 503 with Retry-After
/// from the model's <see cref="SequenceScheduler"/>; cancelling the token stops generation.
/// </summary>
public sealed class OnnxInferenceBackend : IInferenceBackend
{
    private readonly LocalChatModel? _chat;
    private readonly LocalEmbeddingModel? _embeddings;
    private readonly TimeProvider _time;
    private readonly int _maxStopSequences;

    public OnnxInferenceBackend(string name, LocalChatModel? chat, LocalEmbeddingModel? embeddings, TimeProvider? timeProvider = null, int maxStopSequences = 4)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (chat is null && embeddings is null)
        {
            throw new ArgumentException("a backend needs a chat model, an embedding model, or both");
        }

        Name = name;
        _chat = chat;
        _embeddings = embeddings;
        _time = timeProvider ?? TimeProvider.System;
        _maxStopSequences = maxStopSequences;
    }

    public string Name { get; }

    /// <inheritdoc/>
    public Task<BackendResponse> ChatAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChatCoreAsync(request.Body, cancellationToken);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<JsonObject> ChatStreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChatStreamCoreAsync(request.Body, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<BackendResponse> CompletionAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CompletionCoreAsync(request.Body, cancellationToken);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<JsonObject> CompletionStreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CompletionStreamCoreAsync(request.Body, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<BackendResponse> EmbeddingsAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return EmbeddingsCoreAsync(request.Body, cancellationToken);
    }

    private async Task<BackendResponse> ChatCoreAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var plan = PrepareChat(request);
        var results = await CollectAsync(Generate(plan, cancellationToken), plan.Choices).ConfigureAwait(false);
        var body = Envelope("chatcmpl-", "chat.completion", request);
        var choices = new JsonArray();
        foreach (var result in results)
        {
            var (message, finish) = Answer(plan, result.Text, result.Last.FinishReason);
            choices.Add(new JsonObject
            {
                ["index"] = result.Last.Index,
                ["message"] = message,
                ["logprobs"] = plan.Sampling.Logprobs is null ? null : ChatLogprobs(plan.Chat.Tokenizer, result.Logprobs),
                ["finish_reason"] = finish,
            });
        }

        body["choices"] = choices;
        var usage = Usage(results);
        body["usage"] = Usage(usage.PromptTokens, usage.CompletionTokens);
        return new BackendResponse { Body = body, Usage = usage };
    }

    private async IAsyncEnumerable<JsonObject> ChatStreamCoreAsync(JsonObject request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var plan = PrepareChat(request);
        var includeUsage = IncludeUsage(request);
        var template = Envelope("chatcmpl-", "chat.completion.chunk", request);
        // With tools each choice's text goes through its family's call reader: content and calls go out as soon as
        // they are known, and the deltas add up to the unstreamed answer (ToolCallStream).
        var streams = new ToolCallStream?[plan.Choices];
        var started = new bool[plan.Choices];
        var held = new List<TokenLogprob>[plan.Choices];
        var completion = 0;
        await foreach (var chunk in Generate(plan, cancellationToken).ConfigureAwait(false))
        {
            var index = chunk.Index;
            var tokens = held[index] ??= [];
            tokens.AddRange(chunk.Logprobs);
            IReadOnlyList<ToolCallEvent> events;
            if (plan.CallsTools)
            {
                var stream = streams[index] ??= CallStream(plan);
                events = [.. stream.Push(chunk.Text), .. chunk.FinishReason is null ? [] : stream.Complete()];
            }
            else
            {
                events = chunk.Text.Length > 0 ? [new ToolCallEvent(ToolCallEventKind.Content, chunk.Text)] : [];
                if (!started[index])
                {
                    yield return ChatChunk(template, index, new JsonObject { ["role"] = "assistant", ["content"] = string.Empty }, null, null, includeUsage);
                    started[index] = true;
                }
            }

            foreach (var e in events)
            {
                if (!started[index])
                {
                    // The first delta says the role; its content is null when the answer starts with a call (as OpenAI's).
                    var first = new JsonObject { ["role"] = "assistant", ["content"] = e.Kind == ToolCallEventKind.CallStart ? null : string.Empty };
                    yield return ChatChunk(template, index, first, null, null, includeUsage);
                    started[index] = true;
                }

                JsonObject? logprobs = null;
                if (e.Kind == ToolCallEventKind.Content && plan.Sampling.Logprobs is not null && tokens.Count > 0)
                {
                    logprobs = ChatLogprobs(plan.Chat.Tokenizer, tokens);
                    tokens.Clear();
                }

                var delta = e.Kind switch
                {
                    ToolCallEventKind.Content => new JsonObject { ["content"] = e.Text },
                    ToolCallEventKind.CallStart => ToolCallDelta(e.Call, new JsonObject { ["name"] = e.Text, ["arguments"] = string.Empty }, e.Id),
                    _ => ToolCallDelta(e.Call, new JsonObject { ["arguments"] = e.Text }, null),
                };
                yield return ChatChunk(template, index, delta, logprobs, null, includeUsage);
            }

            if (chunk.FinishReason is { } finish)
            {
                if (!started[index])
                {
                    yield return ChatChunk(template, index, new JsonObject { ["role"] = "assistant", ["content"] = string.Empty }, null, null, includeUsage);
                    started[index] = true;
                }

                var logprobs = plan.Sampling.Logprobs is null ? null : ChatLogprobs(plan.Chat.Tokenizer, tokens);
                tokens.Clear();
                var reason = streams[index] is { Calls: > 0 } ? CallFinish(plan, finish) : FinishReasonText(finish);
                yield return ChatChunk(template, index, [], logprobs, reason, includeUsage);
                completion += chunk.CompletionTokens;
                if (includeUsage && index == plan.Choices - 1)
                {
                    yield return UsageChunk(template, new TokenUsage(chunk.PromptTokens, completion));
                }
            }
        }
    }

    private async Task<BackendResponse> CompletionCoreAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var plan = PrepareCompletion(request);
        var results = await CollectAsync(Generate(plan, cancellationToken), plan.Choices).ConfigureAwait(false);
        var body = Envelope("cmpl-", "text_completion", request);
        body["choices"] = new JsonArray([.. results.Select(r => (JsonNode)CompletionChoice(r.Last.Index, r.Text, r.Last.FinishReason, plan, r.Logprobs, 0))]);
        var usage = Usage(results);
        body["usage"] = Usage(usage.PromptTokens, usage.CompletionTokens);
        return new BackendResponse { Body = body, Usage = usage };
    }

    private async IAsyncEnumerable<JsonObject> CompletionStreamCoreAsync(JsonObject request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var plan = PrepareCompletion(request);
        var includeUsage = IncludeUsage(request);
        var template = Envelope("cmpl-", "text_completion", request);
        var offsets = new int[plan.Choices];
        var completion = 0;
        await foreach (var chunk in Generate(plan, cancellationToken).ConfigureAwait(false))
        {
            if (chunk.Text.Length > 0 || chunk.FinishReason is not null)
            {
                var body = template.DeepClone().AsObject();
                body["choices"] = new JsonArray(CompletionChoice(chunk.Index, chunk.Text, chunk.FinishReason, plan, chunk.Logprobs, offsets[chunk.Index]));
                offsets[chunk.Index] += chunk.Text.Length;
                if (includeUsage)
                {
                    body["usage"] = null;
                }

                yield return body;
            }

            if (chunk.FinishReason is not null)
            {
                completion += chunk.CompletionTokens;
                if (includeUsage && chunk.Index == plan.Choices - 1)
                {
                    yield return UsageChunk(template, new TokenUsage(chunk.PromptTokens, completion));
                }
            }
        }
    }

    private async Task<BackendResponse> EmbeddingsCoreAsync(JsonObject request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var embedding = _embeddings ?? throw new BackendException(400, "invalid_request_error", $"'{Name}' serves no embedding model (parameter 'model')");
        var reader = new OpenAiRequest(request);
        var format = reader.String("encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
        {
            throw OpenAiRequest.Invalid("'encoding_format' must be 'float' or 'base64'", "encoding_format");
        }

        if (reader.Integer("dimensions", 1, int.MaxValue) is { } dimensions && dimensions != embedding.Model.Dimensions)
        {
            throw OpenAiRequest.Invalid($"this model's embeddings have {embedding.Model.Dimensions} dimensions; it cannot give {dimensions}", "dimensions");
        }

        var inputs = EmbeddingInputs(request, embedding);
        var vectors = await embedding.Model.EmbedAsync(inputs, cancellationToken).ConfigureAwait(false);
        var data = new JsonArray();
        for (var i = 0; i < vectors.Length; i++)
        {
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = format == "base64" ? Base64(vectors[i]) : new JsonArray([.. vectors[i].Select(v => (JsonNode)v)]),
            });
        }

        var tokens = inputs.Sum(i => i.Count);
        var body = new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = ModelName(request),
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        };
        return new BackendResponse { Body = body, Usage = new TokenUsage(tokens, 0) };
    }

    private ChatPlan PrepareChat(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chat = ChatModel();
        var template = chat.ChatTemplate ?? throw new BackendException(400, "invalid_request_error", $"'{Name}' has no chat template; use /v1/completions (parameter 'model')");
        var reader = new OpenAiRequest(request);
        reader.CheckFields(chat: true);
        var tools = ToolRequest.Read(request);
        if (request["messages"] is not JsonArray { Count: > 0 } messages)
        {
            throw OpenAiRequest.Invalid("'messages' must be a non-empty array", "messages");
        }

        var parsed = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            parsed.Add(Message(messages[i], i));
        }

        var grammar = Grammar(request);
        ToolCallFormat? format = null;
        var prefix = string.Empty;
        if (tools is { Mode: not ToolChoiceMode.None })
        {
            format = template.ToolCallFormat
                ?? throw OpenAiRequest.Invalid($"the chat template of '{Name}' does not take tools (it writes no Qwen, Llama 3 or Mistral tool calls); send tool_choice 'none' or route to an upstream", "tools");
            if (grammar is not null)
            {
                throw OpenAiRequest.Invalid("the built-in engine does not combine a JSON response_format with tools; send tool_choice 'none' or drop response_format", "response_format");
            }

            if (tools.Forced)
            {
                grammar = ToolGrammar(format.Value, tools);
                prefix = ToolCallFormats.Prefix(format.Value);
            }
        }

        var sampling = reader.Sampling(_maxStopSequences) with { Grammar = grammar };
        string prompt;
        try
        {
            // tool_choice 'none': the model is not shown the tools, so it answers in text.
            prompt = template.Render(parsed, addGenerationPrompt: true, tools is { Mode: not ToolChoiceMode.None } ? tools.Tools : null) + prefix;
        }
        catch (NotSupportedException e)
        {
            throw OpenAiRequest.Invalid(e.Message, "tools");
        }

        return new ChatPlan(chat, chat.Tokenizer.Encode(prompt, addSpecialTokens: false), sampling, reader.Choices(), tools is { Mode: not ToolChoiceMode.None } ? tools : null, format);
    }

    /// <summary>The grammar of a forced call in <paramref name="format"/>; each function's parameters compile on their own first, so a refusal names its tool.</summary>
    private static JsonGrammar ToolGrammar(ToolCallFormat format, ToolRequest tools)
    {
        try
        {
            foreach (var function in tools.Callable)
            {
                ResponseFormat.Compile(function.Parameters, $"tools[{function.Index}].function.parameters");
            }

            return ResponseFormat.Compile(ToolCallFormats.CallSchema(format, tools.Callable, tools.Parallel), "tools");
        }
        catch (SchemaRejectedException e)
        {
            throw new BackendException(400, "invalid_request_error", e.Message) { Param = e.Param };
        }
    }

    /// <summary>One message of <c>messages</c>: text roles, an assistant's <c>tool_calls</c>, a <c>tool</c> result.</summary>
    private static ChatMessage Message(JsonNode? node, int i)
    {
        if (node is not JsonObject message || message["role"] is not JsonValue roleValue || !roleValue.TryGetValue<string>(out var role)
            || role is not ("system" or "developer" or "user" or "assistant" or "tool"))
        {
            throw OpenAiRequest.Invalid($"messages[{i}] must be an object with a role of system, developer, user, assistant or tool", "messages");
        }

        var content = Content(message["content"], i);
        switch (role)
        {
            case "tool":
                if (message["tool_call_id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var toolCallId) || toolCallId.Length == 0)
                {
                    throw OpenAiRequest.Invalid($"messages[{i}] has role tool and must say which call it answers in 'tool_call_id'", "messages");
                }

                return new ChatMessage("tool", content) { ToolCallId = toolCallId };
            case "assistant" when message["tool_calls"] is { } callsNode:
                if (callsNode is not JsonArray calls)
                {
                    throw OpenAiRequest.Invalid($"messages[{i}].tool_calls must be an array of function calls", "messages");
                }

                return new ChatMessage("assistant", content) { ToolCalls = [.. calls.Select((call, j) => ToolCall(call, i, j))] };
            default:
                return new ChatMessage(role == "developer" ? "system" : role, content);
        }
    }

    private static ChatToolCall ToolCall(JsonNode? node, int message, int index)
    {
        var at = $"messages[{message}].tool_calls[{index}]";
        if (node is not JsonObject call || call["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var id)
            || (call["type"] is { } type && !(type is JsonValue t && t.TryGetValue<string>(out var typeText) && typeText == "function"))
            || call["function"] is not JsonObject function || function["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name)
            || function["arguments"] is not JsonValue argumentsValue || !argumentsValue.TryGetValue<string>(out var arguments))
        {
            throw OpenAiRequest.Invalid($"{at} must be {{\"id\",\"type\":\"function\",\"function\":{{\"name\",\"arguments\"}}}} with string values", "messages");
        }

        // Templates write the arguments with tojson, so they get the parsed object (as vLLM gives them); text that is not JSON stays a string.
        JsonNode? parsed;
        try
        {
            parsed = StrictJson.Parse(Encoding.UTF8.GetBytes(arguments));
        }
        catch (JsonException)
        {
            parsed = JsonValue.Create(arguments);
        }

        return new ChatToolCall(id, name, parsed);
    }

    /// <summary>The assistant message and finish reason for <paramref name="text"/>: calls parsed out when the request has tools.</summary>
    private static (JsonObject Message, string? Finish) Answer(ChatPlan plan, string text, FinishReason? finish)
    {
        var answer = Parse(plan, text);
        var message = new JsonObject { ["role"] = "assistant", ["content"] = answer.Content };
        if (answer.Calls.Count == 0)
        {
            return (message, FinishReasonText(finish));
        }

        message["tool_calls"] = new JsonArray([.. answer.Calls.Select(call => (JsonNode)new JsonObject
        {
            ["id"] = call.Id,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
        })]);
        return (message, CallFinish(plan, finish));
    }

    private static ParsedAnswer Parse(ChatPlan plan, string text) =>
        plan.CallsTools ? CallStream(plan).ReadAll(text) : new ParsedAnswer(text, []);

    /// <summary>The call reader of a choice: the family's format, the declared functions, constrained when the call is forced.</summary>
    private static ToolCallStream CallStream(ChatPlan plan) =>
        new(plan.Format!.Value, plan.Tools!.Functions.Select(f => f.Name).ToHashSet(StringComparer.Ordinal), constrained: plan.Tools.Forced);

    /// <summary>OpenAI's finish reason for an answer that calls: 'tool_calls', but 'stop' when tool_choice named the function; 'length' when cut.</summary>
    private static string? CallFinish(ChatPlan plan, FinishReason? finish) =>
        finish == FinishReason.Length ? "length" : plan.Tools!.Mode == ToolChoiceMode.Named ? "stop" : "tool_calls";

    private static JsonObject ToolCallDelta(int index, JsonObject function, string? id)
    {
        var call = new JsonObject { ["index"] = index };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }

        call["function"] = function;
        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }

    /// <summary>What a chat request runs: the prompt, how it samples, and its tools when it may call them.</summary>
    private sealed record ChatPlan(LocalChatModel Chat, IReadOnlyList<int> Prompt, SamplingOptions Sampling, int Choices, ToolRequest? Tools, ToolCallFormat? Format)
    {
        /// <summary>Whether the answer is parsed for calls (tools given and tool_choice not 'none').</summary>
        public bool CallsTools => Tools is not null;
    }

    private ChatPlan PrepareCompletion(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chat = ChatModel();
        var reader = new OpenAiRequest(request);
        reader.CheckFields(chat: false);
        if (reader.String("suffix") is { Length: > 0 })
        {
            throw OpenAiRequest.Invalid("the built-in engine does not support 'suffix'", "suffix");
        }

        var sampling = reader.Sampling(_maxStopSequences, chat: false) with { Grammar = Grammar(request) };
        IReadOnlyList<int> prompt = request["prompt"] switch
        {
            JsonValue value when value.TryGetValue<string>(out var text) => chat.Tokenizer.Encode(text, addSpecialTokens: true),
            JsonArray and [JsonValue value] when value.TryGetValue<string>(out var text) => chat.Tokenizer.Encode(text, addSpecialTokens: true),
            JsonArray { Count: > 0 } ids when ids.All(IsInt) => Ids(ids),
            JsonArray and [JsonArray ids] when ids.Count > 0 && ids.All(IsInt) => Ids(ids),
            JsonArray { Count: > 1 } => throw OpenAiRequest.Invalid("the built-in engine completes one prompt per request", "prompt"),
            _ => throw OpenAiRequest.Invalid("'prompt' must be a string or an array of token IDs", "prompt"),
        };
        return new ChatPlan(chat, prompt, sampling, reader.Choices(), null, null);
    }

    /// <summary>The response format's grammar (constrained decoding), or null for free text; 400 naming what is not supported.</summary>
    private static JsonGrammar? Grammar(JsonObject request)
    {
        try
        {
            return ResponseFormat.Read(request);
        }
        catch (SchemaRejectedException e)
        {
            throw new BackendException(400, "invalid_request_error", e.Message) { Param = e.Param };
        }
    }

    private LocalChatModel ChatModel() =>
        _chat ?? throw new BackendException(400, "invalid_request_error", $"'{Name}' serves only embeddings (parameter 'model')");

    private static string Content(JsonNode? content, int index)
    {
        switch (content)
        {
            case null:
                return string.Empty;
            case JsonValue value when value.TryGetValue<string>(out var text):
                return text;
            case JsonArray parts:
                var builder = new StringBuilder();
                foreach (var part in parts)
                {
                    if (part is not JsonObject obj || obj["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type) || type != "text"
                        || obj["text"] is not JsonValue textValue || !textValue.TryGetValue<string>(out var partText))
                    {
                        throw OpenAiRequest.Invalid($"messages[{index}].content has a part that is not text; the built-in engine reads text only", "messages");
                    }

                    builder.Append(partText);
                }

                return builder.ToString();
            default:
                throw OpenAiRequest.Invalid($"messages[{index}].content must be a string or an array of text parts", "messages");
        }
    }

    private static bool IsInt(JsonNode? node) => OpenAiRequest.TryTokenId(node, out _);

    private static int[] Ids(JsonArray ids) => [.. ids.Select(id => OpenAiRequest.TryTokenId(id, out var value) ? value : 0)];

    private static List<IReadOnlyList<int>> EmbeddingInputs(JsonObject request, LocalEmbeddingModel embedding)
    {
        IReadOnlyList<int> Text(string text) => text.Length == 0
            ? throw OpenAiRequest.Invalid("an input must not be empty", "input")
            : embedding.Tokenizer.Encode(text, addSpecialTokens: true);

        return request["input"] switch
        {
            JsonValue value when value.TryGetValue<string>(out var text) => [Text(text)],
            JsonArray { Count: > 0 } items when items.All(i => i is JsonValue v && v.TryGetValue<string>(out _)) => [.. items.Select(i => Text(i!.GetValue<string>()))],
            JsonArray { Count: > 0 } ids when ids.All(IsInt) => [Ids(ids)],
            JsonArray { Count: > 0 } lists when lists.All(l => l is JsonArray { Count: > 0 } inner && inner.All(IsInt)) =>
                [.. lists.Select(l => (IReadOnlyList<int>)Ids(l!.AsArray()))],
            _ => throw OpenAiRequest.Invalid("'input' must be a string, an array of strings, or token IDs", "input"),
        };
    }

    private IAsyncEnumerable<GenerationChunk> Generate(ChatPlan plan, CancellationToken cancellationToken) =>
        plan.Chat.Model.GenerateTextAsync(plan.Prompt, plan.Chat.Tokenizer, plan.Sampling, plan.Choices, cancellationToken);

    /// <summary>Each choice's text, logprobs and last chunk, in choice order.</summary>
    private static async Task<List<ChoiceResult>> CollectAsync(IAsyncEnumerable<GenerationChunk> chunks, int choices)
    {
        var texts = new StringBuilder[choices];
        var logprobs = new List<TokenLogprob>[choices];
        var results = new List<ChoiceResult>(choices);
        await foreach (var chunk in chunks.ConfigureAwait(false))
        {
            var text = texts[chunk.Index] ??= new StringBuilder();
            var tokens = logprobs[chunk.Index] ??= [];
            text.Append(chunk.Text);
            tokens.AddRange(chunk.Logprobs);
            if (chunk.FinishReason is not null)
            {
                results.Add(new ChoiceResult(text.ToString(), tokens, chunk));
            }
        }

        return results;
    }

    private static TokenUsage Usage(List<ChoiceResult> results) =>
        new(results[0].Last.PromptTokens, results.Sum(r => r.Last.CompletionTokens));

    /// <summary>Chat logprobs as OpenAI writes them: per token its text, log probability, UTF-8 bytes and the best alternatives.</summary>
    private static JsonObject ChatLogprobs(ITextTokenizer tokenizer, IReadOnlyList<TokenLogprob> tokens)
    {
        JsonObject Entry(int id, float logprob)
        {
            var (text, bytes) = TokenText(tokenizer, id);
            return new JsonObject { ["token"] = text, ["logprob"] = (double)logprob, ["bytes"] = new JsonArray([.. bytes.Select(b => (JsonNode)(int)b)]) };
        }

        var content = new JsonArray();
        foreach (var token in tokens)
        {
            var entry = Entry(token.Id, token.Logprob);
            entry["top_logprobs"] = new JsonArray([.. token.Top.Select(t => (JsonNode)Entry(t.Id, t.Logprob))]);
            content.Add(entry);
        }

        return new JsonObject { ["content"] = content, ["refusal"] = null };
    }

    /// <summary>Legacy completions logprobs: parallel arrays of tokens, their log probabilities, the best alternatives and text offsets.</summary>
    private static JsonObject CompletionLogprobs(ITextTokenizer tokenizer, IReadOnlyList<TokenLogprob> tokens, int offset)
    {
        var texts = new JsonArray();
        var values = new JsonArray();
        var tops = new JsonArray();
        var offsets = new JsonArray();
        foreach (var token in tokens)
        {
            var text = TokenText(tokenizer, token.Id).Text;
            texts.Add(text);
            values.Add((double)token.Logprob);
            var top = new JsonObject();
            foreach (var alternative in token.Top)
            {
                top[TokenText(tokenizer, alternative.Id).Text] = (double)alternative.Logprob;
            }

            tops.Add(top);
            offsets.Add(offset);
            offset += text.Length;
        }

        return new JsonObject { ["tokens"] = texts, ["token_logprobs"] = values, ["top_logprobs"] = tops, ["text_offset"] = offsets };
    }

    /// <summary>A token's text and bytes: the bytes it writes (a byte-level piece may be part of a character), or its decoded text.</summary>
    private static (string Text, byte[] Bytes) TokenText(ITextTokenizer tokenizer, int id)
    {
        if (tokenizer is ITokenBytes direct && direct.TokenBytes(id) is { } bytes)
        {
            return (Encoding.UTF8.GetString(bytes), bytes);
        }

        var text = tokenizer.Decode([id], skipSpecialTokens: false);
        return (text, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>One choice's whole answer.</summary>
    private sealed record ChoiceResult(string Text, IReadOnlyList<TokenLogprob> Logprobs, GenerationChunk Last);

    private JsonObject Envelope(string idPrefix, string objectType, JsonObject request) => new()
    {
        ["id"] = idPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
        ["object"] = objectType,
        ["created"] = _time.GetUtcNow().ToUnixTimeSeconds(),
        ["model"] = ModelName(request),
        ["system_fingerprint"] = null,
    };

    private string ModelName(JsonObject request) =>
        request["model"] is JsonValue value && value.TryGetValue<string>(out var model) ? model : Name;

    private static JsonObject ChatChunk(JsonObject template, int index, JsonObject delta, JsonObject? logprobs, string? finish, bool includeUsage)
    {
        var chunk = template.DeepClone().AsObject();
        chunk["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = index,
            ["delta"] = delta,
            ["logprobs"] = logprobs,
            ["finish_reason"] = finish,
        });
        if (includeUsage)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    private static JsonObject UsageChunk(JsonObject template, TokenUsage usage)
    {
        var chunk = template.DeepClone().AsObject();
        chunk["choices"] = new JsonArray();
        chunk["usage"] = Usage(usage.PromptTokens, usage.CompletionTokens);
        return chunk;
    }

    private static JsonObject CompletionChoice(int index, string text, FinishReason? finish, ChatPlan plan, IReadOnlyList<TokenLogprob> logprobs, int offset) => new()
    {
        ["text"] = text,
        ["index"] = index,
        ["logprobs"] = plan.Sampling.Logprobs is null ? null : CompletionLogprobs(plan.Chat.Tokenizer, logprobs, offset),
        ["finish_reason"] = finish is { } f ? FinishReasonText(f) : null,
    };

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };

    private static string? FinishReasonText(FinishReason? finish) => finish switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => null,
    };

    private static bool IncludeUsage(JsonObject request) =>
        request["stream_options"] is JsonObject options && options["include_usage"] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    /// <summary>OpenAI's base64 encoding: the little-endian float32 bytes.</summary>
    private static string Base64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }
}
