namespace Enclave.Airlock.Import;

/// <summary>Pulling an artifact from a mirror inside the enclave through the same verification as a bundle from media.</summary>
public static class AirlockMirrorPull
{
    /// <summary>
    /// Pulls (<paramref name="kind"/>, <paramref name="name"/>, <paramref name="version"/>) from the TUF repository
    /// mirror at <paramref name="mirror"/> (<see cref="MirrorBundleSource"/>) and imports it with
    /// <see cref="AirlockImporter.ImportAsync(Stream, string, IProgress{long}?, CancellationToken)"/>: the result is an
    /// <see cref="ImportRecord"/> in state <see cref="ImportState.Verified"/>, or the same
    /// <see cref="ImportRejectedException"/> a bundle from media would get (a target the mirror does not have, or
    /// sends with a length other than listed, is a <c>missing-entry</c> or <c>length-mismatch</c> rejection). An
    /// unreachable or failing mirror is a <see cref="MirrorPullException"/>. <paramref name="labelProblem"/>: as for
    /// <see cref="AirlockImporter.ImportAsync(Stream, string, Func{string, string?}?, IProgress{long}?, CancellationToken)"/>. Either way nothing changes but the ledger.
    /// </summary>
    public static async Task<ImportRecord> PullAsync(
        this AirlockImporter importer,
        Uri mirror,
        string kind,
        string name,
        string version,
        string actor,
        HttpClient? client = null,
        IProgress<long>? progress = null,
        Func<string, string?>? labelProblem = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(importer);
        using var source = new MirrorBundleSource(mirror, client, importer.Options.Tuf, maxTargets: importer.Options.Bundle.MaxEntries);
        var trustedRoot = importer.TrustStore.Load()?.Root.Version ?? 0;
        await using var bundle = await source.OpenAsync(kind, name, version, trustedRoot, cancellationToken).ConfigureAwait(false);
        return await importer.ImportAsync(bundle.Stream, actor, labelProblem, progress, cancellationToken).ConfigureAwait(false);
    }
}
