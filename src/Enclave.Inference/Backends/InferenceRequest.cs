using System.Text.Json.Nodes;

namespace Enclave.Inference.Backends;

/// <summary>
/// One OpenAI request body given to an <see cref="IInferenceBackend"/>: the parsed object every backend reads, and,
/// while that object is exactly what the client sent, the client's own bytes, which a pass-through upstream (an
/// OpenAI-compatible server) forwards as they are instead of writing the object out again.
/// </summary>
/// <remarks>
/// The bytes are only ever those the object was strictly parsed from (<c>StrictJson</c>: duplicate keys, invalid
/// UTF-8 and lone surrogates refused), so the upstream reads the same request the gateway's policy, labels and audit
/// read: no parser differential. Whoever changes the body (a route's backend model name, the egress guard's redacted
/// copy, retrieval's excerpts) makes a new request without bytes (<see cref="InferenceRequest(JsonObject)"/>); the
/// <see cref="Body"/> of a request that carries <see cref="ClientBytes"/> must not be modified.
/// </remarks>
public sealed class InferenceRequest
{
    private readonly byte[]? _clientBytes;

    /// <summary>A request built or changed by the gateway: backends write <paramref name="body"/> out themselves.</summary>
    public InferenceRequest(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Body = body;
    }

    private InferenceRequest(JsonObject body, byte[] clientBytes)
        : this(body)
    {
        _clientBytes = clientBytes;
    }

    /// <summary>The request as parsed; the only form engines and translating upstreams read.</summary>
    public JsonObject Body { get; }

    /// <summary>
    /// The client's body, byte for byte, while <see cref="Body"/> is what it was parsed from; empty when the gateway
    /// built or changed the body (see <see cref="HasClientBytes"/>).
    /// </summary>
    public ReadOnlyMemory<byte> ClientBytes => _clientBytes;

    /// <summary>Whether <see cref="ClientBytes"/> may be forwarded in place of <see cref="Body"/>.</summary>
    public bool HasClientBytes => _clientBytes is not null;

    /// <summary>
    /// The request a client sent: <paramref name="body"/> strictly parsed from <paramref name="clientBytes"/>, which
    /// this request owns from now on (not a pooled buffer: an upstream call may still be sending them).
    /// </summary>
    public static InferenceRequest FromClient(JsonObject body, byte[] clientBytes)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(clientBytes);
        return new InferenceRequest(body, clientBytes);
    }

    /// <summary>A request built by the gateway (no client bytes); the same as the constructor.</summary>
    public static InferenceRequest FromJsonObject(JsonObject body) => new(body);

    /// <summary>A request built by the gateway (no client bytes): lets engines and tests pass a <see cref="JsonObject"/>.</summary>
    public static implicit operator InferenceRequest(JsonObject body) => new(body);
}
