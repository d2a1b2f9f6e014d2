using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Policy.Requests;

namespace Enclave.Server.Hosting;

/// <summary>A model clients can ask for, which backends may serve it, and the label it carries (what policy decides over, <see cref="IPolicyRoute"/>).</summary>
public sealed record ModelRoute : IPolicyRoute
{
    /// <summary>
    /// A model served by one fixed backend inside the enclave (the built-in engine): accredited at
    /// <c>Policy:LocalAccreditation</c>, jurisdiction <see cref="RouteBackend.LocalJurisdiction"/>.
    /// </summary>
    public static ModelRoute Fixed(string id, string kind, IInferenceBackend backend, string? label = null) => new()
    {
        Id = id,
        Kind = kind,
        BackendName = backend.Name,
        Label = label,
        Backends = [new RouteBackend(backend.Name, Accreditation: null, RouteBackend.LocalJurisdiction, LeavesEnclave: false)],
        SelectBackend = selection => selection.IsAllowed(backend.Name)
            ? backend
            : throw new InvalidOperationException($"policy did not allow backend '{backend.Name}'; the request must not reach it"),
    };

    /// <summary>The name clients use (<c>model</c> in requests, <c>id</c> in <c>/v1/models</c>).</summary>
    public required string Id { get; init; }

    /// <summary><c>chat</c> (chat and text completions), <c>embedding</c>, or <c>any</c> when the backend decides.</summary>
    public required string Kind { get; init; }

    /// <summary>What serves this model, for the admission record (a backend's name, or a router's).</summary>
    public required string BackendName { get; init; }

    /// <summary>
    /// The backends that may serve this model, with their labels, in order of preference. Policy decides from these
    /// which of them a request may reach; <see cref="SelectBackend"/> must never use a backend not listed here.
    /// </summary>
    public required IReadOnlyList<RouteBackend> Backends { get; init; }

    /// <summary>
    /// Picks the backend for one request, restricted to what <see cref="RouteSelection"/> allows (retries and
    /// fail-over included). A router returns a per-request view whose <see cref="IInferenceBackend.Name"/> is, after
    /// the call, the backend that answered.
    /// </summary>
    public required Func<RouteSelection, IInferenceBackend> SelectBackend { get; init; }

    /// <summary>
    /// The model's label in marking syntax (<c>SECRET//NOFORN</c>), given at import or by <c>Models:{id}:Label</c>;
    /// null means the label scheme's lowest level.
    /// </summary>
    public string? Label { get; init; }

    /// <summary>The model's name at the backend (often the same as <see cref="Id"/>).</summary>
    public string? BackendModel { get; init; }

    /// <summary>Digest of the model's weights when known (recorded in audit entries).</summary>
    public string? Digest { get; init; }

    /// <summary>
    /// Where the model came from, for operators and the ledger: <c>airlock:IMPORT-ID</c> for a model activated through
    /// the airlock, the registry's source (<c>demo:forged</c>, <c>dev:folder</c>) for a dev-registered folder, null for
    /// a configured upstream model.
    /// </summary>
    public string? Source { get; init; }

    public string OwnedBy { get; init; } = "enclave";

    public DateTimeOffset Created { get; init; } = DateTimeOffset.UnixEpoch;
}

/// <summary>
/// The models this server serves. Reads (<see cref="TryResolve"/>, <see cref="List"/>) take an immutable snapshot and
/// never lock; a change (a model activated by the airlock) builds a new snapshot and swaps it in atomically, so a
/// request sees either the catalog before the change or after it, never a mix.
/// </summary>
public sealed class ModelCatalog : IRouteCatalog
{
    private readonly Lock _writeLock = new();
    private volatile Snapshot _snapshot;

    /// <summary>A catalog of <paramref name="routes"/>; two routes with the same ID are refused.</summary>
    public ModelCatalog(IEnumerable<ModelRoute> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var map = new Dictionary<string, ModelRoute>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            if (!map.TryAdd(route.Id, route))
            {
                throw new ArgumentException($"model '{route.Id}' is configured twice", nameof(routes));
            }
        }

        _snapshot = new Snapshot(map);
    }

    /// <summary>Every model, ordered by ID (a snapshot: later changes do not alter it).</summary>
    public IReadOnlyList<ModelRoute> List() => _snapshot.Sorted;

    /// <inheritdoc />
    IReadOnlyList<IPolicyRoute> IRouteCatalog.List() => _snapshot.Sorted;

    /// <summary>The route of model <paramref name="id"/>, lock-free.</summary>
    public bool TryResolve(string id, out ModelRoute route) => _snapshot.Routes.TryGetValue(id, out route!);

    /// <summary>
    /// Adds <paramref name="route"/>, or replaces the route with its ID when <paramref name="mayReplace"/> allows it
    /// (null: never). Requests already resolved keep the route they resolved; later ones get the new one.
    /// </summary>
    /// <returns>The route replaced, or null when the ID was new.</returns>
    /// <exception cref="InvalidOperationException">A route with that ID exists and may not be replaced; nothing changed.</exception>
    public ModelRoute? AddOrReplace(ModelRoute route, Func<ModelRoute, bool>? mayReplace = null)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_writeLock)
        {
            var current = _snapshot;
            current.Routes.TryGetValue(route.Id, out var existing);
            if (existing is not null && (mayReplace is null || !mayReplace(existing)))
            {
                throw new InvalidOperationException($"model '{route.Id}' is already served by {existing.Source ?? existing.BackendName} and cannot be replaced by {route.Source ?? route.BackendName}");
            }

            var map = new Dictionary<string, ModelRoute>(current.Routes, StringComparer.Ordinal) { [route.Id] = route };
            _snapshot = new Snapshot(map);
            return existing;
        }
    }

    private sealed class Snapshot
    {
        public Snapshot(Dictionary<string, ModelRoute> routes)
        {
            Routes = routes.ToFrozenDictionary(StringComparer.Ordinal);
            Sorted = Array.AsReadOnly([.. routes.Values.OrderBy(r => r.Id, StringComparer.Ordinal)]);
        }

        public FrozenDictionary<string, ModelRoute> Routes { get; }

        public IReadOnlyList<ModelRoute> Sorted { get; }
    }
}
