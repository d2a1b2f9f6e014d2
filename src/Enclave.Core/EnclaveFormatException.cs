namespace Enclave.Core;

/// <summary>Untrusted input was malformed: a parse error, a bound exceeded, a schema violated.</summary>
public sealed class EnclaveFormatException : Exception
{
    public EnclaveFormatException()
    {
    }

    public EnclaveFormatException(string message)
        : base(message)
    {
    }

    public EnclaveFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
