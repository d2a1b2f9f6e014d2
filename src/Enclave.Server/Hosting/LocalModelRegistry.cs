using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Enclave.Airlock.Scanners;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;
using Enclave.State;
using Enclave.State.Models;

namespace Enclave.Server.Hosting;

/// <summary>
/// Models served by the built-in ONNX engine, recorded in the data directory's database with the digest of their
/// files and their label, registered past the airlock by <c>enclave models add --dev</c> (for development; models for
/// production come through the airlock, see <see cref="AirlockModels"/>). A model registered without a label (every dev-registered model so far) carries the label scheme's
/// lowest level (UNCLASSIFIED by default), so policy lets only requests at that level reach it.
/// </summary>
public sealed class LocalModelRegistry
{
    private readonly IModelRegistryStore _store;
    private readonly TimeProvider _clock;

    /// <summary>The registry in <paramref name="dataDirectory"/>'s <c>enclave.db</c>, or in <paramref name="state"/> when the host opened it.</summary>
    public LocalModelRegistry(string dataDirectory, TimeProvider clock, StateConnectionFactory? state = null)
    {
        _clock = clock;
        _store = new SqliteModelRegistryStore(state ?? EnclaveState.Open(dataDirectory, clock));
    }

    /// <summary>
    /// Registers (or re-registers) a model folder after checking that it loads. <paramref name="label"/> is the model's
    /// label in marking syntax (null: the lowest level); the server checks it against its label scheme at start.
    /// </summary>
    public LocalModelRecord Add(string id, string kind, string directory, string source, string? label = null)
    {
        label = string.IsNullOrWhiteSpace(label) ? null : label.Trim();
        if (string.IsNullOrWhiteSpace(id) || id.Length > 128 || id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException($"model name '{id}' must be 1 to 128 characters without spaces");
        }

        if (kind is not ("chat" or "embedding"))
        {
            throw new ArgumentException($"model kind must be chat or embedding, not '{kind}'");
        }

        var full = Path.GetFullPath(directory);
        using (LoadFolder(full, kind))
        {
            // Loading validates the config, the graph, its external data and the tokenizer.
        }

        var record = new LocalModelRecord { Id = id, Kind = kind, Path = full, Digest = Digest(full), Source = source, Added = _clock.GetUtcNow(), Label = label };
        _store.Upsert(new LocalModelRow(id, kind, full, record.Digest, source, record.Added, label));
        return record;
    }

    /// <summary>Removes a registration (the folder stays); true when there was one.</summary>
    public bool Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _store.Remove(id);
    }

    public IReadOnlyList<LocalModelRecord> List()
    {
        return [.. _store.List().Select(m => new LocalModelRecord
        {
            Id = m.Id,
            Kind = m.Kind,
            Path = m.Path,
            Digest = m.Digest,
            Source = m.Source,
            Added = m.Added,
            Label = m.Label,
        })];
    }

    /// <summary>Loads a registered model into the ONNX engine, refusing one whose files changed since registration.</summary>
    public static LoadedLocalModel Load(LocalModelRecord record, TimeProvider clock, GgufEngineOptions? gguf = null, OnnxEngineOptions? onnx = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        var digest = Digest(record.Path);
        if (digest != record.Digest)
        {
            throw new InvalidOperationException($"model '{record.Id}' in {record.Path} changed since it was registered (digest {digest}, registered {record.Digest}); register it again or restore it");
        }

        return LoadFolder(record.Path, record.Kind, clock, route => route with { Id = record.Id, Digest = record.Digest, Created = record.Added, Label = record.Label, Source = record.Source }, gguf: gguf, onnx: onnx);
    }

    /// <summary>
    /// Loads a model folder (ONNX Runtime GenAI / Optimum layout with <c>tokenizer.json</c>) into the built-in engine:
    /// a decoder for <paramref name="kind"/> <c>chat</c>, an encoder for <c>embedding</c>. <paramref name="describe"/>
    /// completes the route (ID, label, digest, source); dev-registered and airlock models both load through here.
    /// The engine is named <paramref name="backendName"/> (default <c>onnx:FOLDER-NAME</c>) in routes and audit entries.
    /// </summary>
    public static LoadedLocalModel LoadFolder(string directory, string kind, TimeProvider? clock = null, Func<ModelRoute, ModelRoute>? describe = null, string? backendName = null, GgufEngineOptions? gguf = null, OnnxEngineOptions? onnx = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (kind is not ("chat" or "embedding"))
        {
            throw new ArgumentException($"model kind must be chat or embedding, not '{kind}'", nameof(kind));
        }

        var ggufFile = System.IO.Path.Combine(directory, ModelForge.GgufFileName);
        if (File.Exists(ggufFile) && !File.Exists(System.IO.Path.Combine(directory, "model.onnx")))
        {
            return LoadGguf(ggufFile, kind, clock, describe, backendName ?? "gguf:" + System.IO.Path.GetFileName(directory.TrimEnd(System.IO.Path.DirectorySeparatorChar)), gguf);
        }

        var tokenizer = TokenizerLoader.Load(directory, timeProvider: clock);
        var name = backendName ?? "onnx:" + System.IO.Path.GetFileName(directory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        IDisposable model;
        OnnxInferenceBackend backend;
        if (kind == "chat")
        {
            var decoder = OnnxDecoderModel.Load(directory, onnx);
            model = decoder;
            backend = new OnnxInferenceBackend(name, new LocalChatModel(decoder, tokenizer.Tokenizer, tokenizer.ChatTemplate), null, clock);
        }
        else
        {
            var encoder = OnnxEmbeddingModel.Load(directory, onnx);
            model = encoder;
            backend = new OnnxInferenceBackend(name, null, new LocalEmbeddingModel(encoder, tokenizer.Tokenizer), clock);
        }

        var route = ModelRoute.Fixed(name, kind, backend);
        return new LoadedLocalModel(describe is null ? route : describe(route), model);
    }

    /// <summary>
    /// A GGUF model (<c>model.gguf</c>, which the airlock's GGUF scanner passed) into the built-in engine through
    /// llama.cpp: its tokenizer and chat template come from the file's metadata.
    /// </summary>
    private static LoadedLocalModel LoadGguf(string file, string kind, TimeProvider? clock, Func<ModelRoute, ModelRoute>? describe, string name, GgufEngineOptions? options)
    {
        // The scanner's checks are the gate before llama.cpp reads a byte: again here, for a dev-registered folder.
        var scan = new GgufScanner().Scan(file);
        if (!scan.IsClean)
        {
            throw new InvalidModelException(file, [.. scan.Findings.Select(f => new ModelProblem(ModelRejectionReason.IncompatibleGraph, f))]);
        }

        IDisposable model;
        OnnxInferenceBackend backend;
        if (kind == "chat")
        {
            var decoder = GgufDecoderModel.Load(file, options, clock);
            model = decoder;
            backend = new OnnxInferenceBackend(name, new LocalChatModel(decoder, decoder.Tokenizer, decoder.ChatTemplate), null, clock);
        }
        else
        {
            var encoder = GgufEmbeddingModel.Load(file, options);
            model = encoder;
            backend = new OnnxInferenceBackend(name, null, new LocalEmbeddingModel(encoder, encoder.Tokenizer), clock);
        }

        var route = ModelRoute.Fixed(name, kind, backend);
        return new LoadedLocalModel(describe is null ? route : describe(route), model);
    }

    /// <summary>SHA-256 over the folder's files (names and contents, sorted), as <c>sha256:hex</c>.</summary>
    public static string Digest(string directory)
    {
        using var manifest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            using var stream = File.OpenRead(file);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            manifest.AppendData(Encoding.UTF8.GetBytes($"{System.IO.Path.GetFileName(file)} {hash}\n"));
        }

        return "sha256:" + Convert.ToHexStringLower(manifest.GetHashAndReset());
    }
}

public sealed record LocalModelRecord
{
    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required string Path { get; init; }
    public required string Digest { get; init; }
    public required string Source { get; init; }
    public required DateTimeOffset Added { get; init; }

    /// <summary>The model's label in marking syntax; null means the label scheme's lowest level.</summary>
    public string? Label { get; init; }
}

/// <summary>A model loaded into the engine: its route and the engine objects to dispose at shutdown.</summary>
public sealed record LoadedLocalModel(ModelRoute Route, IDisposable Model) : IDisposable
{
    public void Dispose() => Model.Dispose();
}
