using Enclave.Core;

namespace Enclave.Ledger;

/// <summary>The data directory holds no ledger, or not the part of it asked for (its signing key, a checkpoint).</summary>
public sealed class LedgerNotFoundException : Exception, IEnclaveError<LedgerError>
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

    /// <summary>Always <see cref="LedgerError.NotFound"/>.</summary>
    public LedgerError Reason => LedgerError.NotFound;
}
