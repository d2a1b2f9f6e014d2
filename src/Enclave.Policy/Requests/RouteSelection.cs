using System.Text.Json.Nodes;

namespace Enclave.Policy.Requests;

/// <summary>
/// What policy allows for one request: which backends it may reach and, per backend, the body to send (the egress
/// guard's redacted copy for a backend that leaves the enclave, when its route redacts).
/// </summary>
public sealed class RouteSelection
{
    private readonly Func<string, bool> _isAllowed;
    private readonly Func<string, JsonObject, JsonObject> _bodyFor;

    /// <param name="isAllowed">Whether the request may reach the backend with this name.</param>
    /// <param name="bodyFor">The body to send to an allowed backend, given the body as the client sent it.</param>
    public RouteSelection(Func<string, bool> isAllowed, Func<string, JsonObject, JsonObject> bodyFor)
    {
        ArgumentNullException.ThrowIfNull(isAllowed);
        ArgumentNullException.ThrowIfNull(bodyFor);
        _isAllowed = isAllowed;
        _bodyFor = bodyFor;
    }

    /// <summary>Whether the request may reach <paramref name="backend"/>.</summary>
    public bool IsAllowed(string backend) => _isAllowed(backend);

    /// <summary>The body to send to <paramref name="backend"/>; refuses a backend that is not allowed.</summary>
    public JsonObject BodyFor(string backend, JsonObject body) => _isAllowed(backend)
        ? _bodyFor(backend, body)
        : throw new InvalidOperationException($"policy did not allow backend '{backend}'; nothing may be sent to it");
}
