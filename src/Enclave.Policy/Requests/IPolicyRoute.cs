namespace Enclave.Policy.Requests;

/// <summary>
/// What policy needs of a model route: the name clients use, the model's label and the backends that may serve it with
/// their accreditation, jurisdiction and whether they leave the enclave. The server's <c>ModelRoute</c> implements it;
/// how a backend is picked and called stays in the server.
/// </summary>
public interface IPolicyRoute
{
    /// <summary>The name clients use (<c>model</c> in requests).</summary>
    string Id { get; }

    /// <summary>The model's label in marking syntax; null means the label scheme's lowest level.</summary>
    string? Label { get; }

    /// <summary>The backends that may serve the model, in order of preference.</summary>
    IReadOnlyList<RouteBackend> Backends { get; }
}
