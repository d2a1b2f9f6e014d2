namespace Enclave.Airlock.Tuf;

/// <summary>
/// A repository could not be read: a network error, a time limit, or an HTTP status other than success, 403 or 404.
/// Nothing read was trusted.
/// </summary>
public sealed class TufFetchException : IOException
{
    /// <summary>Creates the exception.</summary>
    public TufFetchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public TufFetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
