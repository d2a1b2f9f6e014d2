namespace Enclave.Airlock.Scanners;

/// <summary>
/// Inspects one quarantined file. Scanners are tripwires, not guarantees: they refuse what is known to be
/// dangerous or malformed, and they fail closed (a file they cannot parse is rejected, not passed).
/// </summary>
public interface IContentScanner
{
    /// <summary>Short name for reports and the ledger, e.g. <c>pickle</c>.</summary>
    string Name { get; }

    /// <summary>Whether this scanner should look at <paramref name="path"/> (by extension or leading bytes).</summary>
    bool Applies(string path);

    /// <summary>Scans the file, streaming and within the configured bounds.</summary>
    ScanResult Scan(string path, CancellationToken cancellationToken = default);
}
