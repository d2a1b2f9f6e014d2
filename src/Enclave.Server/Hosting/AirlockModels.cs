using Enclave.Airlock.Import;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Policy.Configuration;
using Enclave.Policy.Requests;
using Enclave.Server.Policy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Enclave.Server.Hosting;

/// <summary>
/// Serves the models the airlock activated. At start the server loads <see cref="ToServe"/> (one per name); when an
/// approval activates a model while the server runs, <see cref="Serve"/> loads it, has the policy admit its label and
/// swaps it into the <see cref="ModelCatalog"/>. Until then nothing of an import is visible in <c>/v1/models</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Versions.</b> Of several activated versions of one model name, the one activated <i>last</i> is served under the
/// name (no version-string ordering is assumed: versions are free-form). Activating a new version therefore replaces
/// the one served, without a restart; going back to an older version means importing and approving it again, a
/// deliberate act of two people like any other activation. Requests already running finish on the version they
/// started with; a replaced version stays loaded until the server stops (it is not served again).
/// </para>
/// <para>
/// <b>Replicas.</b> A model activated through another replica (sharing the PostgreSQL database and the shared
/// directory) arrives through the change feed: <see cref="Refresh"/> serves whatever <see cref="ToServe"/> lists that
/// this replica does not serve yet. Serving is idempotent: the approval's own <see cref="Serve"/> and the feed's
/// refresh of the same import load it once.
/// </para>
/// <para>
/// An airlock model may replace a model from the airlock or a dev-registered folder of the same name (the airlock's
/// word wins over a development shortcut), never a model configured on an upstream backend.
/// </para>
/// </remarks>
public sealed partial class AirlockModels : IDisposable
{
    /// <summary>Prefix of <see cref="ModelRoute.Source"/> for models from the airlock: <c>airlock:IMPORT-ID</c>.</summary>
    public const string SourcePrefix = "airlock:";

    private readonly ModelCatalog _catalog;
    private readonly EnclavePolicy _policy;
    private readonly TimeProvider _clock;
    private readonly GgufEngineOptions? _gguf;
    private readonly OnnxEngineOptions? _onnx;
    private readonly Lock _lock = new();
    private readonly Lock _serving = new();
    private readonly ILogger _logger;
    private readonly List<LoadedLocalModel> _loaded = [];
    private bool _disposed;

    /// <summary>Serves activated models into <paramref name="catalog"/>, admitted by <paramref name="policy"/>.</summary>
    /// <param name="catalog">Where served models are routed.</param>
    /// <param name="policy">Admits each model's label.</param>
    /// <param name="clock">The loaded models' clock.</param>
    /// <param name="gguf">The GGUF engine's options.</param>
    /// <param name="onnx">The ONNX engine's options.</param>
    /// <param name="logger">Models served or not served by a <see cref="Refresh"/> (event IDs 4201, 4202); default none.</param>
    public AirlockModels(ModelCatalog catalog, EnclavePolicy policy, TimeProvider clock, GgufEngineOptions? gguf = null, OnnxEngineOptions? onnx = null, ILogger<AirlockModels>? logger = null)
    {
        _gguf = gguf;
        _onnx = onnx;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(clock);
        _catalog = catalog;
        _policy = policy;
        _clock = clock;
    }

    /// <summary>The activated models to serve: per name, the version activated last.</summary>
    public static IReadOnlyList<ActivatedArtifact> ToServe(AirlockImporter importer)
    {
        ArgumentNullException.ThrowIfNull(importer);
        return [.. importer.ListActivated("model")
            .Where(a => a.Task is not null)
            .GroupBy(a => a.Name, StringComparer.Ordinal)
            .Select(g => g.OrderBy(a => a.Activated).ThenBy(a => a.ImportId, StringComparer.Ordinal).Last())
            .OrderBy(a => a.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Loads an activated model into the built-in engine as route <c>NAME</c> with the import's label, the manifest
    /// digest and source <c>airlock:IMPORT-ID</c>.
    /// </summary>
    public static LoadedLocalModel Load(ActivatedArtifact model, TimeProvider clock, GgufEngineOptions? gguf = null, OnnxEngineOptions? onnx = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Kind != "model" || model.Task is null)
        {
            throw new ArgumentException($"{model.Kind} {model.Name} {model.Version} is not a model with a task; only models are served", nameof(model));
        }

        return LocalModelRegistry.LoadFolder(
            model.Folder,
            model.Task,
            clock,
            route => route with
            {
                Id = model.Name,
                Label = model.Label,
                Digest = "sha256:" + model.ManifestSha256.ToHex(),
                Source = SourcePrefix + model.ImportId,
                Created = model.Activated,
            },
            backendName: $"{(File.Exists(Path.Combine(model.Folder, ModelForge.GgufFileName)) ? "gguf" : "onnx")}:{model.Name}@{model.Version}",
            gguf: gguf,
            onnx: onnx);
    }

    /// <summary>Whether an airlock model may take the place of <paramref name="existing"/> (see the remarks).</summary>
    public static bool MayReplace(ModelRoute existing)
    {
        ArgumentNullException.ThrowIfNull(existing);
        return existing.Source is not null;
    }

    /// <summary>
    /// Serves a model just activated: loads it, has the policy admit it, and swaps it into the catalog (replacing the
    /// version served so far). On any failure nothing is served and the exception says why.
    /// </summary>
    /// <returns>The route now served, and the one it replaced (null when the name is new).</returns>
    /// <exception cref="PolicyConfigurationException">The label is not a valid marking in this enclave's scheme.</exception>
    /// <exception cref="InvalidOperationException">The name is taken by an upstream model.</exception>
    public (ModelRoute Served, ModelRoute? Replaced) Serve(ActivatedArtifact model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_serving)
        {
            if (Serves(model, out var current))
            {
                return (current, null);
            }

            return ServeLoaded(model);
        }
    }

    /// <summary>
    /// Serves every activated model (<see cref="ToServe"/>) that this replica does not serve yet: those another replica
    /// activated since. Called by the change feed when an artifact is activated anywhere, and when its connection is
    /// (re)established. A model that cannot be served is logged (event 4202) and tried again at the next refresh.
    /// </summary>
    /// <returns>The routes newly served.</returns>
    public IReadOnlyList<ModelRoute> Refresh(AirlockImporter importer)
    {
        ArgumentNullException.ThrowIfNull(importer);
        var served = new List<ModelRoute>();
        foreach (var model in ToServe(importer))
        {
            lock (_serving)
            {
                if (_disposed || Serves(model, out _))
                {
                    continue;
                }

                try
                {
                    var (route, _) = ServeLoaded(model);
                    served.Add(route);
                    Log.Served(_logger, model.Name, model.Version, model.ImportId);
                }
                catch (Exception e) when (e is InvalidOperationException or PolicyConfigurationException or IOException or UnauthorizedAccessException or ArgumentException or Inference.Onnx.InvalidModelException or Inference.Text.TokenizerException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    Log.NotServed(_logger, model.ImportId, e.GetType().Name, e.Message);
                }
            }
        }

        return served;
    }

    // Whether the catalog routes the model's name to this very import.
    private bool Serves(ActivatedArtifact model, out ModelRoute current) =>
        _catalog.TryResolve(model.Name, out current!) && current.Source == SourcePrefix + model.ImportId;

    private (ModelRoute Served, ModelRoute? Replaced) ServeLoaded(ActivatedArtifact model)
    {
        var loaded = Load(model, _clock, _gguf, _onnx);
        try
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_catalog.TryResolve(model.Name, out var existing) && !MayReplace(existing))
                {
                    throw new InvalidOperationException($"model name '{model.Name}' is taken by a model configured on an upstream backend ({existing.BackendName}); the airlock model is activated but not served");
                }

                _policy.Admit(loaded.Route);
                var replaced = _catalog.AddOrReplace(loaded.Route, MayReplace);
                _loaded.Add(loaded);
                return (loaded.Route, replaced);
            }
        }
        catch (Exception)
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>Unloads the models activated while the server ran (call after the server stopped).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var model in _loaded)
            {
                model.Dispose();
            }

            _loaded.Clear();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Model {Name} {Version} ({ImportId}), activated through another replica, is served here")]
        public static partial void Served(ILogger logger, string name, string version, string importId);

        [LoggerMessage(EventId = 4202, Level = LogLevel.Error, Message = "Airlock import {ImportId} is activated but could not be served here ({Error}: {Detail}); tried again at the next change or restart")]
        public static partial void NotServed(ILogger logger, string importId, string error, string detail);
    }
}
