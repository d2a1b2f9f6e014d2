namespace Enclave.Core.Audit;

/// <summary>Storage failed while appending; the entries named were not appended.</summary>
public sealed class LedgerWriteException : Exception
{
    public LedgerWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LedgerWriteException()
    {
    }

    public LedgerWriteException(string message)
        : base(message)
    {
    }
}
