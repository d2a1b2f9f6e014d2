using System.Security.Cryptography;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Scanners;
using Enclave.Airlock.Tuf;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.State;
using Enclave.State.Airlock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Enclave.Airlock.Import;

/// <summary>
/// The airlock import pipeline: bundle → TUF client workflow against the durable trusted state → the selector picks
/// the artifact's verified targets → targets stream into quarantine with length and hash checks → content scanners
/// and attestation checks → <see cref="ImportState.Verified"/> (pending approval) → distinct approvers → atomic
/// promotion into the blob store and the registry → <see cref="ImportState.Activated"/>. Every step is a ledger
/// entry; any failure leaves the enclave as it was (quarantine removed, trusted versions unchanged, nothing visible).
/// </summary>
/// <remarks>
/// One operation at a time per instance (an internal gate serialises them); the server is the single writer of the
/// data directory and should hold one instance. Call <see cref="RecoverAsync"/> once at startup, while holding the
/// data directory lock (the ledger's), before anything else.
/// <para>
/// One class in one file per stage (a partial class: the stages share the gate, the store and the ledger helpers):
/// this file is the entry (<see cref="ImportAsync(Stream, string, IProgress{long}?, CancellationToken)"/>: received,
/// read into quarantine, verified, committed); <c>AirlockImporter.Trust.cs</c> pins the root;
/// <c>.Plan.cs</c> runs the TUF workflow and picks the targets; <c>.Verify.cs</c> scans the quarantine and builds
/// the record; <c>.Approve.cs</c> takes approvals and rejections; <c>.Promote.cs</c> activates; <c>.Recover.cs</c>
/// cleans up after a crash; <c>.Queries.cs</c> reads imports back; <c>.Ledger.cs</c> writes the audit entries.
/// </para>
/// </remarks>
public sealed partial class AirlockImporter
{
    /// <summary>Folder of materialised artifacts inside the data directory.</summary>
    public const string ArtifactsFolderName = "artifacts";

    private const string StagingFolderName = ".staging";
    private const string ReplicasFolderName = "replicas";
    private const string AttestationsFolder = ".attestations/";
    private const int MaxTargetsInLedgerEntry = 64;
    private const int MaxFindingsInLedgerEntry = 20;
    private const int MaxReasonLength = 1000;

    private readonly AirlockImportOptions _options;
    private readonly ILedger _ledger;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly string _data;
    private readonly string _shared;
    private readonly string _scratch;
    private readonly string _staging;
    private readonly BundleReader _reader;
    private readonly ContentScanPipeline _scanners;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IAirlockStore _store;

    private readonly List<IArtifactActivationHook> _hooks = [];
    private readonly List<IImportAdmissionCheck> _admissionChecks = [];

    /// <summary>Creates the importer over <see cref="AirlockImportOptions.DataDirectory"/>.</summary>
    /// <param name="options">The data directory, bounds, scanners and approvals.</param>
    /// <param name="ledger">Where every step is recorded.</param>
    /// <param name="clock">The time of records and ledger entries.</param>
    /// <param name="logger">Imports verified, refused and activated, hooks that failed, recoveries (event IDs 5001–5009); default none.</param>
    public AirlockImporter(AirlockImportOptions options, ILedger ledger, TimeProvider clock, ILogger<AirlockImporter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(clock);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid airlock import options: " + string.Join("; ", problems), nameof(options));
        }

        _options = options;
        _ledger = ledger;
        _clock = clock;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _data = Path.GetFullPath(options.DataDirectory);
        _reader = new BundleReader(options.Bundle);
        _scanners = ContentScanPipeline.CreateDefault(options.DenyList, options.Scan);
        _store = new SqliteAirlockStore(options.State ?? EnclaveState.Open(_data, clock));
        TrustStore = new SqliteTrustedStateStore(_store, clock, options.Tuf);
        if (options.SharedDirectory is { } shared)
        {
            // Replicas share blobs and artifacts; what a replica cleans up after its own crash (quarantines of reads it
            // did not finish, temporary blobs, promotions it did not commit) is under its own ID, so that its start-up
            // recovery never touches another replica's work in progress.
            var replica = ReplicaId.Of(_data);
            _shared = Path.GetFullPath(shared);
            _scratch = Path.Combine(_shared, ReplicasFolderName, replica);
            Blobs = new BlobStore(_shared, replica);
            _staging = Path.Combine(_shared, ArtifactsFolderName, StagingFolderName, replica);
        }
        else
        {
            _shared = _data;
            _scratch = _data;
            Blobs = new BlobStore(_data);
            _staging = Path.Combine(_data, ArtifactsFolderName, StagingFolderName);
        }
    }

    /// <summary>The durable TUF trusted state.</summary>
    public SqliteTrustedStateStore TrustStore { get; }

    /// <summary>The options this importer runs with (the mirror pull reads its TUF and bundle bounds).</summary>
    internal AirlockImportOptions Options => _options;

    /// <summary>The blob store activated artifacts live in.</summary>
    public BlobStore Blobs { get; }

    /// <summary>Where activated artifacts are materialised: <c>DATA/artifacts</c>, or <c>SHARED/artifacts</c> with a shared directory.</summary>
    public string ArtifactsDirectory => Path.Combine(_shared, ArtifactsFolderName);

    /// <summary>The folder an activated artifact is materialised in.</summary>
    public string ArtifactFolder(string kind, string name, string version) => Path.Combine(ArtifactsDirectory, kind, name, version);

    /// <summary>Imports the bundle at <paramref name="bundlePath"/> (or its parts <c>.000</c>, <c>.001</c>...).</summary>
    public Task<ImportRecord> ImportAsync(string bundlePath, string actor, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bundlePath);
        return ImportCoreAsync(() => SplitPartsStream.Open(bundlePath, _options.Bundle.MaxParts), Path.GetFileName(bundlePath), actor, progress, cancellationToken);
    }

    /// <summary>Imports a bundle read forward from <paramref name="bundle"/> (an upload, a pipe).</summary>
    public Task<ImportRecord> ImportAsync(Stream bundle, string actor, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        ImportAsync(bundle, actor, labelProblem: null, progress, cancellationToken);

    /// <summary>
    /// Imports a bundle read forward from <paramref name="bundle"/>, refusing it (<see cref="ImportRejection.Label"/>)
    /// when <paramref name="labelProblem"/> finds a problem with the artifact's label (it returns null for a label
    /// the enclave can use, otherwise what is wrong). The check runs with the other metadata checks, before any
    /// target is copied and before anything is committed: a refused label leaves the trusted TUF versions and the
    /// import tables exactly as they were.
    /// </summary>
    public Task<ImportRecord> ImportAsync(Stream bundle, string actor, Func<string, string?>? labelProblem, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        ImportAsync(bundle, actor, labelProblem, via: null, progress, cancellationToken);

    /// <summary>
    /// <see cref="ImportAsync(Stream, string, Func{string, string?}?, IProgress{long}?, CancellationToken)"/> from a
    /// named surface: <paramref name="via"/> (such as <c>console</c>) is recorded as the <c>via</c> detail of the
    /// import's <c>import.received</c>, <c>import.verified</c> or <c>import.rejected</c> entries; null records none.
    /// </summary>
    public Task<ImportRecord> ImportAsync(Stream bundle, string actor, Func<string, string?>? labelProblem, string? via, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return ImportCoreAsync(() => new NonClosingStream(bundle), "stream", actor, progress, cancellationToken, labelProblem, via);
    }

    private async Task<ImportRecord> ImportCoreAsync(Func<Stream> open, string source, string actor, IProgress<long>? progress, CancellationToken cancellationToken, Func<string, string?>? labelProblem = null, string? via = null)
    {
        ValidateActor(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var id = "imp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var subject = "import:" + id;
            var received = _clock.GetUtcNow();
            var receivedIndex = await AppendAsync(actor, subject, new ImportReceivedDetails { Source = ArtifactNames.Printable(source), Via = via }, cancellationToken).ConfigureAwait(false);

            ImportPlan? plan = null;
            BundleContents? contents = null;
            var committed = false;
            try
            {
                Fault("import.received");
                var trusted = TrustStore.Load()
                    ?? throw new ImportRejectedException(ImportRejection.NotPinned, "no TUF root is pinned; run 'enclave airlock trust ROOT.json' with the root from the connected side first");
                contents = await Task.Run(
                    () =>
                    {
                        using var stream = open();
                        return _reader.Read(stream, metadata => (plan = Plan(metadata, trusted, labelProblem)).Expected, _scratch, progress, cancellationToken);
                    },
                    CancellationToken.None).ConfigureAwait(false);
                Fault("import.read");

                var read = contents;
                var record = await Task.Run(() => Verify(id, actor, received, plan!, read, cancellationToken), CancellationToken.None).ConfigureAwait(false);
                Fault("import.scanned");
                await CheckAdmissionAsync(record, read, receivedIndex, cancellationToken).ConfigureAwait(false);
                await AppendAsync(actor, subject, VerifiedDetails(record, via), cancellationToken).ConfigureAwait(false);
                AirlockLog.Verified(_logger, id, record.Kind, record.Name, record.Version, record.ManifestSha256.ToHex(), record.Targets.Count, record.RequiredApprovals);
                Fault("import.verified");

                using (var transaction = _store.Begin())
                {
                    TrustStore.Commit(plan!.Updater.Trusted, transaction);
                    InsertImport(transaction, record, contents);
                    Fault("import.commit");
                    transaction.Commit();
                }

                committed = true;
                return record;
            }
            catch (Exception e) when (!committed && e is not OutOfMemoryException)
            {
                if (contents is not null)
                {
                    DeleteDirectory(contents.QuarantineDirectory);
                }

                var rejection = e switch
                {
                    AirlockRejectedException tuf => new ImportRejectedException(ImportRejection.Tuf, tuf.Detail, tuf),
                    BundleRejectedException bundle => new ImportRejectedException(ImportRejection.Bundle, bundle.Detail, bundle),
                    _ => null,
                };
                var reported = rejection ?? e;
                LogRefused(id, reported);
                await TryAppendAsync(actor, subject, RejectedDetails(reported, plan?.Selector, via)).ConfigureAwait(false);
                if (rejection is not null)
                {
                    throw rejection;
                }

                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void LogRefused(string id, Exception reported)
    {
        switch (reported)
        {
            case ImportRejectedException rejected:
                AirlockLog.Refused(_logger, id, rejected.Code);
                break;
            case OperationCanceledException:
                break;
            default:
                AirlockLog.Failed(_logger, reported, id);
                break;
        }
    }

    private static void ValidateActor(string actor)
    {
        if (string.IsNullOrEmpty(actor) || actor.Length > AuditEvent.MaxFieldLength || actor.Any(char.IsControl))
        {
            throw new ArgumentException($"actor must be a principal ID of 1 to {AuditEvent.MaxFieldLength} characters", nameof(actor));
        }
    }

    private void Fault(string step) => _options.FaultPoint?.Invoke(step);

    private static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Debris is removed by RecoverAsync at the next start; the operation's own outcome stands.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    // The caller owns a stream it passes in; the reader disposes what it is given.
    private sealed class NonClosingStream(Stream inner) : Enclave.Core.Storage.ReadOnlyStream
    {
        public override bool CanRead => inner.CanRead;

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, int>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<ImportRoleSigners>))]
internal sealed partial class ImportJson : System.Text.Json.Serialization.JsonSerializerContext;
