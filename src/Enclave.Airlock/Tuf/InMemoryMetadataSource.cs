namespace Enclave.Airlock.Tuf;

/// <summary>
/// Metadata already read into memory, e.g. the metadata entries of a bundle, keyed by the same file names as
/// <see cref="DirectoryMetadataSource"/> (<c>timestamp.json</c>, <c>2.root.json</c>, percent-encoded role names).
/// </summary>
public sealed class InMemoryMetadataSource : ITufMetadataSource
{
    private readonly IReadOnlyDictionary<string, byte[]> _files;

    /// <summary>Serves <paramref name="files"/>.</summary>
    public InMemoryMetadataSource(IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        _files = files;
    }

    /// <inheritdoc />
    public byte[]? Fetch(string role, int? version, long maxLength) =>
        _files.TryGetValue(DirectoryMetadataSource.FileName(role, version), out var bytes) ? bytes : null;
}
