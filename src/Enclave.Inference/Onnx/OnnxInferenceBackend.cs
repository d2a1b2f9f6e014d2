using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Structured;
using Enclave.Inference.Text;

namespace Enclave.Inference.Onnx;

/// <summary>A loaded causal LM with the tokenizer and chat template of its folder.</summary>
public sealed record LocalChatModel(ITextGenerator Model, ITextTokenizer Tokenizer, IChatTemplate? ChatTemplate);

/// <summary>A loaded embedding model with the tokenizer of its folder.</summary>
public sealed record LocalEmbeddingModel(ITextEmbedder Model, ITextTokenizer Tokenizer);

/// <summary>
/// The built-in engine behind the OpenAI-shaped backend contract: chat (rendered with the model's chat template),
/// text completions, embeddings, each with and without streaming; <c>response_format</c> json_object and json_schema by
/// constrained decoding (<see cref="Structured.ResponseFormat"/>). Fields it cannot honour (<c>n</c> &gt; 1, tools,
/// logprobs, echo, non-text content) are refused with 400 rather than ignored. Overload is 503 with Retry-After
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

    public async Task<BackendResponse> ChatAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var (chat, prompt, sampling) = PrepareChat(request);
        var (text, last) = await CollectAsync(chat.Model.GenerateTextAsync(prompt, chat.Tokenizer, sampling, cancellationToken)).ConfigureAwait(false);
        var body = Envelope("chatcmpl-", "chat.completion", request);
        body["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            ["logprobs"] = null,
            ["finish_reason"] = FinishReasonText(last.FinishReason),
        });
        body["usage"] = Usage(last.PromptTokens, last.CompletionTokens);
        return new BackendResponse { Body = body, Usage = new TokenUsage(last.PromptTokens, last.CompletionTokens) };
    }

    public async IAsyncEnumerable<JsonObject> ChatStreamAsync(JsonObject request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (chat, prompt, sampling) = PrepareChat(request);
        var includeUsage = IncludeUsage(request);
        var template = Envelope("chatcmpl-", "chat.completion.chunk", request);
        var first = true;
        await foreach (var chunk in chat.Model.GenerateTextAsync(prompt, chat.Tokenizer, sampling, cancellationToken).ConfigureAwait(false))
        {
            if (first)
            {
                yield return ChatChunk(template, new JsonObject { ["role"] = "assistant", ["content"] = string.Empty }, null, includeUsage);
                first = false;
            }

            if (chunk.Text.Length > 0)
            {
                yield return ChatChunk(template, new JsonObject { ["content"] = chunk.Text }, null, includeUsage);
            }

            if (chunk.FinishReason is { } finish)
            {
                yield return ChatChunk(template, [], finish, includeUsage);
                if (includeUsage)
                {
                    yield return UsageChunk(template, chunk);
                }
            }
        }
    }

    public async Task<BackendResponse> CompletionAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var (chat, prompt, sampling) = PrepareCompletion(request);
        var (text, last) = await CollectAsync(chat.Model.GenerateTextAsync(prompt, chat.Tokenizer, sampling, cancellationToken)).ConfigureAwait(false);
        var body = Envelope("cmpl-", "text_completion", request);
        body["choices"] = new JsonArray(CompletionChoice(text, last.FinishReason));
        body["usage"] = Usage(last.PromptTokens, last.CompletionTokens);
        return new BackendResponse { Body = body, Usage = new TokenUsage(last.PromptTokens, last.CompletionTokens) };
    }

    public async IAsyncEnumerable<JsonObject> CompletionStreamAsync(JsonObject request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (chat, prompt, sampling) = PrepareCompletion(request);
        var includeUsage = IncludeUsage(request);
        var template = Envelope("cmpl-", "text_completion", request);
        await foreach (var chunk in chat.Model.GenerateTextAsync(prompt, chat.Tokenizer, sampling, cancellationToken).ConfigureAwait(false))
        {
            if (chunk.Text.Length > 0 || chunk.FinishReason is not null)
            {
                var body = template.DeepClone().AsObject();
                body["choices"] = new JsonArray(CompletionChoice(chunk.Text, chunk.FinishReason));
                if (includeUsage)
                {
                    body["usage"] = null;
                }

                yield return body;
            }

            if (chunk.FinishReason is not null && includeUsage)
            {
                yield return UsageChunk(template, chunk);
            }
        }
    }

    public async Task<BackendResponse> EmbeddingsAsync(JsonObject request, CancellationToken cancellationToken)
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

    private (LocalChatModel Chat, IReadOnlyList<int> Prompt, SamplingOptions Sampling) PrepareChat(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chat = ChatModel();
        var template = chat.ChatTemplate ?? throw new BackendException(400, "invalid_request_error", $"'{Name}' has no chat template; use /v1/completions (parameter 'model')");
        var reader = new OpenAiRequest(request);
        if (request["tools"] is JsonArray { Count: > 0 } || reader.Has("functions"))
        {
            throw OpenAiRequest.Invalid("the built-in engine does not call tools; route this request to an upstream that does", "tools");
        }

        if (request["messages"] is not JsonArray { Count: > 0 } messages)
        {
            throw OpenAiRequest.Invalid("'messages' must be a non-empty array", "messages");
        }

        var parsed = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message || message["role"] is not JsonValue roleValue || !roleValue.TryGetValue<string>(out var role)
                || role is not ("system" or "developer" or "user" or "assistant"))
            {
                throw OpenAiRequest.Invalid($"messages[{i}] must be an object with a role of system, developer, user or assistant", "messages");
            }

            parsed.Add(new ChatMessage(role == "developer" ? "system" : role, Content(message["content"], i)));
        }

        var sampling = reader.Sampling(_maxStopSequences) with { Grammar = Grammar(request) };
        var prompt = template.Render(parsed, addGenerationPrompt: true);
        return (chat, chat.Tokenizer.Encode(prompt, addSpecialTokens: false), sampling);
    }

    private (LocalChatModel Chat, IReadOnlyList<int> Prompt, SamplingOptions Sampling) PrepareCompletion(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var chat = ChatModel();
        var reader = new OpenAiRequest(request);
        if (reader.String("suffix") is { Length: > 0 })
        {
            throw OpenAiRequest.Invalid("the built-in engine does not support 'suffix'", "suffix");
        }

        var sampling = reader.Sampling(_maxStopSequences) with { Grammar = Grammar(request) };
        IReadOnlyList<int> prompt = request["prompt"] switch
        {
            JsonValue value when value.TryGetValue<string>(out var text) => chat.Tokenizer.Encode(text, addSpecialTokens: true),
            JsonArray and [JsonValue value] when value.TryGetValue<string>(out var text) => chat.Tokenizer.Encode(text, addSpecialTokens: true),
            JsonArray { Count: > 0 } ids when ids.All(IsInt) => Ids(ids),
            JsonArray and [JsonArray ids] when ids.Count > 0 && ids.All(IsInt) => Ids(ids),
            JsonArray { Count: > 1 } => throw OpenAiRequest.Invalid("the built-in engine completes one prompt per request", "prompt"),
            _ => throw OpenAiRequest.Invalid("'prompt' must be a string or an array of token IDs", "prompt"),
        };
        return (chat, prompt, sampling);
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

    private static async Task<(string Text, GenerationChunk Last)> CollectAsync(IAsyncEnumerable<GenerationChunk> chunks)
    {
        var text = new StringBuilder();
        GenerationChunk? last = null;
        await foreach (var chunk in chunks.ConfigureAwait(false))
        {
            text.Append(chunk.Text);
            last = chunk;
        }

        return (text.ToString(), last!);
    }

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

    private static JsonObject ChatChunk(JsonObject template, JsonObject delta, FinishReason? finish, bool includeUsage)
    {
        var chunk = template.DeepClone().AsObject();
        chunk["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finish is { } f ? FinishReasonText(f) : null,
        });
        if (includeUsage)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    private static JsonObject UsageChunk(JsonObject template, GenerationChunk last)
    {
        var chunk = template.DeepClone().AsObject();
        chunk["choices"] = new JsonArray();
        chunk["usage"] = Usage(last.PromptTokens, last.CompletionTokens);
        return chunk;
    }

    private static JsonObject CompletionChoice(string text, FinishReason? finish) => new()
    {
        ["text"] = text,
        ["index"] = 0,
        ["logprobs"] = null,
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
