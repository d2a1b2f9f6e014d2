namespace Enclave.Ledger;

/// <summary>The data directory holds no ledger.</summary>
public sealed class LedgerNotFoundException : Exception
{
    public LedgerNotFoundException(string dataDirectory)
        : base($"no ledger in '{dataDirectory}': create one with 'enclave ledger init --data {dataDirectory}'")
    {
    }

    public LedgerNotFoundException()
    {
    }

    public LedgerNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
