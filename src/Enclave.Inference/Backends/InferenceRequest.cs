using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;

namespace Enclave.Inference.Backends;

/// <summary>
/// One OpenAI request body given to an <see cref="IInferenceBackend"/>: a read-only view (<see cref="Root"/>) that the
/// gateway's handler, policy and audit read, the object (<see cref="Body"/>) that engines and translating upstreams
/// read, built only when one of them asks for it, and, while the body is exactly what the client sent, the client's own
/// bytes, which a pass-through upstream (an OpenAI-compatible server) forwards as they are.
/// </summary>
/// <remarks>
/// The bytes are only ever those the view was strictly parsed from (<c>StrictJson</c>: duplicate keys, invalid UTF-8
/// and lone surrogates refused), so the upstream reads the same request the gateway's policy, labels and audit read:
/// no parser differential. A client's request keeps no <see cref="JsonNode"/> tree until <see cref="Body"/> is read;
/// the tree is then built from the view, member for member the one a strict parse of the bytes gives. Whoever changes
/// the body (a route's backend model name, <see cref="WithModel"/>; the egress guard's redacted copy; retrieval's
/// excerpts) makes a new request without bytes (<see cref="InferenceRequest(JsonObject)"/>); neither the
/// <see cref="Body"/> of a request that carries <see cref="ClientBytes"/> nor a body whose <see cref="Root"/> was read
/// may be modified.
/// </remarks>
public sealed class InferenceRequest
{
    private readonly byte[]? _clientBytes;
    private readonly JsonElement _clientRoot;
    private JsonObject? _body;
    private View? _builtRoot;

    /// <summary>A request built or changed by the gateway: backends write <paramref name="body"/> out themselves.</summary>
    public InferenceRequest(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        _body = body;
    }

    private InferenceRequest(JsonObject? body, JsonElement root, byte[] clientBytes)
    {
        _body = body;
        _clientRoot = root;
        _clientBytes = clientBytes;
    }

    /// <summary>
    /// The request as an object; the only form engines and translating upstreams read. For a client's request it is
    /// built from <see cref="Root"/> on first use (one object, members materialized as they are read).
    /// </summary>
    public JsonObject Body
    {
        get
        {
            if (_body is { } body)
            {
                return body;
            }

            var built = JsonObject.Create(_clientRoot)!;
            return Interlocked.CompareExchange(ref _body, built, null) ?? built;
        }
    }

    /// <summary>
    /// The request as a read-only element (a JSON object): the client's body as strictly parsed, or, for a request the
    /// gateway built, its <see cref="Body"/> written out and read back once, on first use.
    /// </summary>
    public JsonElement Root
    {
        get
        {
            if (_clientBytes is not null)
            {
                return _clientRoot;
            }

            if (_builtRoot is { } view)
            {
                return view.Root;
            }

            var built = new View(JsonViews.ElementOf(_body));
            return (Interlocked.CompareExchange(ref _builtRoot, built, null) ?? built).Root;
        }
    }

    /// <summary>
    /// The client's body, byte for byte, while <see cref="Body"/> is what it was parsed from; empty when the gateway
    /// built or changed the body (see <see cref="HasClientBytes"/>).
    /// </summary>
    public ReadOnlyMemory<byte> ClientBytes => _clientBytes;

    /// <summary>Whether <see cref="ClientBytes"/> may be forwarded in place of <see cref="Body"/>.</summary>
    public bool HasClientBytes => _clientBytes is not null;

    /// <summary>
    /// The request a client sent: <paramref name="root"/> (a JSON object) strictly parsed from
    /// <paramref name="clientBytes"/>, which this request owns from now on (not a pooled buffer: an upstream call may
    /// still be sending them). No object tree is built until <see cref="Body"/> is read.
    /// </summary>
    public static InferenceRequest FromClient(JsonElement root, byte[] clientBytes)
    {
        ArgumentNullException.ThrowIfNull(clientBytes);
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"a request body is a JSON object, not {root.ValueKind}", nameof(root));
        }

        return new InferenceRequest(null, root, clientBytes);
    }

    /// <summary>
    /// The request a client sent: <paramref name="body"/> strictly parsed from <paramref name="clientBytes"/>, which
    /// this request owns from now on (not a pooled buffer: an upstream call may still be sending them).
    /// </summary>
    public static InferenceRequest FromClient(JsonObject body, byte[] clientBytes)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(clientBytes);
        return new InferenceRequest(body, JsonViews.ElementOf(body), clientBytes);
    }

    /// <summary>A request built by the gateway (no client bytes); the same as the constructor.</summary>
    public static InferenceRequest FromJsonObject(JsonObject body) => new(body);

    /// <summary>
    /// This request with its <c>model</c> set to <paramref name="model"/> (a route's backend model name): a new body,
    /// sent as written by the gateway (no client bytes); this request and its <see cref="Body"/> are left as they are.
    /// </summary>
    public InferenceRequest WithModel(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var body = _clientBytes is not null ? JsonObject.Create(_clientRoot)! : (JsonObject)Body.DeepClone();
        body["model"] = model;
        return new InferenceRequest(body);
    }

    /// <summary>A request built by the gateway (no client bytes): lets engines and tests pass a <see cref="JsonObject"/>.</summary>
    public static implicit operator InferenceRequest(JsonObject body) => new(body);

    // The element of a built request, boxed so that it is published whole.
    private sealed record View(JsonElement Root);
}
