using Enclave.Core.Audit;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.State.Vulnerabilities;

namespace Enclave.Intel.Upgrades;

/// <summary>
/// Enclave upgrades from activated <c>update</c> bundles: <see cref="StageAsync"/> installs a release beside the current
/// one and shows which open vulnerability findings it resolves (the staged release's SBOM against the running one's, over
/// the data in the enclave), <see cref="ApplyAsync"/> makes it current, <see cref="RollbackAsync"/> returns to the
/// previous release. Each step is a ledger entry (<c>upgrade.staged</c>, <c>upgrade.applied</c>,
/// <c>upgrade.rolled_back</c>, or <c>upgrade.failed</c> with the reason); a step that fails leaves the current release as
/// it was. The steps are serialised: one at a time.
/// </summary>
public sealed class UpgradeService
{
    private readonly ReleaseInstaller _installer;
    private readonly Func<IReadOnlyList<UpdateArtifact>> _updates;
    private readonly VulnerabilityFindingsService? _findings;
    private readonly ILedger _ledger;
    private readonly TimeProvider _clock;
    private readonly EnclaveSbom? _running;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Upgrades in <paramref name="installer"/>'s root from the update bundles <paramref name="updates"/> lists.</summary>
    /// <param name="installer">The install root.</param>
    /// <param name="updates">The activated <c>update</c> bundles (the airlock's registry).</param>
    /// <param name="findings">The vulnerability view (null: resolved findings are not computed).</param>
    /// <param name="ledger">Where each step is recorded.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="running">The running release's version and SBOM (null: taken from the install root's current release).</param>
    public UpgradeService(ReleaseInstaller installer, Func<IReadOnlyList<UpdateArtifact>> updates, VulnerabilityFindingsService? findings, ILedger ledger, TimeProvider clock, EnclaveSbom? running = null)
    {
        ArgumentNullException.ThrowIfNull(installer);
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(clock);
        _installer = installer;
        _updates = updates;
        _findings = findings;
        _ledger = ledger;
        _clock = clock;
        _running = running;
    }

    /// <summary>The install root.</summary>
    public ReleaseInstaller Installer => _installer;

    /// <summary>What is running, installed, staged and available, and what the staged release resolves.</summary>
    public UpgradeStatus Status()
    {
        var staged = _installer.Staged;
        var updates = _updates();
        return new UpgradeStatus
        {
            InstallRoot = _installer.Root,
            Running = _running?.Version ?? _installer.Current?.Version,
            Current = _installer.Current,
            Previous = _installer.Previous,
            Staged = staged,
            Installed = _installer.Installed(),
            Available = [.. updates.OrderByDescending(u => u.Activated)],
            Comparison = staged is null ? null : Compare(staged),
        };
    }

    /// <summary>
    /// Installs the activated update of <paramref name="version"/> (or of import <paramref name="importId"/>) as the staged
    /// release and records <c>upgrade.staged</c> with the findings it resolves.
    /// </summary>
    /// <exception cref="UpgradeException">Not found, no SBOM, tampered, self-check failed, disk error (recorded as <c>upgrade.failed</c>).</exception>
    public async Task<StageResult> StageAsync(string? version, string? importId, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var wanted = version ?? importId ?? "";
            try
            {
                var artifact = Find(version, importId);
                if (artifact.SbomPath is null)
                {
                    throw new UpgradeException(UpgradeFailure.NoSbom, $"update {artifact.Version} ({artifact.ImportId}) carries no SBOM attestation, so what it fixes cannot be shown; build the bundle with 'enclave bundle create --kind update --sbom PUBLISH/enclave.cdx.json ...'; nothing was staged");
                }

                var release = _installer.Stage(artifact, cancellationToken);
                var comparison = Compare(release);
                var index = await _ledger.AppendAsync(
                    AuditEvent.Create(_clock.GetUtcNow(), actor, "release:" + release.Version, new UpgradeStagedDetails
                    {
                        Version = release.Version,
                        ImportId = artifact.ImportId,
                        Name = artifact.Name,
                        Files = artifact.Files.Count,
                        Bytes = artifact.Files.Sum(f => f.Length),
                        Running = _running?.Version ?? _installer.Current?.Version,
                        Data = comparison.Data is { } d ? (d.HasData ? (d.Stale ? "stale" : "fresh") : "no-data") : null,
                        Resolves = Ids(comparison.Resolves),
                        Introduces = Ids(comparison.Introduces),
                    }),
                    cancellationToken).ConfigureAwait(false);
                return new StageResult(release, comparison, index);
            }
            catch (UpgradeException e)
            {
                await FailedAsync("stage", wanted, e, actor).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Makes the staged release current (after checking its files against the airlock's digests again and its self-check),
    /// keeping the one that was current as <c>previous</c>; records <c>upgrade.applied</c>. <paramref name="version"/>,
    /// when given, must be the staged version.
    /// </summary>
    /// <exception cref="UpgradeException">Nothing staged, another version staged, tampered, self-check failed, disk error.</exception>
    public async Task<SwitchResult> ApplyAsync(string? version, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var staged = _installer.Staged;
            try
            {
                if (staged is null)
                {
                    throw new UpgradeException(UpgradeFailure.NothingStaged, "no release is staged; stage one first ('enclave upgrade stage VERSION'); the current release is unchanged");
                }

                if (version is not null && version != staged.Version)
                {
                    throw new UpgradeException(UpgradeFailure.NotStaged, $"release {version} is not staged (staged: {staged.Version}); the current release is unchanged");
                }

                var comparison = Compare(staged);
                return await SwitchAsync(staged, actor, (before, release, root) => new UpgradeAppliedDetails { From = before, To = release.Version, ImportId = release.ImportId, InstallRoot = root, Resolves = Ids(comparison.Resolves) }, cancellationToken).ConfigureAwait(false);
            }
            catch (UpgradeException e)
            {
                await FailedAsync("apply", version ?? staged?.Version ?? "", e, actor).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Makes the previous release current again (checked as in <see cref="ApplyAsync"/>); records <c>upgrade.rolled_back</c>.</summary>
    /// <exception cref="UpgradeException">No previous release, tampered, self-check failed, disk error.</exception>
    public async Task<SwitchResult> RollbackAsync(string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = _installer.Previous;
            try
            {
                if (previous is null)
                {
                    throw new UpgradeException(UpgradeFailure.NoPrevious, "there is no previous release to roll back to; the current release is unchanged");
                }

                return await SwitchAsync(previous, actor, (before, release, root) => new UpgradeRolledBackDetails { From = before, To = release.Version, ImportId = release.ImportId, InstallRoot = root }, cancellationToken).ConfigureAwait(false);
            }
            catch (UpgradeException e)
            {
                await FailedAsync("rollback", previous?.Version ?? "", e, actor).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // Verify, self-check, switch the links (the commit point), then the ledger entry; a ledger that cannot record it
    // undoes the switch, so no release becomes current unrecorded.
    private async Task<SwitchResult> SwitchAsync<TDetails>(InstalledRelease release, string actor, Func<string?, InstalledRelease, string, TDetails> details, CancellationToken cancellationToken)
        where TDetails : class, IAuditDetails
    {
        var artifact = _updates().FirstOrDefault(u => u.ImportId == release.ImportId && u.Version == release.Version)
            ?? throw new UpgradeException(UpgradeFailure.Tampered, $"release {release.Version} in {release.Path} names no activated update bundle (import '{release.ImportId ?? "(none)"}'), so its files cannot be checked; stage it again from its bundle");
        ReleaseInstaller.Verify(release, ReleaseInstaller.Expected(artifact, cancellationToken), cancellationToken);
        _ = _installer.SelfCheck(release.Path, release.Version, cancellationToken);
        var previous = _installer.Previous;
        var before = _installer.SwitchTo(release);
        long index;
        try
        {
            var entry = AuditEvent.Create(_clock.GetUtcNow(), actor, "release:" + release.Version, details(before?.Version, release, _installer.Root));
            index = await _ledger.AppendAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _installer.Restore(before, previous);
            throw;
        }

        return new SwitchResult(before, release, index);
    }

    private UpdateArtifact Find(string? version, string? importId)
    {
        if ((version is null) == (importId is null))
        {
            throw new UpgradeException(UpgradeFailure.NotFound, "name the update by its version or by its import ID (one of them); nothing was staged");
        }

        var updates = _updates();
        var matches = updates.Where(u => importId is not null ? u.ImportId == importId : u.Version == version).OrderByDescending(u => u.Activated).ToList();
        return matches.Count > 0
            ? matches[0]
            : throw new UpgradeException(UpgradeFailure.NotFound, $"no activated update bundle {(importId is not null ? "from import " + importId : "of version " + version)} (activated updates: {(updates.Count == 0 ? "none" : string.Join(", ", updates.Select(u => u.Version)))}); import it with 'enclave airlock import' and approve it first; nothing was staged");
    }

    /// <summary>
    /// The open findings of the running release that <paramref name="release"/> no longer has (same advisory, same package),
    /// and those it would bring, over the vulnerability data now in the enclave (VEX decisions for <c>enclave</c> applied).
    /// </summary>
    public UpgradeComparison Compare(InstalledRelease release)
    {
        ArgumentNullException.ThrowIfNull(release);
        if (_findings is null)
        {
            return new UpgradeComparison { Data = null, Resolves = null, Introduces = null, Problem = "the vulnerability view is not part of this host" };
        }

        var freshness = _findings.Freshness();
        var running = RunningSbom();
        var stagedSbom = new[] { ".attestations/sbom.cdx.json", ".attestations/sbom.spdx.json" }.Select(p => Path.Combine(release.Path, p)).FirstOrDefault(File.Exists);
        if (!freshness.HasData || running is null || stagedSbom is null)
        {
            return new UpgradeComparison
            {
                Data = freshness,
                Resolves = null,
                Introduces = null,
                Problem = !freshness.HasData ? freshness.Describe() : running is null ? "the running release's SBOM is not known" : $"release {release.Version} has no SBOM",
            };
        }

        try
        {
            var before = _findings.Preview(running, "running", VulnerabilityFindingsService.EnclaveInventoryId).Findings.Where(f => VulnerabilityFindingsService.IsOpen(f.Status)).ToList();
            var after = _findings.Preview(File.ReadAllBytes(stagedSbom), release.Version, VulnerabilityFindingsService.EnclaveInventoryId).Findings.Where(f => VulnerabilityFindingsService.IsOpen(f.Status)).ToList();
            var afterKeys = after.Select(Key).ToHashSet();
            var beforeKeys = before.Select(Key).ToHashSet();
            return new UpgradeComparison
            {
                Data = freshness,
                Resolves = [.. before.Where(f => !afterKeys.Contains(Key(f))).OrderBy(f => f.AdvisoryId, StringComparer.Ordinal)],
                Introduces = [.. after.Where(f => !beforeKeys.Contains(Key(f))).OrderBy(f => f.AdvisoryId, StringComparer.Ordinal)],
            };
        }
        catch (Exception e) when (e is VulnerabilityDataException or IOException or UnauthorizedAccessException)
        {
            return new UpgradeComparison { Data = freshness, Resolves = null, Introduces = null, Problem = "the SBOMs could not be compared: " + e.Message };
        }
    }

    private byte[]? RunningSbom()
    {
        if (_running is not null)
        {
            return _running.Document;
        }

        var current = _installer.Current;
        var path = current is null ? null : new[] { ".attestations/sbom.cdx.json", "enclave.cdx.json" }.Select(p => Path.Combine(current.Path, p)).FirstOrDefault(File.Exists);
        return path is null ? null : File.ReadAllBytes(path);
    }

    // A finding's identity across releases: the advisory and the package (the purl without its version).
    private static (string Advisory, string Package) Key(FindingRow f)
    {
        var purl = f.Purl ?? f.Component;
        var at = purl.IndexOf('@', StringComparison.Ordinal);
        return (f.AdvisoryId, at < 0 ? purl : purl[..at]);
    }

    private static IReadOnlyList<string>? Ids(IReadOnlyList<FindingRow>? findings) =>
        findings is null ? null : [.. findings.Select(f => f.AdvisoryId).Distinct(StringComparer.Ordinal).Take(200)];

    private async Task FailedAsync(string step, string version, UpgradeException e, string actor)
    {
        try
        {
            await _ledger.AppendAsync(
                AuditEvent.Create(_clock.GetUtcNow(), actor, "release:" + (version.Length == 0 ? "(none)" : version), new UpgradeFailedDetails
                {
                    Step = step,
                    Version = version.Length == 0 ? null : version,
                    Reason = e.Code,
                    Error = e.Message.Length <= 1000 ? e.Message : e.Message[..1000] + "…",
                    Current = _installer.Current?.Version,
                }),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ledger) when (ledger is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The step failed and changed nothing; the caller still gets its error.
        }
    }
}

/// <summary>The state of the install root and of the updates in the enclave.</summary>
public sealed record UpgradeStatus
{
    public required string InstallRoot { get; init; }

    /// <summary>The version this process runs.</summary>
    public required string? Running { get; init; }

    public required InstalledRelease? Current { get; init; }

    public required InstalledRelease? Previous { get; init; }

    public required InstalledRelease? Staged { get; init; }

    public required IReadOnlyList<InstalledRelease> Installed { get; init; }

    /// <summary>Activated update bundles, newest first.</summary>
    public required IReadOnlyList<UpdateArtifact> Available { get; init; }

    /// <summary>What the staged release changes, when one is staged.</summary>
    public required UpgradeComparison? Comparison { get; init; }
}

/// <summary>A release compared with the running one: the open findings it resolves and those it introduces (null when they cannot be known, with <see cref="Problem"/>).</summary>
public sealed record UpgradeComparison
{
    public required DataFreshness? Data { get; init; }

    public required IReadOnlyList<FindingRow>? Resolves { get; init; }

    public required IReadOnlyList<FindingRow>? Introduces { get; init; }

    public string? Problem { get; init; }
}

/// <summary>A staged release, what it changes, and the ledger index of <c>upgrade.staged</c>.</summary>
public sealed record StageResult(InstalledRelease Release, UpgradeComparison Comparison, long LedgerIndex);

/// <summary>A switch of the current release: from, to, and the ledger index of its entry.</summary>
public sealed record SwitchResult(InstalledRelease? From, InstalledRelease To, long LedgerIndex);
