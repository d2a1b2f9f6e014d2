namespace Enclave.Airlock.Tuf;

/// <summary>
/// Supplies untrusted metadata: a bundle file, a directory or an HTTP mirror. Nothing it returns is trusted
/// until the <see cref="Updater"/> verifies it.
/// </summary>
public interface ITufMetadataSource
{
    /// <summary>
    /// Returns the bytes of <c>ROLE.json</c> (<paramref name="version"/> null) or <c>VERSION.ROLE.json</c>,
    /// or null when the source does not have it. A source should stop reading after
    /// <paramref name="maxLength"/> + 1 bytes; the updater rejects anything longer.
    /// </summary>
    byte[]? Fetch(string role, int? version, long maxLength);
}
