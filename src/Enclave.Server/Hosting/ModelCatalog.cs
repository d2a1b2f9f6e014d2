using Enclave.Inference.Backends;

namespace Enclave.Server.Hosting;

/// <summary>A model clients can ask for, and which backend serves it.</summary>
public sealed record ModelRoute
{
    /// <summary>A model served by one fixed backend.</summary>
    public static ModelRoute Fixed(string id, string kind, IInferenceBackend backend) => new()
    {
        Id = id,
        Kind = kind,
        BackendName = backend.Name,
        SelectBackend = () => backend,
    };

    /// <summary>The name clients use (<c>model</c> in requests, <c>id</c> in <c>/v1/models</c>).</summary>
    public required string Id { get; init; }

    /// <summary><c>chat</c> (chat and text completions), <c>embedding</c>, or <c>any</c> when the backend decides.</summary>
    public required string Kind { get; init; }

    /// <summary>What serves this model, for the admission record (a backend's name, or a router's).</summary>
    public required string BackendName { get; init; }

    /// <summary>
    /// Picks the backend for one request. A router returns a per-request view whose <see cref="IInferenceBackend.Name"/>
    /// is, after the call, the backend that answered.
    /// </summary>
    public required Func<IInferenceBackend> SelectBackend { get; init; }

    /// <summary>The model's name at the backend (often the same as <see cref="Id"/>).</summary>
    public string? BackendModel { get; init; }

    /// <summary>Digest of the model's weights when known (recorded in audit entries).</summary>
    public string? Digest { get; init; }

    public string OwnedBy { get; init; } = "enclave";

    public DateTimeOffset Created { get; init; } = DateTimeOffset.UnixEpoch;
}

/// <summary>The models this server serves.</summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelRoute> _routes;

    public ModelCatalog(IEnumerable<ModelRoute> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        _routes = new Dictionary<string, ModelRoute>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            if (!_routes.TryAdd(route.Id, route))
            {
                throw new ArgumentException($"model '{route.Id}' is configured twice", nameof(routes));
            }
        }
    }

    public IReadOnlyList<ModelRoute> List() => [.. _routes.Values.OrderBy(r => r.Id, StringComparer.Ordinal)];

    public bool TryResolve(string id, out ModelRoute route) => _routes.TryGetValue(id, out route!);
}
