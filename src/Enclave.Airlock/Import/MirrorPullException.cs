namespace Enclave.Airlock.Import;

/// <summary>
/// The mirror could not be read: unreachable, an HTTP error other than 404/403, a transfer that broke off or stalled.
/// Nothing about the mirror's content was judged (a mirror that serves bad content is refused by the import's
/// verification, as an <see cref="ImportRejectedException"/>); nothing was imported.
/// </summary>
public sealed class MirrorPullException : Exception
{
    /// <summary>Creates the failure for <paramref name="url"/>.</summary>
    public MirrorPullException(Uri url, string detail, Exception? innerException = null)
        : base($"the mirror failed: {detail}; nothing was imported", innerException)
    {
        ArgumentNullException.ThrowIfNull(url);
        Url = url;
        Detail = detail;
    }

    /// <summary>The URL that failed.</summary>
    public Uri Url { get; }

    /// <summary>What went wrong, for a person.</summary>
    public string Detail { get; }
}
