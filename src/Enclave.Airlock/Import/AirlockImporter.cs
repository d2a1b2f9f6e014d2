using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Scanners;
using Enclave.Airlock.Tuf;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Airlock;

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
/// </remarks>
public sealed class AirlockImporter
{
    /// <summary>Folder of materialised artifacts inside the data directory.</summary>
    public const string ArtifactsFolderName = "artifacts";

    private const string StagingFolderName = ".staging";
    private const string AttestationsFolder = ".attestations/";
    private const int MaxTargetsInLedgerEntry = 64;
    private const int MaxFindingsInLedgerEntry = 20;
    private const int MaxReasonLength = 1000;

    private readonly AirlockImportOptions _options;
    private readonly ILedger _ledger;
    private readonly TimeProvider _clock;
    private readonly string _data;
    private readonly BundleReader _reader;
    private readonly ContentScanPipeline _scanners;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IAirlockStore _store;

    private readonly List<IArtifactActivationHook> _hooks = [];

    /// <summary>Creates the importer over <see cref="AirlockImportOptions.DataDirectory"/>.</summary>
    public AirlockImporter(AirlockImportOptions options, ILedger ledger, TimeProvider clock)
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
        _data = Path.GetFullPath(options.DataDirectory);
        _reader = new BundleReader(options.Bundle);
        _scanners = ContentScanPipeline.CreateDefault(options.DenyList, options.Scan);
        _store = new SqliteAirlockStore(EnclaveState.Open(_data, clock));
        TrustStore = new SqliteTrustedStateStore(_store, clock, options.Tuf);
        Blobs = new BlobStore(_data);
    }

    /// <summary>The durable TUF trusted state.</summary>
    public SqliteTrustedStateStore TrustStore { get; }

    /// <summary>The options this importer runs with (the mirror pull reads its TUF and bundle bounds).</summary>
    internal AirlockImportOptions Options => _options;

    /// <summary>The blob store activated artifacts live in.</summary>
    public BlobStore Blobs { get; }

    /// <summary>Where activated artifacts are materialised: <c>DATA/artifacts</c>.</summary>
    public string ArtifactsDirectory => Path.Combine(_data, ArtifactsFolderName);

    /// <summary>The folder an activated artifact is materialised in.</summary>
    public string ArtifactFolder(string kind, string name, string version) => Path.Combine(ArtifactsDirectory, kind, name, version);

    // ------------------------------------------------------------------------------------------------------------
    // Trust

    /// <summary>
    /// Pins <paramref name="rootJson"/> as the trusted root (<c>enclave airlock trust ROOT.json</c>). Pinning the root
    /// already pinned changes nothing. A different root is refused unless <paramref name="force"/> is set; forcing
    /// resets the trusted versions of every role to the new root alone. Recorded as <c>import.trust-pinned</c>.
    /// </summary>
    public async Task<TrustPinResult> PinTrustAsync(byte[] rootJson, string actor, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rootJson);
        ValidateActor(actor);
        TrustedState state;
        try
        {
            state = TrustedState.FromRoot(rootJson, _options.Tuf);
        }
        catch (AirlockRejectedException e)
        {
            throw new ImportWorkflowException(ImportWorkflowError.InvalidRoot, $"not a valid TUF root: {e.Detail}; nothing was pinned", e);
        }

        var digest = Sha256Digest.Compute(rootJson);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = TrustStore.CurrentPin();

            if (current is not null && current.RootSha256 == digest)
            {
                return new TrustPinResult { Pin = current, Changed = false };
            }

            if (current is not null && !force)
            {
                throw new ImportWorkflowException(
                    ImportWorkflowError.TrustConflict,
                    $"a different root is pinned (sha256 {current.RootSha256.ToHex()}, version {current.RootVersion}, pinned by {current.Actor} at {current.Pinned:u}); " +
                    "replacing it resets the trusted versions of every role and must be forced explicitly (--force); nothing was changed");
            }

            var now = _clock.GetUtcNow();
            var details = new JsonObject
            {
                ["root_sha256"] = digest.ToHex(),
                ["root_version"] = state.Root.Version,
                ["forced"] = current is not null,
            };
            if (current is not null)
            {
                details["replaced_sha256"] = current.RootSha256.ToHex();
            }

            await AppendAsync(AuditEventTypes.ImportTrustPinned, actor, "airlock:trust", details, cancellationToken).ConfigureAwait(false);
            try
            {
                using var transaction = _store.Begin();
                TrustStore.Commit(state, transaction);
                SqliteTrustedStateStore.RecordPin(transaction, digest, state.Root.Version, actor, current is not null, now);
                transaction.Commit();
            }
            catch (Exception e) when (e is DbException or IOException)
            {
                await TryAppendAsync(AuditEventTypes.ImportTrustPinFailed, actor, "airlock:trust", new JsonObject { ["root_sha256"] = digest.ToHex(), ["error"] = Short(e.Message) }).ConfigureAwait(false);
                throw;
            }

            return new TrustPinResult
            {
                Pin = new TrustPin { RootSha256 = digest, RootVersion = state.Root.Version, Actor = actor, Forced = current is not null, Pinned = now },
                Changed = true,
                Replaced = current?.RootSha256,
            };
        }
        finally
        {
            _gate.Release();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Import

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
    public Task<ImportRecord> ImportAsync(Stream bundle, string actor, Func<string, string?>? labelProblem, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return ImportCoreAsync(() => new NonClosingStream(bundle), "stream", actor, progress, cancellationToken, labelProblem);
    }

    private async Task<ImportRecord> ImportCoreAsync(Func<Stream> open, string source, string actor, IProgress<long>? progress, CancellationToken cancellationToken, Func<string, string?>? labelProblem = null)
    {
        ValidateActor(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var id = "imp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var subject = "import:" + id;
            var received = _clock.GetUtcNow();
            await AppendAsync(AuditEventTypes.ImportReceived, actor, subject, new JsonObject { ["source"] = ArtifactNames.Printable(source) }, cancellationToken).ConfigureAwait(false);

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
                        return _reader.Read(stream, metadata => (plan = Plan(metadata, trusted, labelProblem)).Expected, _data, progress, cancellationToken);
                    },
                    CancellationToken.None).ConfigureAwait(false);
                Fault("import.read");

                var read = contents;
                var record = await Task.Run(() => Verify(id, actor, received, plan!, read, cancellationToken), CancellationToken.None).ConfigureAwait(false);
                Fault("import.scanned");
                await AppendAsync(AuditEventTypes.ImportVerified, actor, subject, VerifiedDetails(record), cancellationToken).ConfigureAwait(false);
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
                await TryAppendAsync(AuditEventTypes.ImportRejected, actor, subject, RejectedDetails(reported, plan?.Selector)).ConfigureAwait(false);
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

    // The bundle's root of the trusted root's version, when it is not the trusted root: the bundle was signed under
    // another root (another repository, or a root re-made instead of rotated). Null when the bundle carries no root of
    // that version or carries the trusted one (then the failure is about the roles, and is reported as it is).
    private string? ForeignRoot(Dictionary<string, byte[]> files, TrustedState trusted)
    {
        var version = trusted.Root.Version;
        if (!files.TryGetValue(version.ToString(CultureInfo.InvariantCulture) + ".root.json", out var bundleRoot))
        {
            return null;
        }

        var trustedDigest = Sha256Digest.Compute(trusted.Root.Bytes.Span);
        var bundleDigest = Sha256Digest.Compute(bundleRoot);
        if (bundleDigest == trustedDigest)
        {
            return null;
        }

        var pin = _store.CurrentPin();
        var pinned = pin is null ? string.Empty : $"; pinned root: sha256 {pin.RootSha256}, version {pin.RootVersion}";
        return $"signed by a root this enclave does not trust: the bundle's root version {version} is sha256 {bundleDigest.ToHex()}, " +
            $"but this enclave trusts root version {version} sha256 {trustedDigest.ToHex()}{pinned}; " +
            "bring a bundle from the repository whose root is pinned, or pin this bundle's root on purpose (enclave airlock trust ROOT.json --force)";
    }

    // Runs inside the bundle reader once all metadata is in memory: the TUF workflow, then the selector's targets.
    private ImportPlan Plan(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> metadata, TrustedState trusted, Func<string, string?>? labelProblem)
    {
        var selector = BundleSelector.Parse(metadata);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, bytes) in metadata)
        {
            if (!name.StartsWith("metadata/", StringComparison.Ordinal) || name == BundleSelector.EntryName)
            {
                continue;
            }

            var file = name["metadata/".Length..];
            if (!file.Contains('/', StringComparison.Ordinal))
            {
                files[file] = bytes.ToArray();
            }
        }

        var updater = new Updater(trusted, new InMemoryMetadataSource(files), _clock, _options.Tuf);
        try
        {
            updater.Refresh();
        }
        catch (AirlockRejectedException e) when (e.Reason is AirlockRejection.BelowThreshold or AirlockRejection.BadSignature or AirlockRejection.BadRootRotation
            && ForeignRoot(files, trusted) is { } foreign)
        {
            // Not an attack on one role's signatures: the whole bundle comes from a root this enclave never trusted.
            throw new AirlockRejectedException(AirlockRejection.UntrustedRoot, foreign, e);
        }

        var prefix = selector.Prefix;

        // Loads the roles delegated for the artifact's paths, then lists what any trusted role says is under it;
        // each candidate is then resolved by the normal TUF lookup, which decides which role is authoritative.
        updater.FindTarget(prefix + "bundle.json");
        var state = updater.Trusted;
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var role in state.Delegated.Values.Prepend(state.Targets!))
        {
            foreach (var path in role.Targets.Keys)
            {
                if (path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    candidates.Add(path);
                }
            }
        }

        if (candidates.Count == 0)
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"{BundleSelector.EntryName} selects {Describe(selector)}, but no verified targets metadata lists a target under {ArtifactNames.Printable(prefix)}");
        }

        if (candidates.Count > _options.Bundle.MaxEntries)
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"the artifact has {candidates.Count} targets; the limit is {_options.Bundle.MaxEntries}");
        }

        var targets = new List<PlannedTarget>();
        var problems = new List<string>();
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        var tasks = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in candidates)
        {
            var target = updater.RequireTarget(path);
            var relative = path[prefix.Length..];
            if (target.Sha256 is not { } sha256)
            {
                problems.Add($"{ArtifactNames.Printable(path)} lists no SHA-256 hash");
                continue;
            }

            if (ArtifactNames.FileProblem(relative) is { } fileProblem)
            {
                problems.Add($"{ArtifactNames.Printable(path)}: {fileProblem}");
                continue;
            }

            var custom = ReadCustom(target, selector, problems);
            if (custom is null)
            {
                continue;
            }

            var isAttestationPath = relative.StartsWith(AttestationsFolder, StringComparison.Ordinal);
            var expectedType = relative switch
            {
                ".attestations/sbom.cdx.json" or ".attestations/sbom.spdx.json" => "sbom",
                ".attestations/provenance.intoto.json" => "provenance",
                _ => isAttestationPath ? null : "content",
            };
            if (custom.Value.Type != expectedType)
            {
                problems.Add($"{ArtifactNames.Printable(path)} has type \"{ArtifactNames.Printable(custom.Value.Type)}\" but its path makes it {(expectedType is null ? "an unknown attestation" : $"type \"{expectedType}\"")}");
                continue;
            }

            labels.Add(custom.Value.Label);
            if (custom.Value.Task is { } task)
            {
                tasks.Add(task);
            }

            targets.Add(new PlannedTarget(target, relative, custom.Value.Type, sha256));
        }

        if (problems.Count > 0)
        {
            throw new ImportRejectedException(ImportRejection.ArtifactMismatch, $"the verified targets of {Describe(selector)} do not describe it consistently: {string.Join("; ", problems.Take(10))}");
        }

        if (labels.Count != 1)
        {
            throw new ImportRejectedException(ImportRejection.LabelMismatch, $"the targets of {Describe(selector)} carry {labels.Count} different labels ({string.Join(", ", labels.Select(l => $"\"{ArtifactNames.Printable(l)}\""))}); all files of an artifact must carry the same label");
        }

        if (labelProblem?.Invoke(labels.Single()) is { } problem)
        {
            throw new ImportRejectedException(ImportRejection.Label, $"label '{ArtifactNames.Printable(labels.Single())}' of {Describe(selector)} is not a valid marking in this enclave's label scheme: {problem}");
        }

        if (tasks.Count > 1)
        {
            throw new ImportRejectedException(ImportRejection.ArtifactMismatch, $"the targets of {Describe(selector)} name different tasks ({string.Join(", ", tasks)})");
        }

        if (!targets.Any(t => t.Type == "content"))
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"{Describe(selector)} has attestations but no content files");
        }

        if (_options.RequireSbom && !targets.Any(t => t.Type == "sbom"))
        {
            throw new ImportRejectedException(ImportRejection.Attestation, $"{Describe(selector)} carries no SBOM, and this enclave requires one");
        }

        if (_options.RequireProvenance && !targets.Any(t => t.Type == "provenance"))
        {
            throw new ImportRejectedException(ImportRejection.Attestation, $"{Describe(selector)} carries no provenance attestation, and this enclave requires one");
        }

        if (_store.FindLiveImport(selector.Kind, selector.Name, selector.Version) is var (liveId, liveState))
        {
            throw new ImportRejectedException(ImportRejection.AlreadyImported, $"{Describe(selector)} was already imported as {liveId} (state {liveState}); versions are immutable, so publish a new version (or reject the pending import first)");
        }

        var expected = targets.ToDictionary(
            t => "targets/" + t.Target.Path,
            t => new ExpectedEntry { Length = t.Target.Length, Sha256 = t.Sha256 },
            StringComparer.Ordinal);
        var roles = targets.Select(t => t.Target.Role).Distinct(StringComparer.Ordinal).ToList();
        var signers = roles.SelectMany(role => SignerKeyIds(state, role)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new ImportPlan(selector, updater, targets, labels.Single(), tasks.SingleOrDefault(), signers, expected);
    }

    private static (string Type, string Label, string? Task)? ReadCustom(TargetFile target, BundleSelector selector, List<string> problems)
    {
        var where = ArtifactNames.Printable(target.Path);
        if (target.CustomJson is null)
        {
            problems.Add($"{where} has no custom.enclave object");
            return null;
        }

        using var document = CanonicalJson.Parse(Encoding.UTF8.GetBytes(target.CustomJson));
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("enclave", out var enclave) || enclave.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where} has no custom.enclave object");
            return null;
        }

        string? Field(string name) => enclave.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var before = problems.Count;
        foreach (var (field, wanted) in new[] { ("kind", selector.Kind), ("name", selector.Name), ("version", selector.Version) })
        {
            var actual = Field(field);
            if (actual != wanted)
            {
                problems.Add($"{where} says {field} {(actual is null ? "nothing" : $"\"{ArtifactNames.Printable(actual)}\"")}, not \"{ArtifactNames.Printable(wanted)}\"");
            }
        }

        var label = Field("label");
        if (ArtifactNames.LabelProblem(label) is { } labelProblem)
        {
            problems.Add($"{where}: {labelProblem}");
        }

        var type = Field("type");
        if (type is not ("content" or "sbom" or "provenance"))
        {
            problems.Add($"{where} has type {(type is null ? "missing" : $"\"{ArtifactNames.Printable(type)}\"")}; it must be content, sbom or provenance");
        }

        var task = Field("task");
        if (enclave.TryGetProperty("task", out _) && (selector.Kind != "model" || task is not ("chat" or "embedding")))
        {
            problems.Add($"{where} has task {(task is null ? "that is not a string" : $"\"{ArtifactNames.Printable(task)}\"")}; only models have a task, chat or embedding");
        }

        return problems.Count == before ? (type!, label!, task) : null;
    }

    private static IEnumerable<string> SignerKeyIds(TrustedState state, string role)
    {
        TargetsMetadata metadata;
        IReadOnlyDictionary<string, TufKey> keys;
        TufRole authorised;
        if (role == "targets")
        {
            metadata = state.Targets!;
            keys = state.Root.Keys;
            authorised = state.Root.Roles["targets"];
        }
        else
        {
            metadata = state.Delegated[role];
            var parent = state.Delegated.Values.Prepend(state.Targets!)
                .First(p => p.Delegations?.Roles.Any(r => r.Name == role) == true);
            keys = parent.Delegations!.Keys;
            authorised = parent.Delegations.Roles.First(r => r.Name == role).Role;
        }

        foreach (var signature in metadata.Signatures.DistinctBy(s => s.KeyId))
        {
            if (!authorised.KeyIds.Contains(signature.KeyId) || !keys.TryGetValue(signature.KeyId, out var key))
            {
                continue;
            }

            byte[] sig;
            try
            {
                sig = Convert.FromHexString(signature.SignatureHex);
            }
            catch (FormatException)
            {
                continue;
            }

            if (key.Verify(metadata.CanonicalSigned, sig))
            {
                yield return signature.KeyId;
            }
        }
    }

    // After the archive was read: scanners, attestations and the model task, then the record to commit.
    private ImportRecord Verify(string id, string actor, DateTimeOffset received, ImportPlan plan, BundleContents contents, CancellationToken cancellationToken)
    {
        var quarantined = contents.Targets.ToDictionary(t => t.Name["targets/".Length..], t => t.Path, StringComparer.Ordinal);
        var results = _scanners.Scan(contents.Targets.Select(t => t.Path), cancellationToken);
        var findings = results.SelectMany(r => r.Findings).Select(f => Untangle(f, contents)).ToList();
        if (findings.Count > 0)
        {
            throw new ImportRejectedException(
                ImportRejection.ContentScan,
                $"the content scanners refused {Describe(plan.Selector)}: {string.Join("; ", findings.Take(5))}{(findings.Count > 5 ? $" (and {findings.Count - 5} more)" : "")}",
                findings: findings);
        }

        var content = plan.Targets.Where(t => t.Type == "content").Select(t => t.Sha256).ToHashSet();
        foreach (var target in plan.Targets)
        {
            var path = quarantined[target.Target.Path];
            if (target.Type == "sbom")
            {
                AttestationValidator.CheckSbom(path, target.Target.Path, _options.MaxAttestationBytes);
            }
            else if (target.Type == "provenance")
            {
                AttestationValidator.CheckProvenance(path, target.Target.Path, _options.MaxAttestationBytes, content);
            }
        }

        var task = plan.Task;
        if (plan.Selector.Kind == "model" && task is null)
        {
            var model = plan.Targets.FirstOrDefault(t => t.RelativePath == "model.onnx");
            task = model is null ? null : OnnxTaskDetector.Detect(quarantined[model.Target.Path], _options.MaxOnnxFields);
            if (task is null)
            {
                throw new ImportRejectedException(ImportRejection.ModelTask, $"{Describe(plan.Selector)} does not say its task (custom.enclave.task chat or embedding), and {(model is null ? "it has no model.onnx" : "the outputs of its model.onnx are neither 'logits' (chat) nor 'last_hidden_state' (embedding)")}");
            }
        }

        var imported = plan.Targets
            .Select(t => new ImportedTarget { Path = t.Target.Path, RelativePath = t.RelativePath, Type = t.Type, Sha256 = t.Sha256, Length = t.Target.Length })
            .ToList();
        var trusted = plan.Updater.Trusted;
        return new ImportRecord
        {
            Id = id,
            Kind = plan.Selector.Kind,
            Name = plan.Selector.Name,
            Version = plan.Selector.Version,
            Label = plan.Label,
            Task = task,
            State = ImportState.Verified,
            Importer = actor,
            Targets = imported,
            SignerKeyIds = plan.SignerKeyIds,
            SbomSha256 = imported.FirstOrDefault(t => t.Type == "sbom")?.Sha256,
            ProvenanceSha256 = imported.FirstOrDefault(t => t.Type == "provenance")?.Sha256,
            ManifestSha256 = Manifest(imported),
            ArchiveBytes = contents.ArchiveBytes,
            TufVersions = TufVersions(trusted),
            Approvers = [],
            RequiredApprovals = _options.ApprovalsFor(plan.Selector.Kind),
            Reasons = [],
            Received = received,
            Verified = _clock.GetUtcNow(),
        };
    }

    private static string Untangle(string finding, BundleContents contents)
    {
        foreach (var target in contents.Targets)
        {
            finding = finding.Replace(target.Path, target.Name, StringComparison.Ordinal);
        }

        return finding.Replace(contents.QuarantineDirectory, "quarantine", StringComparison.Ordinal);
    }

    private static Sha256Digest Manifest(IEnumerable<ImportedTarget> targets)
    {
        var builder = new StringBuilder();
        foreach (var target in targets.OrderBy(t => t.Path, StringComparer.Ordinal))
        {
            builder.Append(target.Path).Append(' ').Append(target.Sha256.ToHex()).Append(' ')
                .Append(target.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return Sha256Digest.Compute(Encoding.UTF8.GetBytes(builder.ToString()));
    }

    private static Dictionary<string, int> TufVersions(TrustedState state)
    {
        var versions = new Dictionary<string, int>(StringComparer.Ordinal) { ["root"] = state.Root.Version };
        if (state.Timestamp is not null)
        {
            versions["timestamp"] = state.Timestamp.Version;
        }

        if (state.Snapshot is not null)
        {
            versions["snapshot"] = state.Snapshot.Version;
        }

        if (state.Targets is not null)
        {
            versions["targets"] = state.Targets.Version;
        }

        foreach (var (role, metadata) in state.Delegated)
        {
            versions[role] = metadata.Version;
        }

        return versions;
    }

    private static void InsertImport(IAirlockTransaction transaction, ImportRecord record, BundleContents contents)
    {
        var quarantined = contents.Targets.ToDictionary(t => t.Name, t => Path.GetRelativePath(contents.QuarantineDirectory, t.Path), StringComparer.Ordinal);
        transaction.InsertImport(
            new ImportRow
            {
                Id = record.Id,
                Kind = record.Kind,
                Name = record.Name,
                Version = record.Version,
                Label = record.Label,
                Task = record.Task,
                State = "verified",
                Importer = record.Importer,
                SignerKeyIdsJson = JsonSerializer.Serialize(record.SignerKeyIds, ImportJson.Default.IReadOnlyListString),
                SbomSha256 = record.SbomSha256?.ToHex(),
                ProvenanceSha256 = record.ProvenanceSha256?.ToHex(),
                ManifestSha256 = record.ManifestSha256.ToHex(),
                ArchiveBytes = record.ArchiveBytes,
                TufVersionsJson = JsonSerializer.Serialize(record.TufVersions, ImportJson.Default.IReadOnlyDictionaryStringInt32),
                Quarantine = contents.QuarantineDirectory,
                ReasonsJson = "[]",
                Received = record.Received,
                Verified = record.Verified,
            },
            record.Targets.Select(t => new ImportTargetRow(t.Path, t.Type, t.Sha256.ToHex(), t.Length, quarantined["targets/" + t.Path])));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Approval

    /// <summary>
    /// Adds work to run after each activation of the hook's kind (e.g. vulnerability data loaded when an <c>intel</c>
    /// bundle is activated). Hooks run in the order added, after the activation is durable; a hook that fails is recorded
    /// as <c>import.hook-failed</c> and the activation stands.
    /// </summary>
    public void AddActivationHook(IArtifactActivationHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        lock (_hooks)
        {
            _hooks.Add(hook);
        }
    }

    private async Task RunActivationHooksAsync(ImportRecord record, string actor, CancellationToken cancellationToken)
    {
        IArtifactActivationHook[] hooks;
        lock (_hooks)
        {
            hooks = [.. _hooks.Where(h => string.Equals(h.Kind, record.Kind, StringComparison.Ordinal))];
        }

        if (hooks.Length == 0 || record.Folder is null)
        {
            return;
        }

        var activation = new ArtifactActivation
        {
            Kind = record.Kind,
            Name = record.Name,
            Version = record.Version,
            ImportId = record.Id,
            Folder = record.Folder,
            Files = [.. record.Targets.Select(t => new ArtifactFile(t.RelativePath, t.Sha256, t.Length))],
            ActivatedBy = actor,
        };
        foreach (var hook in hooks)
        {
            try
            {
                await hook.OnActivatedAsync(activation, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await TryAppendAsync(AuditEventTypes.ImportHookFailed, actor, "import:" + record.Id, new JsonObject
                {
                    ["hook"] = hook.GetType().Name,
                    ["kind"] = record.Kind,
                    ["error"] = Short($"{e.GetType().Name}: {e.Message}"),
                }).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Records <paramref name="actor"/>'s approval of a pending import. The importer cannot approve; approving twice
    /// counts once. The approval that reaches the kind's threshold promotes the artifact into the blob store and the
    /// registry and activates it, all or nothing: if promotion fails, that approval is not recorded either.
    /// </summary>
    public async Task<ImportRecord> ApproveAsync(string id, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ValidateActor(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = Pending(id);
            var subject = "import:" + id;
            if (string.Equals(actor, record.Importer, StringComparison.Ordinal))
            {
                await AppendAsync(AuditEventTypes.ImportApprovalRefused, actor, subject, new JsonObject { ["reason"] = "self-approval" }, cancellationToken).ConfigureAwait(false);
                throw new ImportWorkflowException(ImportWorkflowError.SelfApproval, $"{actor} imported {id} and cannot approve it; another person must (two-person rule); nothing was changed");
            }

            if (record.Approvers.Contains(actor, StringComparer.Ordinal))
            {
                return record;
            }

            var approvals = record.Approvers.Count + 1;
            if (approvals >= record.RequiredApprovals)
            {
                await PromoteAsync(record, actor, cancellationToken).ConfigureAwait(false);
                var activated = Get(id)!;
                await RunActivationHooksAsync(activated, actor, cancellationToken).ConfigureAwait(false);
                return activated;
            }

            await AppendAsync(AuditEventTypes.ImportApproved, actor, subject, ApprovedDetails(record, approvals), cancellationToken).ConfigureAwait(false);
            try
            {
                _store.AddApproval(id, actor, _clock.GetUtcNow());
            }
            catch (Exception e) when (e is DbException or IOException)
            {
                await TryAppendAsync(AuditEventTypes.ImportApprovalFailed, actor, subject, new JsonObject { ["error"] = Short(e.Message) }).ConfigureAwait(false);
                throw;
            }

            return Get(id)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Rejects a pending import: its quarantine is removed and it can never be activated.</summary>
    public async Task<ImportRecord> RejectAsync(string id, string actor, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ValidateActor(actor);
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength || reason.Any(char.IsControl))
        {
            throw new ArgumentException($"a rejection reason is 1 to {MaxReasonLength} characters without control characters", nameof(reason));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = Pending(id);
            await AppendAsync(
                AuditEventTypes.ImportRejected,
                actor,
                "import:" + id,
                new JsonObject { ["stage"] = "approval", ["reason"] = "rejected-by-approver", ["detail"] = reason, ["manifest_sha256"] = record.ManifestSha256.ToHex() },
                cancellationToken).ConfigureAwait(false);
            var quarantine = QuarantineOf(id);
            MarkRejected(id, actor, reason, _clock.GetUtcNow());

            if (quarantine is not null)
            {
                DeleteDirectory(quarantine);
            }

            return Get(id)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    private ImportRecord Pending(string id)
    {
        var record = Get(id) ?? throw new ImportWorkflowException(ImportWorkflowError.NotFound, $"no import {ArtifactNames.Printable(id)}");
        if (record.State != ImportState.Verified)
        {
            throw new ImportWorkflowException(ImportWorkflowError.NotPending, $"import {id} is {record.State.ToString().ToLowerInvariant()}, not pending approval; nothing was changed");
        }

        return record;
    }

    private async Task PromoteAsync(ImportRecord record, string actor, CancellationToken cancellationToken)
    {
        var subject = "import:" + record.Id;
        var quarantine = QuarantineOf(record.Id);
        var sources = quarantine is null ? [] : QuarantinedFiles(record.Id, quarantine);
        if (quarantine is null || sources.Count != record.Targets.Count || sources.Values.Any(p => !File.Exists(p)))
        {
            throw new ImportWorkflowException(ImportWorkflowError.QuarantineLost, $"the quarantined files of {record.Id} are missing; it cannot be activated, only rejected (and the bundle imported again)");
        }

        var folder = ArtifactFolder(record.Kind, record.Name, record.Version);
        if (Directory.Exists(folder) || File.Exists(folder))
        {
            throw new IOException($"{folder} exists although no activated artifact owns it; move it away and approve again; nothing was changed");
        }

        var staging = Path.Combine(ArtifactsDirectory, StagingFolderName, record.Id);
        var created = record.Targets.Select(t => t.Sha256).Distinct().Where(d => !Blobs.Contains(d)).ToList();
        var now = _clock.GetUtcNow();
        _store.StartPromotion(new PromotionRow(record.Id, folder, staging, JsonSerializer.Serialize(created.Select(d => d.ToHex()).ToList(), ImportJson.Default.ListString), now));

        var ledgered = false;
        try
        {
            Fault("promote.journal");
            foreach (var target in record.Targets.DistinctBy(t => t.Sha256))
            {
                Blobs.PutFile(sources[target.Path], target.Sha256, cancellationToken);
            }

            Fault("promote.blobs");
            Materialise(record, staging);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            Directory.Move(staging, folder);
            BlobStore.SyncDirectory(Path.GetDirectoryName(folder)!);
            Fault("promote.folder");

            await AppendAsync(AuditEventTypes.ImportApproved, actor, subject, ApprovedDetails(record, record.Approvers.Count + 1), cancellationToken).ConfigureAwait(false);
            ledgered = true;
            Fault("promote.approved");
            await AppendAsync(AuditEventTypes.ImportActivated, actor, subject, ActivatedDetails(record), cancellationToken).ConfigureAwait(false);
            Fault("promote.activated");

            using var transaction = _store.Begin();
            transaction.AddApproval(record.Id, actor, now);
            transaction.Activate(
                new ArtifactRow(record.Kind, record.Name, record.Version, record.Label, record.Task, record.Id, folder, record.ManifestSha256.ToHex(), now),
                actor);
            Fault("promote.commit");
            transaction.Commit();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            try
            {
                UndoPromotion(record.Id, folder, staging, created);
            }
            catch (Exception undo) when (undo is IOException or DbException or UnauthorizedAccessException)
            {
                // The journal row stays; RecoverAsync finishes the undo at the next start.
            }

            if (ledgered)
            {
                await TryAppendAsync(AuditEventTypes.ImportActivationFailed, actor, subject, new JsonObject
                {
                    ["error"] = Short($"{e.GetType().Name}: {e.Message}"),
                    ["detail"] = "the approval was not recorded and nothing was activated; approve again once the cause is fixed",
                }).ConfigureAwait(false);
            }

            throw;
        }

        DeleteDirectory(quarantine);
    }

    private void Materialise(ImportRecord record, string staging)
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        var folders = new SortedSet<string>(StringComparer.Ordinal) { staging };
        foreach (var target in record.Targets)
        {
            var destination = Path.GetFullPath(Path.Combine(staging, target.RelativePath.Replace('/', Path.DirectorySeparatorChar)));
            if (!destination.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new IOException($"target {target.Path} resolves outside its artifact folder");
            }

            var parent = Path.GetDirectoryName(destination)!;
            Directory.CreateDirectory(parent);
            folders.Add(parent);
            Blobs.Link(target.Sha256, destination);
        }

        foreach (var folder in folders.Reverse())
        {
            BlobStore.SyncDirectory(folder);
        }
    }

    // Undoes a promotion that did not commit: the folder it made, the blobs it added, its journal row.
    private void UndoPromotion(string importId, string folder, string staging, IReadOnlyList<Sha256Digest> created)
    {
        if (_store.IsActivated(importId))
        {
            // It did commit (the failure came after): nothing to undo but the journal row.
            _store.EndPromotion(importId);
            return;
        }

        DeleteDirectory(staging);
        DeleteDirectory(folder);
        var referenced = _store.ActivatedTargetDigests();

        foreach (var digest in created)
        {
            if (!referenced.Contains(digest.ToHex()))
            {
                Blobs.Delete(digest);
            }
        }

        _store.EndPromotion(importId);
    }

    private void MarkRejected(string id, string actor, string reason, DateTimeOffset now) =>
        _store.MarkRejected(id, actor, JsonSerializer.Serialize(new List<string> { reason }, ImportJson.Default.ListString), now);

    // ------------------------------------------------------------------------------------------------------------
    // Recovery

    /// <summary>
    /// Cleans up after a crash; call once at startup while holding the data directory lock, before any import.
    /// Removes quarantines of interrupted reads and of imports that never committed, undoes promotions that never
    /// committed (their folder and new blobs), removes temporary blob files, and rejects pending imports whose
    /// quarantine has disappeared (recorded in the ledger as <c>import.rejected</c> by <c>system</c>).
    /// </summary>
    public async Task<ImportRecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var removed = BundleReader.SweepIncomplete(_data).ToList();
            var temporary = Blobs.SweepTemporary();
            var undone = new List<string>();
            var journal = new List<(string Id, string Folder, string Staging, List<Sha256Digest> Created)>();
            foreach (var promotion in _store.Promotions())
            {
                var created = JsonSerializer.Deserialize(promotion.CreatedBlobsJson, ImportJson.Default.ListString) ?? [];
                journal.Add((promotion.ImportId, promotion.Folder, promotion.Staging, created.Select(h => Sha256Digest.TryParseHex(h, out var d) ? d : throw new InvalidDataException("airlock_promotions holds a malformed digest")).ToList()));
            }

            foreach (var (id, folder, staging, created) in journal)
            {
                UndoPromotion(id, folder, staging, created);
                undone.Add(id);
            }

            DeleteDirectory(Path.Combine(ArtifactsDirectory, StagingFolderName));

            var pending = List(ImportState.Verified).ToDictionary(r => r.Id, r => QuarantineOf(r.Id), StringComparer.Ordinal);
            var live = pending.Values.Where(q => q is not null).Select(q => Path.GetFullPath(q!)).ToHashSet(StringComparer.Ordinal);
            var quarantineRoot = Path.Combine(_data, "quarantine");
            if (Directory.Exists(quarantineRoot))
            {
                foreach (var directory in Directory.EnumerateDirectories(quarantineRoot))
                {
                    if (!live.Contains(Path.GetFullPath(directory)))
                    {
                        DeleteDirectory(directory);
                        removed.Add(directory);
                    }
                }
            }

            var lost = new List<string>();
            foreach (var (id, quarantine) in pending)
            {
                if (quarantine is null || !Directory.Exists(quarantine))
                {
                    const string reason = "the quarantined files disappeared while the import waited for approval; import the bundle again";
                    await AppendAsync(AuditEventTypes.ImportRejected, "system", "import:" + id, new JsonObject { ["stage"] = "recovery", ["reason"] = "quarantine-lost", ["detail"] = reason }, cancellationToken).ConfigureAwait(false);
                    MarkRejected(id, "system", reason, _clock.GetUtcNow());
                    lost.Add(id);
                }
            }

            return new ImportRecoveryReport { QuarantinesRemoved = removed, PromotionsUndone = undone, TemporaryBlobsRemoved = temporary, ImportsLost = lost };
        }
        finally
        {
            _gate.Release();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Queries

    /// <summary>One import by ID, or null.</summary>
    public ImportRecord? Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Query(id: id).SingleOrDefault();
    }

    /// <summary>Imports that passed verification, newest first; <paramref name="state"/> filters.</summary>
    public IReadOnlyList<ImportRecord> List(ImportState? state = null) => state switch
    {
        null => Query(),
        { } s => Query(state: StateText(s)),
    };

    /// <summary>Activated artifacts (optionally of one kind): the only artifacts the rest of the enclave may see.</summary>
    public IReadOnlyList<ActivatedArtifact> ListActivated(string? kind = null) =>
        Query(state: "activated", kind: kind)
        .Select(r => new ActivatedArtifact
        {
            Kind = r.Kind,
            Name = r.Name,
            Version = r.Version,
            Label = r.Label,
            Task = r.Task,
            ImportId = r.Id,
            Folder = r.Folder!,
            ManifestSha256 = r.ManifestSha256,
            Files = r.Targets,
            SignerKeyIds = r.SignerKeyIds,
            SbomSha256 = r.SbomSha256,
            ProvenanceSha256 = r.ProvenanceSha256,
            Activated = r.Decided!.Value,
        })
        .ToList();

    /// <summary>Activated models, as the server loads them: name, version, label, task and folder.</summary>
    public IReadOnlyList<ActivatedModel> ActivatedModels() =>
        ListActivated("model")
            .Where(a => a.Task is not null)
            .Select(a => new ActivatedModel { Name = a.Name, Version = a.Version, Label = a.Label, Task = a.Task!, Folder = a.Folder, ManifestSha256 = a.ManifestSha256, ImportId = a.ImportId })
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ThenBy(m => m.Version, StringComparer.Ordinal)
            .ToList();

    private List<ImportRecord> Query(string? id = null, string? state = null, string? kind = null)
    {
        var records = new List<ImportRecord>();
        foreach (var row in _store.Imports(id, state, kind))
        {
            var prefix = $"{row.Kind}/{row.Name}/{row.Version}/";
            records.Add(new ImportRecord
            {
                Id = row.Id,
                Kind = row.Kind,
                Name = row.Name,
                Version = row.Version,
                Label = row.Label,
                Task = row.Task,
                State = row.State switch
                {
                    "verified" => ImportState.Verified,
                    "rejected" => ImportState.Rejected,
                    _ => ImportState.Activated,
                },
                Importer = row.Importer,
                SignerKeyIds = JsonSerializer.Deserialize(row.SignerKeyIdsJson, ImportJson.Default.IReadOnlyListString) ?? [],
                SbomSha256 = row.SbomSha256 is null ? null : Digest(row.SbomSha256),
                ProvenanceSha256 = row.ProvenanceSha256 is null ? null : Digest(row.ProvenanceSha256),
                ManifestSha256 = Digest(row.ManifestSha256),
                ArchiveBytes = row.ArchiveBytes,
                TufVersions = JsonSerializer.Deserialize(row.TufVersionsJson, ImportJson.Default.IReadOnlyDictionaryStringInt32) ?? new Dictionary<string, int>(),
                Reasons = JsonSerializer.Deserialize(row.ReasonsJson, ImportJson.Default.IReadOnlyListString) ?? [],
                Received = row.Received,
                Verified = row.Verified,
                Decided = row.Decided,
                DecidedBy = row.DecidedBy,
                Folder = row.Folder,
                RequiredApprovals = _options.ApprovalsFor(row.Kind),
                Targets = [.. _store.Targets(row.Id).Select(t => new ImportedTarget { Path = t.Path, RelativePath = t.Path[prefix.Length..], Type = t.Type, Sha256 = Digest(t.Sha256), Length = t.Length })],
                Approvers = _store.Approvers(row.Id),
            });
        }

        return records;
    }

    private string? QuarantineOf(string id) => _store.Quarantine(id);

    /// <summary>
    /// The file of an import's SBOM attestation: in quarantine while it awaits approval, in its folder once activated;
    /// null when it carries none, was rejected, or its quarantine is gone. Read-only use (findings shown to approvers).
    /// </summary>
    public string? SbomFile(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (Get(id) is not { } record || record.Targets.FirstOrDefault(t => t.Type == "sbom") is not { } sbom)
        {
            return null;
        }

        string? path = record.State switch
        {
            ImportState.Activated when record.Folder is not null => Path.Combine(record.Folder, sbom.RelativePath.Replace('/', Path.DirectorySeparatorChar)),
            ImportState.Verified when QuarantineOf(id) is { } quarantine => QuarantinedFiles(id, quarantine).GetValueOrDefault(sbom.Path),
            _ => null,
        };
        return path is not null && File.Exists(path) ? path : null;
    }

    private Dictionary<string, string> QuarantinedFiles(string id, string quarantine)
    {
        var root = Path.GetFullPath(quarantine) + Path.DirectorySeparatorChar;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var target in _store.Targets(id))
        {
            var full = Path.GetFullPath(Path.Combine(root, target.Quarantined));
            if (full.StartsWith(root, StringComparison.Ordinal))
            {
                files[target.Path] = full;
            }
        }

        return files;
    }

    private static Sha256Digest Digest(string hex) =>
        Sha256Digest.TryParseHex(hex, out var digest) ? digest : throw new InvalidDataException($"the airlock tables hold a malformed digest '{hex}'");

    private static string StateText(ImportState state) => state.ToString().ToLowerInvariant();

    // ------------------------------------------------------------------------------------------------------------
    // Ledger

    private async Task AppendAsync(AuditEventType type, string actor, string subject, JsonObject details, CancellationToken cancellationToken)
    {
        await _ledger.AppendAsync(AuditEvent.Create(type, _clock.GetUtcNow(), actor, subject, details), cancellationToken).ConfigureAwait(false);
    }

    // For entries written on a failure path: the original failure is what the caller must see.
    private async Task TryAppendAsync(AuditEventType type, string actor, string subject, JsonObject details)
    {
        try
        {
            await AppendAsync(type, actor, subject, details, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The ledger itself may be what failed; the caller gets the original error either way.
        }
    }

    private static JsonObject VerifiedDetails(ImportRecord record)
    {
        var details = new JsonObject
        {
            ["kind"] = record.Kind,
            ["name"] = record.Name,
            ["version"] = record.Version,
            ["label"] = record.Label,
            ["task"] = record.Task,
            ["manifest_sha256"] = record.ManifestSha256.ToHex(),
            ["target_count"] = record.Targets.Count,
            ["signer_key_ids"] = new JsonArray([.. record.SignerKeyIds.Select(k => (JsonNode?)k)]),
            ["sbom_sha256"] = record.SbomSha256?.ToHex(),
            ["provenance_sha256"] = record.ProvenanceSha256?.ToHex(),
            ["archive_bytes"] = record.ArchiveBytes,
            ["tuf_versions"] = new JsonObject([.. record.TufVersions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))]),
            ["required_approvals"] = record.RequiredApprovals,
        };
        if (record.Targets.Count <= MaxTargetsInLedgerEntry && record.Targets.Sum(t => t.Path.Length) < 16 * 1024)
        {
            details["targets"] = new JsonArray([.. record.Targets.Select(t => (JsonNode?)new JsonObject
            {
                ["path"] = t.Path,
                ["type"] = t.Type,
                ["sha256"] = t.Sha256.ToHex(),
                ["length"] = t.Length,
            })]);
        }

        return details;
    }

    private static JsonObject ApprovedDetails(ImportRecord record, int approvals) => new()
    {
        ["manifest_sha256"] = record.ManifestSha256.ToHex(),
        ["approvals"] = approvals,
        ["required_approvals"] = record.RequiredApprovals,
    };

    private static JsonObject ActivatedDetails(ImportRecord record) => new()
    {
        ["kind"] = record.Kind,
        ["name"] = record.Name,
        ["version"] = record.Version,
        ["label"] = record.Label,
        ["task"] = record.Task,
        ["manifest_sha256"] = record.ManifestSha256.ToHex(),
        ["approvers"] = new JsonArray([.. record.Approvers.Select(a => (JsonNode?)a)]),
        ["folder"] = $"{ArtifactsFolderName}/{record.Kind}/{record.Name}/{record.Version}",
    };

    private static JsonObject RejectedDetails(Exception e, BundleSelector? selector)
    {
        var details = new JsonObject();
        switch (e)
        {
            case ImportRejectedException rejected:
                details["stage"] = Stage(rejected.Reason);
                details["reason"] = rejected.Code;
                details["detail"] = Short(rejected.Detail);
                if (rejected.Findings.Count > 0)
                {
                    details["findings"] = new JsonArray([.. rejected.Findings.Take(MaxFindingsInLedgerEntry).Select(f => (JsonNode?)Short(f, 500))]);
                }

                break;
            case OperationCanceledException:
                details["stage"] = "import";
                details["reason"] = "cancelled";
                details["detail"] = "the import was cancelled";
                break;
            default:
                details["stage"] = "storage";
                details["reason"] = "internal-error";
                details["detail"] = Short($"{e.GetType().Name}: {e.Message}");
                break;
        }

        if (selector is not null)
        {
            details["kind"] = selector.Kind;
            details["name"] = selector.Name;
            details["version"] = selector.Version;
        }

        return details;
    }

    private static string Stage(ImportRejection reason) => reason switch
    {
        ImportRejection.Tuf or ImportRejection.NotPinned => "tuf",
        ImportRejection.Bundle => "bundle",
        ImportRejection.ContentScan or ImportRejection.Attestation or ImportRejection.ModelTask => "scan",
        _ => "selector",
    };

    private static string Short(string text, int max = 2000) => ArtifactNames.Printable(text, max);

    private static string Describe(BundleSelector selector) =>
        $"{selector.Kind} {ArtifactNames.Printable(selector.Name)} {ArtifactNames.Printable(selector.Version)}";

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

    private sealed record PlannedTarget(TargetFile Target, string RelativePath, string Type, Sha256Digest Sha256);

    private sealed record ImportPlan(
        BundleSelector Selector,
        Updater Updater,
        IReadOnlyList<PlannedTarget> Targets,
        string Label,
        string? Task,
        IReadOnlyList<string> SignerKeyIds,
        IReadOnlyDictionary<string, ExpectedEntry> Expected);

    // The caller owns a stream it passes in; the reader disposes what it is given.
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, int>))]
internal sealed partial class ImportJson : System.Text.Json.Serialization.JsonSerializerContext;
