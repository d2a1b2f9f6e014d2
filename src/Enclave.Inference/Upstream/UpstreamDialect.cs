using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>Which OpenAI endpoint a request is for.</summary>
internal enum UpstreamOperation
{
    Chat,
    Completion,
    Embeddings,
}

/// <summary>
/// The wire protocol of one upstream backend (<see cref="UpstreamBackendOptions.Kind"/>): how an OpenAI request
/// becomes the vendor's HTTP request, and how the vendor's response, stream and errors become OpenAI ones. The
/// transport (timeouts, bounds, TLS, retries) stays in <see cref="OpenAiUpstreamBackend"/> and the router, whatever
/// the vendor. What a vendor cannot do is refused with 400 naming the parameter, never dropped.
/// </summary>
internal abstract class UpstreamDialect(UpstreamBackendOptions options, TimeProvider time)
{
    public UpstreamBackendOptions Options { get; } = options;

    protected TimeProvider Time { get; } = time;

    /// <summary>The dialect for <paramref name="options"/>' kind.</summary>
    public static UpstreamDialect For(UpstreamBackendOptions options, TimeProvider time) => options.ParsedKind() switch
    {
        UpstreamKind.OpenAi => new OpenAiDialect(options, time),
        UpstreamKind.AzureOpenAi => new AzureOpenAiDialect(options, time),
        UpstreamKind.Anthropic => new AnthropicDialect(options, time),
        UpstreamKind.Gemini => new GeminiDialect(options, time),
        UpstreamKind.Bedrock => new BedrockDialect(options, time),
        var other => throw new UpstreamConfigurationException([$"upstream backend '{options.Name}': Kind '{UpstreamKinds.Name(other)}' is not implemented"]),
    };

    /// <summary>The HTTP request (URI, credentials, body) for <paramref name="request"/>; the caller sets Accept.</summary>
    /// <exception cref="BackendException">400: the vendor cannot do what the request asks.</exception>
    public abstract HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key);

    /// <summary>
    /// The HTTP request for <paramref name="request"/>: by default the vendor's translation of its
    /// <see cref="InferenceRequest.Body"/>; a dialect whose wire format is the OpenAI body itself may forward the
    /// client's bytes instead.
    /// </summary>
    /// <exception cref="BackendException">400: the vendor cannot do what the request asks.</exception>
    public virtual HttpRequestMessage CreateRequest(UpstreamOperation operation, InferenceRequest request, StreamField stream, string? key)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CreateRequest(operation, request.Body, stream, key);
    }

    /// <summary>The health-check request.</summary>
    public abstract HttpRequestMessage CreateHealthRequest(string? key);

    /// <summary>The OpenAI response for a vendor's successful (non-error) response body.</summary>
    /// <exception cref="BackendException">502: the body is not what the vendor documents.</exception>
    public JsonObject TranslateResponse(UpstreamOperation operation, JsonObject request, JsonObject body)
    {
        try
        {
            return TranslateAnswer(operation, request, body);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new BackendException(502, "upstream_error", $"upstream backend '{Options.Name}' ({Options.Kind}) answered with a body whose members do not have the JSON types the vendor documents ({UpstreamErrors.Sanitize(e.Message)})", null, e);
        }
    }

    /// <summary>
    /// The dialect's translation behind <see cref="TranslateResponse"/>. A member of another JSON type than the vendor
    /// documents (a number where an object is) makes System.Text.Json's node indexers and <c>GetValue</c> throw
    /// <see cref="InvalidOperationException"/> or <see cref="FormatException"/>: the caller turns those into the 502, so
    /// a malformed answer never reaches the client as a 500 (the <c>vendor-answer</c> fuzz harness found four).
    /// </summary>
    protected virtual JsonObject TranslateAnswer(UpstreamOperation operation, JsonObject request, JsonObject body) => body;

    /// <summary>Whether a health check's answer means the backend is up (2xx, unless the vendor has no health endpoint).</summary>
    public virtual bool IsHealthy(int status) => status is >= 200 and < 300;

    /// <summary>A translator for one stream of <paramref name="request"/>.</summary>
    public virtual UpstreamStreamTranslator StartStream(JsonObject request) => new OpenAiStreamTranslator(Options.Name);

    /// <summary>The media type of the vendor's streams.</summary>
    public virtual string StreamMediaType => "text/event-stream";

    /// <summary>The Accept header of a streaming request.</summary>
    public virtual MediaTypeWithQualityHeaderValue AcceptStream { get; } = new("text/event-stream");

    /// <summary>The reader of the vendor's stream framing over <paramref name="body"/>.</summary>
    public virtual IStreamEventReader OpenStreamReader(Stream body) => new SseEventReader(body, Options.MaxSseLineBytes);

    /// <summary>The error for a non-2xx answer (<paramref name="body"/>: its JSON body, if it had one).</summary>
    public virtual BackendException ErrorFromStatus(int status, TimeSpan? retryAfter, JsonObject? body) =>
        UpstreamErrors.FromStatus(Options.Name, status, retryAfter, body);

    /// <summary>The model the request names (the router has already checked it is there).</summary>
    protected static string ModelOf(JsonObject request) =>
        request["model"] is JsonValue value && value.TryGetValue<string>(out var model) && model.Length > 0
            ? model
            : throw new BackendException(400, "invalid_request_error", "the request has no 'model'; name the model to use");

    /// <summary>A POST of <paramref name="body"/> (written as <see cref="UpstreamJson.CreateContent(JsonObject, StreamField)"/> does).</summary>
    protected static HttpRequestMessage Post(Uri uri, JsonObject body, StreamField stream) =>
        new(HttpMethod.Post, uri) { Content = UpstreamJson.CreateContent(body, stream) };

    /// <summary>The health-check URI: <see cref="UpstreamBackendOptions.HealthCheckPath"/> against <paramref name="root"/>.</summary>
    protected Uri HealthUri(Uri root) => new(root, Options.HealthCheckPath);
}

/// <summary>Turns one vendor stream's events into OpenAI <c>chat.completion.chunk</c> objects.</summary>
internal abstract class UpstreamStreamTranslator
{
    /// <summary>Whether the vendor's end-of-stream event arrived; events after it are not read.</summary>
    public bool Done { get; protected set; }

    /// <summary>The event that ends the vendor's stream, as errors name it.</summary>
    public abstract string EndEvent { get; }

    /// <summary>
    /// Feeds one server-sent event (<paramref name="eventName"/> null when it had no <c>event:</c> line) and appends the
    /// chunks it becomes to <paramref name="output"/>. <paramref name="yielded"/> is how many chunks the caller has
    /// passed on, for errors.
    /// </summary>
    /// <exception cref="BackendException">The vendor sent an error event.</exception>
    /// <exception cref="System.Text.Json.JsonException">The event is not the JSON the vendor documents.</exception>
    public void OnEvent(string? eventName, ReadOnlySpan<byte> data, int yielded, List<JsonObject> output)
    {
        try
        {
            Translate(eventName, data, yielded, output);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw MistypedMember(e);
        }
    }

    /// <summary>
    /// The body ended before <see cref="Done"/>: true (and the last chunks in <paramref name="output"/>) when the
    /// vendor's protocol ends streams that way (Gemini: after a finish reason); false when the answer was cut short.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">What the stream held is not the JSON the vendor documents.</exception>
    public bool OnEnd(List<JsonObject> output)
    {
        try
        {
            return End(output);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw MistypedMember(e);
        }
    }

    /// <summary>
    /// The translation of one event behind <see cref="OnEvent"/>. As for <see cref="UpstreamDialect.TranslateResponse"/>,
    /// the <see cref="InvalidOperationException"/> or <see cref="FormatException"/> of a member with another JSON type
    /// than the vendor documents becomes a <see cref="System.Text.Json.JsonException"/> (a 502), never a 500.
    /// </summary>
    protected abstract void Translate(string? eventName, ReadOnlySpan<byte> data, int yielded, List<JsonObject> output);

    /// <summary>The end of the body behind <see cref="OnEnd"/>; false by default (the answer was cut short).</summary>
    protected virtual bool End(List<JsonObject> output) => false;

    private static System.Text.Json.JsonException MistypedMember(Exception e) =>
        new($"its members do not have the JSON types the vendor documents ({UpstreamErrors.Sanitize(e.Message)})", e);
}

/// <summary>The OpenAI stream: each <c>data:</c> is a chunk; <c>data: [DONE]</c> ends it.</summary>
internal sealed class OpenAiStreamTranslator(string backend) : UpstreamStreamTranslator
{
    public override string EndEvent => "data: [DONE]";

    protected override void Translate(string? eventName, ReadOnlySpan<byte> data, int yielded, List<JsonObject> output)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            Done = true;
            return;
        }

        var chunk = UpstreamJson.ParseObject(data);
        if (eventName == "error" || UpstreamErrors.IsErrorObject(chunk))
        {
            throw UpstreamErrors.FromErrorObject(backend, chunk, yielded);
        }

        output.Add(chunk);
    }
}
